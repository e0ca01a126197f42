package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// readyTimeout bounds the write of a readiness check.
const readyTimeout = 2 * time.Second

// readiness answers GET /readyz: whether this process should get traffic.
// /healthz says it is alive (the database answers a read); /readyz says
// more: serve has finished starting (migrations included) and is not
// stopping, and the database takes a write, which a full disk, a lost
// lock or a stopped writer would prevent.
type readiness struct {
	db      *sqlite.DB
	log     *slog.Logger
	serving atomic.Bool
}

func (h *readiness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if !h.serving.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"unavailable","reason":"starting or stopping"}`+"\n")
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
	defer cancel()
	if err := writable(ctx, h.db); err != nil {
		h.log.ErrorContext(r.Context(), "readiness check failed: the database takes no writes", "error", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"unavailable","reason":"the database takes no writes"}`+"\n")
		return
	}
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

// writable runs an empty write transaction through the database's one
// writer. A write once queued is waited for whatever its context says, so
// the wait for it ends with ctx here.
func writable(ctx context.Context, db *sqlite.DB) error {
	done := make(chan error, 1)
	go func() { done <- db.Update(ctx, func(store.Tx) error { return nil }) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}
