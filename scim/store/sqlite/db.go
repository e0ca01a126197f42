// Package sqlite is the embedded shadow-directory backend on
// modernc.org/sqlite (pure Go, no cgo): WAL mode, one writer that commits
// concurrent writes together, and a pool of read-only connections.
package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"runtime"
	"sync"
	"time"

	"modernc.org/sqlite"

	"github.com/scimbridge/scimbridge/scim/store"
)

// Options tune Open. The zero value is a sensible default.
type Options struct {
	// Readers is the size of the read connection pool (default 2×GOMAXPROCS, at least 4).
	Readers int
	// Logger receives errors that have no caller to return to (default:
	// slog.Default()).
	Logger *slog.Logger
	// CheckpointInterval is how often the write-ahead log is copied into
	// the database file in the background (default 200 ms).
	CheckpointInterval time.Duration
}

// DB is the SQLite shadow directory. It implements store.Store.
type DB struct {
	read   *sql.DB
	write  *sql.DB
	rstmt  *stmtCache
	writer *writer
	ckpt   *checkpointer
	reader

	closeOnce sync.Once
	closeErr  error
}

var _ store.Store = (*DB)(nil)

// Open opens (creating if needed) the database at path and applies the
// schema migrations.
func Open(ctx context.Context, path string, opts Options) (*DB, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Readers <= 0 {
		opts.Readers = max(4, 2*runtime.GOMAXPROCS(0))
	}
	if opts.CheckpointInterval <= 0 {
		opts.CheckpointInterval = 200 * time.Millisecond
	}
	// The file holds personal data and token hashes: a new one is made
	// readable by its owner only, and SQLite gives its -wal and -shm
	// files the same mode. An existing file keeps the mode it has.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	}
	drv, err := newDriver()
	if err != nil {
		return nil, err
	}
	// synchronous=FULL: a commit that returned is on disk, even if the
	// machine loses power. Group commit keeps the fsync cost per request low.
	common := url.Values{}
	common.Add("_pragma", "busy_timeout(10000)")
	common.Add("_pragma", "foreign_keys(1)")
	common.Add("_pragma", "synchronous(FULL)")
	common.Add("_pragma", "temp_store(MEMORY)")

	wq := url.Values{}
	for k, v := range common {
		wq[k] = append([]string(nil), v...)
	}
	// Page caches count towards the process's memory: 16 MiB for the
	// writer, 4 MiB per reader. The kernel's page cache holds the rest of
	// the file for them.
	wq.Add("_pragma", "journal_mode(WAL)")
	wq.Add("_pragma", "cache_size(-16384)")
	// The checkpointer copies the log into the database file in the
	// background; left to SQLite, the commit that fills the log does it,
	// and the requests in that commit wait for it. A log that was reset
	// is cut back to 64 MiB.
	wq.Add("_pragma", "wal_autocheckpoint(0)")
	wq.Add("_pragma", "journal_size_limit(67108864)")
	wq.Set("_txlock", "immediate")
	write := sql.OpenDB(connector{drv: drv, dsn: dsn(path, wq)})
	conn, err := write.Conn(ctx)
	if err != nil {
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := conn.PingContext(ctx); err != nil {
		conn.Close()
		write.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}

	rq := common
	rq.Add("_pragma", "cache_size(-4096)")
	rq.Set("_query_only", "1")
	read := sql.OpenDB(connector{drv: drv, dsn: dsn(path, rq)})
	read.SetMaxOpenConns(opts.Readers)
	read.SetMaxIdleConns(opts.Readers)
	read.SetConnMaxIdleTime(0)
	read.SetConnMaxLifetime(0)
	if err := read.PingContext(ctx); err != nil {
		write.Close()
		read.Close()
		return nil, fmt.Errorf("open %s for reading: %w", path, err)
	}

	db := &DB{
		read:   read,
		write:  write,
		rstmt:  newStmtCache(read),
		writer: startWriter(conn, opts.Logger),
	}
	db.reader = reader{q: poolQuerier{cache: db.rstmt}}
	if err := Migrate(ctx, db, "scim", migrations); err != nil {
		db.Close()
		return nil, err
	}
	// On a connection of the write pool, apart from the writer's own, so
	// that checkpoints and writes run side by side.
	db.ckpt = startCheckpointer(write, opts.CheckpointInterval, opts.Logger)
	return db, nil
}

func dsn(path string, q url.Values) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("ping: %w", err)
	}
	return nil
}

// Close stops the writer after the writes already queued and closes the
// connections.
func (db *DB) Close() error {
	db.closeOnce.Do(func() {
		if db.ckpt != nil {
			db.ckpt.stop()
		}
		db.writer.stop()
		db.rstmt.close()
		db.closeErr = errors.Join(db.read.Close(), db.write.Close())
	})
	return db.closeErr
}

// newDriver returns a driver of our own, so that the SQL functions
// scimbridge registers stay off the process-wide "sqlite" driver.
func newDriver() (*sqlite.Driver, error) {
	drv := &sqlite.Driver{}
	err := drv.RegisterDeterministicScalarFunction("scim_fold", 1,
		func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
			switch v := args[0].(type) {
			case string:
				return store.Fold(v), nil
			case []byte:
				return store.Fold(string(v)), nil
			default:
				return v, nil
			}
		})
	if err != nil {
		return nil, fmt.Errorf("register scim_fold: %w", err)
	}
	return drv, nil
}

type connector struct {
	drv *sqlite.Driver
	dsn string
}

func (c connector) Connect(context.Context) (driver.Conn, error) { return c.drv.Open(c.dsn) }
func (c connector) Driver() driver.Driver                        { return c.drv }
