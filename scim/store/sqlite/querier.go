package sqlite

import (
	"context"
	"database/sql"
	"sync"
)

// maxCachedStmts bounds the prepared-statement cache. Filters produce SQL
// whose text depends only on the filter's shape (values are parameters), so
// real traffic needs few entries; past the bound, statements are run
// unprepared rather than kept.
const maxCachedStmts = 512

// stmtCache keeps prepared statements by SQL text: parsing and planning a
// statement costs more than running the small lookups IdPs send.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, m: map[string]*sql.Stmt{}}
}

// get returns the cached statement for q, preparing it if needed, or nil
// when the cache is full.
func (c *stmtCache) get(ctx context.Context, q string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s, ok := c.m[q]; ok {
		return s, nil
	}
	if len(c.m) >= maxCachedStmts {
		return nil, nil
	}
	s, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return nil, err
	}
	c.m[q] = s
	return s, nil
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for q, s := range c.m {
		s.Close()
		delete(c.m, q)
	}
}

// querier runs SQL on the read pool or inside the write transaction.
type querier interface {
	query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, q string, args ...any) *sql.Row
	exec(ctx context.Context, q string, args ...any) (sql.Result, error)
}

type poolQuerier struct{ cache *stmtCache }

func (p poolQuerier) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	s, err := p.cache.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return p.cache.db.QueryContext(ctx, q, args...)
	}
	return s.QueryContext(ctx, args...)
}

func (p poolQuerier) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	s, err := p.cache.get(ctx, q)
	if err != nil || s == nil {
		return p.cache.db.QueryRowContext(ctx, q, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

func (p poolQuerier) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	s, err := p.cache.get(ctx, q)
	if err != nil {
		return nil, err
	}
	if s == nil {
		return p.cache.db.ExecContext(ctx, q, args...)
	}
	return s.ExecContext(ctx, args...)
}

// connQuerier runs statements on the writer's connection, inside the
// transaction the writer opened. Only the writer goroutine uses it. It
// drops the caller's cancellation (see writer.commit) but keeps its values.
type connQuerier struct {
	conn  *sql.Conn
	stmts map[string]*sql.Stmt
}

func (c connQuerier) stmt(ctx context.Context, q string) *sql.Stmt {
	if s, ok := c.stmts[q]; ok {
		return s
	}
	if len(c.stmts) >= maxCachedStmts {
		return nil
	}
	s, err := c.conn.PrepareContext(ctx, q)
	if err != nil {
		return nil
	}
	c.stmts[q] = s
	return s
}

func (c connQuerier) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = context.WithoutCancel(ctx)
	if s := c.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	return c.conn.QueryContext(ctx, q, args...)
}

func (c connQuerier) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = context.WithoutCancel(ctx)
	if s := c.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	return c.conn.QueryRowContext(ctx, q, args...)
}

func (c connQuerier) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = context.WithoutCancel(ctx)
	if s := c.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	return c.conn.ExecContext(ctx, q, args...)
}
