package sqlite

import (
	"context"
	"database/sql"

	"github.com/scimbridge/scimbridge/scim/store"
)

// SQL runs statements against the database file for components that keep
// tables of their own in it (each with its own migrations, see Migrate),
// so that their writes commit in the same transaction as the shadow
// directory's.
type SQL interface {
	Exec(ctx context.Context, query string, args ...any) (sql.Result, error)
	Query(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) *sql.Row
}

// TxSQL returns the SQL of a transaction that Update of a *DB passed to
// its function; ok is false for a transaction of another backend.
func TxSQL(in store.Tx) (s SQL, ok bool) {
	t, ok := in.(*tx)
	if !ok {
		return nil, false
	}
	return sqlOf{t.q}, true
}

// ReadSQL runs read-only statements on the read pool.
func (db *DB) ReadSQL() SQL { return sqlOf{db.reader.q} }

type sqlOf struct{ q querier }

func (s sqlOf) Exec(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return s.q.exec(ctx, query, args...)
}

func (s sqlOf) Query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return s.q.query(ctx, query, args...)
}

func (s sqlOf) QueryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return s.q.queryRow(ctx, query, args...)
}
