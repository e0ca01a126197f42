package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters"
	"github.com/scimbridge/scimbridge/adapters/api"
	"github.com/scimbridge/scimbridge/adapters/console"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const serveUsage = `Usage: scimbridge serve [-config FILE]

Runs the SCIM server: one SCIM 2.0 endpoint per configured app at
<public_url>/apps/<app>/scim/v2/, the admin JSON API under
<public_url>/api/v1/ (for admin tokens: "scimbridge token create -admin"),
the admin console at <public_url>/console/, GET /healthz (alive: the
database answers), GET /readyz (ready for traffic: started, not
stopping, the database takes writes) and GET /metrics (Prometheus; the
config's metrics section can move it to an address of its own, require
a token or turn it off: docs/operations.md). Beside it, the engine
turns each change the IdP makes into the work the app needs (tasks for
admins: see "scimbridge tasks"), flags overdue tasks, and sends
notifications to the configured webhooks.
With a saml section it also serves the SSO proxy of just-in-time apps
(/saml/... towards the company IdP, /apps/<app>/saml/... towards each
app) and carries out simulated first logins; with okta_hook, Okta's event
hook at /hooks/okta (docs/jit.md). Apps with a rest section have their
actions carried out through their API (docs/rest.md). Processed change
events are deleted after outbox_retention.
Runs with GOGC=400 and a soft memory limit of 128 MiB unless GOGC or
GOMEMLIMIT are set. Stops cleanly on SIGINT or SIGTERM, finishing the
requests in flight.
`

// shutdownGrace is how long requests in flight get to finish on shutdown.
const shutdownGrace = 20 * time.Second

// dispatchInterval is how often the engine looks for new change events
// when it has caught up.
const dispatchInterval = 250 * time.Millisecond

// executorInterval is how often automatic tasks (simulated logins) that
// are due are looked for.
const executorInterval = time.Second

