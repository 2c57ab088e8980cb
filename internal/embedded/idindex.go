package embedded

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // the driver FerretDB's SQLite backend uses too
)

// FerretDB v1.24's SQLite backend looks documents up by _id with
// `WHERE _ferretdb_sjson->'$._id' = ?` but indexes _id as `_ferretdb_sjson->"_id"`: SQLite
// does not see they are the same expression, so every look-up by _id scans the whole table
// (38 ms at 14,000 guests, measured; 0.01 ms with the index below). The store adds an index
// on the expression the queries use to every collection's table: at start, after the app
// made its collections, and every indexEvery for collections made since. FerretDB does not
// know these indexes (they are not in its metadata) and drops them with their tables.

const indexEvery = 10 * time.Second

// indexIDPaths adds the missing _id path indexes in every database file of dir.
func indexIDPaths(ctx context.Context, dir string) error {
	files, err := filepath.Glob(filepath.Join(dir, "*.sqlite"))
	if err != nil {
		return err
	}
	for _, f := range files {
		if err := indexFile(ctx, f); err != nil {
			if _, statErr := os.Stat(f); os.IsNotExist(statErr) {
				continue // the database was dropped meanwhile
			}
			return fmt.Errorf("embedded store: indexing %s: %w", filepath.Base(f), err)
		}
	}
	return nil
}

func indexFile(ctx context.Context, path string) error {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("mode", "rw") // never create a file: a dropped database stays dropped
	db, err := sql.Open("sqlite", (&url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}).String())
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	var known int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '_ferretdb_collections'`).Scan(&known); err != nil || known == 0 {
		return err // not (yet) a FerretDB database: nothing to index
	}
	rows, err := db.QueryContext(ctx, `SELECT t.table_name FROM _ferretdb_collections t
		WHERE NOT EXISTS (SELECT 1 FROM sqlite_master m WHERE m.type = 'index' AND m.name = t.table_name || '__id_path')`)
	if err != nil {
		return err
	}
	var tables []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		tables = append(tables, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, t := range tables {
		stmt := fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %q ON %q (_ferretdb_sjson->'$._id')`, t+"__id_path", t)
		if _, err := db.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// IndexIDs adds the _id path indexes now (call it after creating collections); the store also
// does it every few seconds for collections made later.
func (s *Store) IndexIDs(ctx context.Context) error {
	if s.dir == "" {
		return nil // PostgreSQL backend: its queries use its indexes
	}
	return indexIDPaths(ctx, s.dir)
}

func (s *Store) indexLoop(ctx context.Context) {
	t := time.NewTicker(indexEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := indexIDPaths(ctx, s.dir); err != nil && ctx.Err() == nil {
				s.log.Warn("indexing _id paths", "err", err)
			}
		}
	}
}
