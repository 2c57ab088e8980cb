package mongo

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// backupLine is one line of a backup: a collection name and one document in canonical
// extended JSON, so every BSON type (dates, binary) round-trips exactly.
type backupLine struct {
	Collection string          `json:"c"`
	Document   json.RawMessage `json:"d"`
}

// Backup writes every collection of the database as JSON lines. It reads through the driver,
// so it works on MongoDB and on a running embedded store alike (copying SQLite files of a live
// store is not a backup). It returns the number of documents written.
func (db *DB) Backup(ctx context.Context, w io.Writer) (int, error) {
	names, err := db.r.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return 0, fail(err, "collections")
	}
	slices.Sort(names)
	names = slices.DeleteFunc(names, func(n string) bool { return n == colMeta }) // a restore migrates anew
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	n := 0
	for _, name := range names {
		cur, err := db.r.Collection(name).Find(ctx, bson.M{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
		if err != nil {
			return n, fail(err, name)
		}
		for cur.Next(ctx) {
			doc, err := bson.MarshalExtJSON(cur.Current, true, false)
			if err != nil {
				_ = cur.Close(ctx)
				return n, fmt.Errorf("backup: %s: %w", name, err)
			}
			if err := enc.Encode(backupLine{Collection: name, Document: doc}); err != nil {
				_ = cur.Close(ctx)
				return n, fmt.Errorf("backup: %w", err)
			}
			n++
		}
		if err := cur.Err(); err != nil {
			return n, fail(err, name)
		}
		_ = cur.Close(ctx)
	}
	return n, bw.Flush()
}

// Restore loads a backup into an empty database (it refuses to mix a backup into live data)
// and recreates the indexes. It returns the number of documents loaded.
func (db *DB) Restore(ctx context.Context, r io.Reader) (int, error) {
	names, err := db.r.ListCollectionNames(ctx, bson.M{})
	if err != nil {
		return 0, fail(err, "collections")
	}
	for _, name := range names {
		if name == colMeta {
			continue // what migrations ran on the empty store: about no data
		}
		if c, err := db.r.Collection(name).EstimatedDocumentCount(ctx); err == nil && c > 0 {
			return 0, fmt.Errorf("restore: the database is not empty (collection %s has documents); restore into a new data folder or database", name)
		}
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 32*1024*1024)
	batch := map[string][]any{}
	n := 0
	flush := func() error {
		for col, docs := range batch {
			if len(docs) == 0 {
				continue
			}
			if _, err := db.w.Collection(col).InsertMany(ctx, docs); err != nil {
				return fail(err, col)
			}
			n += len(docs)
			batch[col] = docs[:0]
		}
		return nil
	}
	line := 0
	pending := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var bl backupLine
		if err := json.Unmarshal(sc.Bytes(), &bl); err != nil || bl.Collection == "" {
			return n, fmt.Errorf("restore: line %d is not a backup line", line)
		}
		var doc bson.D
		if err := bson.UnmarshalExtJSON(bl.Document, true, &doc); err != nil {
			return n, fmt.Errorf("restore: line %d: %w", line, err)
		}
		batch[bl.Collection] = append(batch[bl.Collection], doc)
		if pending++; pending >= 500 {
			if err := flush(); err != nil {
				return n, err
			}
			pending = 0
		}
	}
	if err := sc.Err(); err != nil {
		return n, fmt.Errorf("restore: %w", err)
	}
	if err := flush(); err != nil {
		return n, err
	}
	// The backup may come from an earlier version: its data gets every migration (they are
	// idempotent, so data of this version passes through unchanged).
	if _, err := db.w.Collection(colMeta).DeleteMany(ctx, bson.M{}); err != nil {
		return n, fail(err, colMeta)
	}
	return n, db.EnsureIndexes(ctx)
}
