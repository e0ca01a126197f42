package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"sync"

	"github.com/scimbridge/scimbridge/scim/store"
)

// maxBatch bounds how many writes share one commit.
const maxBatch = 128

// ErrClosed is returned by Update after Close.
var ErrClosed = errors.New("the database is closed")

// writer is the only goroutine that writes, on a connection of its own. It
// runs every queued write in its own savepoint and commits all writes that
// were waiting together: one fsync for the lot instead of one per request.
// A write that fails rolls back to its savepoint and the others still
// commit; if the commit itself fails, every write in the batch fails.
type writer struct {
	q    connQuerier
	log  interface{ Error(string, ...any) }
	jobs chan *job
	quit chan struct{}
	done chan struct{}
	once sync.Once
}

type job struct {
	ctx context.Context
	fn  func(*tx) error
	// bare, when set instead of fn, runs alone and outside any
	// transaction (see Pragma).
	bare   func(context.Context, *sql.Conn) error
	result chan error
}

func startWriter(conn *sql.Conn, log interface{ Error(string, ...any) }) *writer {
	w := &writer{
		q:    connQuerier{conn: conn, stmts: map[string]*sql.Stmt{}},
		log:  log,
		jobs: make(chan *job),
		quit: make(chan struct{}),
		done: make(chan struct{}),
	}
	go w.run()
	return w
}

// Update runs fn in a write transaction; see store.Store.
func (db *DB) Update(ctx context.Context, fn func(store.Tx) error) error {
	return db.writer.submit(ctx, func(t *tx) error { return fn(t) })
}

func (w *writer) submit(ctx context.Context, fn func(*tx) error) error {
	return w.enqueue(&job{ctx: ctx, fn: fn, result: make(chan error, 1)})
}

// Pragma runs a PRAGMA statement on the writer's connection, between
// transactions, for settings that only that connection's writes obey.
// Fault drills use it: PRAGMA max_page_count fills the disk and PRAGMA
// query_only makes the file read-only, as far as scimbridge's writes can
// tell, and lifting them undoes that.
func (db *DB) Pragma(ctx context.Context, pragma string) error {
	if len(pragma) < 7 || !strings.EqualFold(pragma[:7], "PRAGMA ") {
		return fmt.Errorf("not a PRAGMA statement: %q", pragma)
	}
	return db.writer.enqueue(&job{ctx: ctx, result: make(chan error, 1),
		bare: func(ctx context.Context, c *sql.Conn) error {
			if _, err := c.ExecContext(ctx, pragma); err != nil {
				return fmt.Errorf("%s: %w", pragma, err)
			}
			return nil
		}})
}

func (w *writer) enqueue(j *job) error {
	ctx := j.ctx
	select {
	case w.jobs <- j:
	case <-w.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, the job is waited for even if ctx ends: the caller must
	// learn whether its write committed.
	return <-j.result
}

// stop lets the writer finish the batch in hand, then ends it. Writes
// submitted later fail with ErrClosed.
func (w *writer) stop() {
	w.once.Do(func() { close(w.quit) })
	<-w.done
	for _, s := range w.q.stmts {
		s.Close()
	}
	w.q.conn.Close()
}

func (w *writer) run() {
	defer close(w.done)
	for {
		var next *job
		select {
		case next = <-w.jobs:
		case <-w.quit:
			return
		}
		for next != nil {
			if next.bare != nil {
				next.result <- next.bare(context.WithoutCancel(next.ctx), w.q.conn)
				break
			}
			batch := []*job{next}
			next = nil
		drain:
			for len(batch) < maxBatch {
				select {
				case j := <-w.jobs:
					if j.bare != nil {
						// It runs once the batch has committed.
						next = j
						break drain
					}
					batch = append(batch, j)
				default:
					break drain
				}
			}
			w.commit(batch)
		}
	}
}

func (w *writer) commit(batch []*job) {
	// Statements run without the callers' contexts: an interrupted
	// statement can roll back the whole transaction, and with it the other
	// callers' writes.
	ctx := context.Background()
	results := make([]error, len(batch))
	fail := func(err error) {
		err = writeFault(err)
		for _, j := range batch {
			j.result <- err
		}
	}
	exec := func(q string) error {
		_, err := w.q.conn.ExecContext(ctx, q)
		return err
	}
	if err := exec("BEGIN IMMEDIATE"); err != nil {
		fail(fmt.Errorf("begin: %w", err))
		return
	}
	abort := func(err error) {
		if rbErr := exec("ROLLBACK"); rbErr != nil {
			w.log.Error("rollback failed", "error", rbErr)
		}
		fail(err)
	}
	for i, j := range batch {
		if err := j.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if err := exec("SAVEPOINT job"); err != nil {
			abort(fmt.Errorf("savepoint: %w", err))
			return
		}
		results[i] = writeFault(w.run1(j))
		if results[i] != nil {
			// Some errors (disk full, I/O) end the whole transaction; then
			// the savepoint is gone and so are the batch's earlier writes.
			if err := exec("ROLLBACK TO job"); err != nil {
				abort(fmt.Errorf("a write failed and could not be rolled back alone: %w", errors.Join(results[i], err)))
				return
			}
		}
		if err := exec("RELEASE job"); err != nil {
			abort(fmt.Errorf("release savepoint: %w", err))
			return
		}
	}
	if err := exec("COMMIT"); err != nil {
		abort(fmt.Errorf("commit: %w", err))
		return
	}
	for i, j := range batch {
		j.result <- results[i]
	}
}

// run1 runs one job's function, turning a panic into an error so that one
// bad request cannot take the writer down.
func (w *writer) run1(j *job) (err error) {
	t := &tx{reader: reader{q: w.q}, q: w.q}
	defer func() {
		if p := recover(); p != nil {
			w.log.Error("panic in a database write", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			err = errors.New("internal error in a database write")
		}
	}()
	return j.fn(t)
}