func runServe(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "serve", serveUsage)
	cfgFlag := configFlag(fs)
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	cfg, err := config.Load(configPath(e, *cfgFlag), adapters.ProfileNames())
	if err != nil {
		return err
	}
	log := newLogger(e.stderr, cfg.Log)
	tuneGC(e.getenv)

	db, err := sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{Logger: log})
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	defer db.Close()
	if err := queue.Migrate(ctx, db); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	apps, err := engineApps(cfg)
	if err != nil {
		return err
	}
	// The engine works the outbox beside the server; it stops with ctx,
	// before the database closes.
	engineCtx, stopEngine := context.WithCancel(context.Background())
	engineDone := make(chan struct{})
	eng := engine.New(db, apps, log)
	go func() {
		defer close(engineDone)
		eng.Run(engineCtx, dispatchInterval)
	}()
	defer func() { stopEngine(); <-engineDone }()
	mets, err := newMetrics(cfg, e.getenv, db, eng, log)
	if err != nil {
		return err
	}
	// Webhooks and the overdue check; they stop before the engine.
	stopNotifier, err := startNotifier(cfg, e.getenv, db, eng, webhookObserver(mets), log)
	if err != nil {
		return err
	}
	defer stopNotifier()

	tokenRate, appRates := cfg.TokenRates()
	srv, err := scim.NewServer(scim.Config{
		Store:        db,
		Apps:         cfg.AppNames(),
		Rules:        cfg.Rules(),
		BaseURL:      cfg.PublicURL,
		MaxBodyBytes: cfg.MaxRequestBytes,
		Logger:       log,
		// The admin API and the console's sign-in share these limits.
		TokenRate: tokenRate, AppTokenRates: appRates, FailedAuthPerMinute: cfg.FailedAuthLimit(), Proxies: cfg.Proxies,
	})
	if err != nil {
		return err
	}
	defer srv.Close()

	mux := http.NewServeMux()
	mux.Handle("/apps/", srv.Handler())
	// The admin API shares the SCIM server's token checks; it accepts
	// admin tokens only, as the SCIM endpoints accept SCIM tokens only.
	columns := map[string]reconcile.Columns{}
	for _, a := range cfg.Apps {
		columns[a.Name] = a.Import
	}
	mux.Handle(api.Prefix, api.New(api.Config{DB: db, Engine: eng, Apps: apps, Auth: srv.AdminActor, Columns: columns, Logger: log}))
	// The SSO side: SAML towards the company IdP and towards JIT apps,
	// the Okta event hook, and the executors that sign users in.
	side, err := startSSO(ctx, cfg, e.getenv, db, eng, log)
	if err != nil {
		return err
	}
	if side.service != nil {
		side.service.Register(mux)
	}
	if side.hook != nil {
		mux.Handle("/hooks/okta", side.hook)
	}
	apis, err := restExecutors(cfg, e.getenv, log)
	if err != nil {
		return err
	}
	if apis != nil {
		side.executors[executorREST] = apis
	}
	execCtx, stopExec := context.WithCancel(context.Background())
	execDone := make(chan struct{})
	go func() {
		defer close(execDone)
		eng.RunExecutors(execCtx, side.executors, executorInterval)
	}()
	defer func() { stopExec(); <-execDone }()
	// The admin console, for people; the API above is for programs.
	uiCfg := console.Config{DB: db, Engine: eng, Apps: apps, VerifyToken: console.VerifyWith(srv.AdminActor),
		Columns: columns, Settings: consoleSettings(cfg), Secure: strings.HasPrefix(cfg.PublicURL, "https://"), Logger: log}
	if side.service != nil && cfg.Console != nil {
		uiCfg.SSO = &console.SSO{Require: side.service.RequireSession, Person: ssoPerson,
			AdminGroup: cfg.Console.AdminGroup, OperatorGroup: cfg.Console.OperatorGroup, ApproverGroup: cfg.Console.ApproverGroup}
	}
	ui, err := console.New(uiCfg)
	if err != nil {
		return err
	}
	mux.Handle(console.Prefix, ui)
	stopMetrics, err := serveMetrics(cfg, mets, mux, log)
	if err != nil {
		return err
	}
	defer stopMetrics()
	ready := &readiness{db: db, log: log}
	mux.Handle("GET /readyz", ready)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		w.Header().Set("Content-Type", "application/json")
		if err := db.Ping(ctx); err != nil {
			log.ErrorContext(r.Context(), "health check failed", "error", err)
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"status":"unavailable"}`+"\n")
			return
		}
		io.WriteString(w, `{"status":"ok"}`+"\n")
	})

	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Listen, err)
	}
	hs := &http.Server{
		Handler:           scim.AccessLog(log, mux, requestObservers(mets)...),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	ready.serving.Store(true)
	log.Info("scimbridge is serving",
		"version", version(),
		"listen", ln.Addr().String(),
		"public_url", cfg.PublicURL,
		"database", cfg.DatabasePath(),
		"apps", cfg.AppNames())
	for _, a := range cfg.Apps {
		attrs := []any{"app", a.Name, "url", cfg.PublicURL + "/apps/" + a.Name + "/scim/v2/"}
		if len(a.DisableRules) > 0 {
			attrs = append(attrs, "disabled_rules", a.DisableRules)
		}
		log.Info("SCIM endpoint", attrs...)
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	ready.serving.Store(false)
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("requests still running at shutdown were cut off", "error", err)
	}
	if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// gcPercent is the GOGC the server runs with unless the environment says
// otherwise. scimbridge's own heap stays small (SQLite's caches live
// outside it), so the default of 100 collects hundreds of times a second
// under load; 400 costs a few megabytes and keeps that CPU for requests.
const gcPercent = 400

// memoryLimit is the soft limit of the Go runtime's memory unless
// GOMEMLIMIT says otherwise: with GOGC at 400 a burst of big answers (a
// page of groups with their members) would otherwise let the heap grow to
// five times what is live, and freed memory would go back to the system
// only slowly. Near the limit the collector runs more often and returns
// memory sooner. SQLite's caches are outside it.
const memoryLimit = 128 << 20

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}

// newLogger builds the process logger. "auto" writes text to a terminal
// and JSON otherwise. Lines logged with a request's context carry its
// request_id.
func newLogger(w io.Writer, cfg config.Log) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	format := cfg.Format
	if format == "auto" {
		format = "json"
		if f, ok := w.(*os.File); ok {
			if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
				format = "text"
			}
		}
	}
	if format == "text" {
		return slog.New(scim.LogHandler(slog.NewTextHandler(w, opts)))
	}
	return slog.New(scim.LogHandler(slog.NewJSONHandler(w, opts)))
}
