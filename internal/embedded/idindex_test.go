package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Look-ups by _id use an index: without IndexIDs, SQLite scans the whole table for each.
func TestLookupsByIDUseAnIndex(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Start(ctx, Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	client, err := mongo.Connect(options.Client().ApplyURI(s.URI()))
	if err != nil {
		t.Fatal(err)
	}
	defer client.Disconnect(ctx)
	col := client.Database("idx").Collection("things")
	docs := make([]any, 200)
	for i := range docs {
		docs[i] = bson.M{"_id": fmt.Sprintf("t%03d", i), "n": i}
	}
	if _, err := col.InsertMany(ctx, docs); err != nil {
		t.Fatal(err)
	}
	plan := func() string {
		db, err := sql.Open("sqlite", filepath.Join(dir, "idx.sqlite"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var table string
		if err := db.QueryRowContext(ctx, `SELECT table_name FROM _ferretdb_collections WHERE name = 'things'`).Scan(&table); err != nil {
			t.Fatal(err)
		}
		var id, parent, unused int
		var detail string
		q := fmt.Sprintf(`EXPLAIN QUERY PLAN SELECT _ferretdb_sjson FROM %q WHERE _ferretdb_sjson->'$._id' = ?`, table)
		if err := db.QueryRowContext(ctx, q, `"t001"`).Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		return detail
	}
	if p := plan(); p[:4] != "SCAN" {
		t.Fatalf("before: %q (FerretDB may have fixed its _id index: then drop IndexIDs)", p)
	}
	for range 2 { // twice: the second finds nothing to do
		if err := s.IndexIDs(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if p := plan(); p[:6] != "SEARCH" {
		t.Fatalf("after: %q", p)
	}
	var got bson.M
	if err := col.FindOne(ctx, bson.M{"_id": "t150"}).Decode(&got); err != nil || got["n"] != int32(150) {
		t.Fatalf("find by _id: %v %v", got, err)
	}
	if _, err := col.InsertOne(ctx, bson.M{"_id": "t150"}); !mongo.IsDuplicateKeyError(err) {
		t.Fatalf("the unique _id still holds: %v", err)
	}
}
