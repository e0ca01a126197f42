package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/metrics"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// newMetrics builds serve's metrics, or returns nil when the
// configuration switches them off.
func newMetrics(cfg *config.Config, getenv func(string) string, db *sqlite.DB, eng *engine.Engine, log *slog.Logger) (*metrics.Metrics, error) {
	if !cfg.MetricsEnabled() {
		return nil, nil
	}
	token, err := cfg.ReadMetricsToken(getenv)
	if err != nil {
		return nil, err
	}
	return metrics.New(metrics.Config{DB: db, Engine: eng, Apps: cfg.AppNames(), Version: version(), Token: token, Logger: log})
}

// serveMetrics serves m at /metrics: on mux, or alone on the address of
// metrics.listen. The returned function stops the latter's server.
func serveMetrics(cfg *config.Config, m *metrics.Metrics, mux *http.ServeMux, log *slog.Logger) (stop func(), err error) {
	if m == nil {
		return func() {}, nil
	}
	if cfg.Metrics.Listen == "" {
		mux.Handle("GET /metrics", m.Handler())
		return func() {}, nil
	}
	ln, err := net.Listen("tcp", cfg.Metrics.Listen)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen on %s: %w", cfg.Metrics.Listen, err)
	}
	own := http.NewServeMux()
	own.Handle("GET /metrics", m.Handler())
	hs := &http.Server{
		Handler:           own,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the metrics server stopped", "error", err)
		}
	}()
	log.Info("metrics", "listen", ln.Addr().String())
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
	}, nil
}

// requestObservers are the access log's observers: the metrics', when
// they are on.
func requestObservers(m *metrics.Metrics) []scim.Observer {
	if m == nil {
		return nil
	}
	return []scim.Observer{m.ObserveRequest}
}

// webhookObserver learns each webhook request's outcome, or is nil.
func webhookObserver(m *metrics.Metrics) func(webhook string, ok bool) {
	if m == nil {
		return nil
	}
	return m.WebhookDelivered
}
