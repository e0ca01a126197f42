package rest_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/rest"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2030, 3, 4, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// app is an httptest server standing for the app's API; it records
// what it was asked.
type app struct {
	*httptest.Server
	calls atomic.Int64
	mu    sync.Mutex
	reqs  []seen
}

type seen struct {
	Method, URI string
	Header      http.Header
	Body        []byte
}

func newApp(t *testing.T, h func(w http.ResponseWriter, r *http.Request, body []byte)) *app {
	t.Helper()
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.reqs = append(a.reqs, seen{Method: r.Method, URI: r.RequestURI, Header: r.Header.Clone(), Body: body})
		a.mu.Unlock()
		h(w, r, body)
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) last(t *testing.T) seen {
	t.Helper()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.reqs) == 0 {
		t.Fatal("the app got no request")
	}
	return a.reqs[len(a.reqs)-1]
}

func status(code int) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) { w.WriteHeader(code) }
}

// logBuffer captures an executor's log.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// newExecutor makes an executor of cfg against a, with a fake clock and
// a captured log unless cfg has its own.
func newExecutor(t *testing.T, a *app, cfg rest.Config) (*rest.Executor, *clock, *logBuffer) {
	t.Helper()
	c, logs := newClock(), &logBuffer{}
	if cfg.App == "" {
		cfg.App = "acme"
	}
	if cfg.Base == "" && a != nil {
		cfg.Base = a.URL
	}
	if cfg.Now == nil {
		cfg.Now = c.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	x, err := rest.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return x, c, logs
}

func sampleTask(id int64, kind string) task.Task {
	return task.Task{ID: id, App: "acme", UserID: "u1", UserName: "jane@example.com", Kind: kind, Role: "editor"}
}

func sampleAccount() account.Account {
	return account.Account{App: "acme", UserID: "u1", UserName: "jane@example.com", Email: "jane@example.com",
		Desired: account.Desired{Exists: true, Active: true, Role: "editor"}, AppUserID: "app-7"}
}

// Kinds of outcome an Execute error can be.
const (
	kindNone    = "none"
	kindRefused = "refused"
	kindAfter   = "retry_after"
	kindPlain   = "plain"
)

func errKind(err error) string {
	var (
		refused *engine.RefusedError
		after   *engine.RetryAfterError
	)
	switch {
	case err == nil:
		return kindNone
	case errors.As(err, &refused):
		return kindRefused
	case errors.As(err, &after):
		return kindAfter
	}
	return kindPlain
}

func retryAfterOf(err error) time.Duration {
	var after *engine.RetryAfterError
	if errors.As(err, &after) {
		return after.After
	}
	return -1
}

var bg = context.Background()
