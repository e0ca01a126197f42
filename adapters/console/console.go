// Package console is the admin console under /console/: server-rendered
// pages for the people who work the task queue, approve requests and
// read the audit trail. It offers what the admin JSON API offers, in
// forms that work without JavaScript; htmx, served from the binary, only
// spares a page load where it helps.
package console

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// Prefix is where the console is mounted.
const Prefix = "/console/"

// The roles a signed-in person may have. Each includes what the one
// before it may do.
const (
	Viewer   = "viewer"   // reads everything
	Operator = "operator" // also claims tasks and reports them done or failed
	Approver = "approver" // also approves and rejects requests
)

// Config configures the console.
type Config struct {
	// DB holds the queue the console reads and its sessions.
	DB *sqlite.DB
	// Engine makes every change: claims, reports, approvals.
	Engine *engine.Engine
	// Apps are the configured apps by name, as the engine has them.
	Apps map[string]engine.App
	// VerifyToken checks an admin API token typed into the local sign-in
	// form r and returns who it acts as. scim.ErrNoAdminToken means the
	// token is refused, a *scim.LimitError that the client's address or
	// the token is over its rate limit; any other error is the server's
	// failure. VerifyWith makes one of (*scim.Server).AdminActor.
	VerifyToken func(r *http.Request, token string) (actor string, err error)
	// RoleOf decides what a signed-in person may do: Viewer, Operator or
	// Approver; anything else counts as Viewer. Default: everyone signed
	// in with an admin token is an Approver, as they are in the API.
	RoleOf func(actor string) string
	// SSO, when set, offers sign-in through the company IdP.
	SSO *SSO
	// Columns are the export columns of each app's reconciliation import,
	// by app (zero: the usual header names).
	Columns map[string]reconcile.Columns
	// Settings are further settings of each app for the settings page,
	// by app, with secrets already masked.
	Settings map[string][]Setting
	// Secure marks the session cookie Secure (the console is on https).
	Secure bool
	Logger *slog.Logger
	// Now is the clock of sessions and overdue tasks (default time.Now).
	Now func() time.Time
}

// server is the console's handler and everything it parsed at start.
type server struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	pages pages
	names []string // the app names, sorted
}

// New returns the console's handler for everything under Prefix. DB,
// Engine and VerifyToken are required. It creates the sessions table
// when the database lacks it.
func New(cfg Config) (http.Handler, error) {
	if cfg.DB == nil || cfg.Engine == nil || cfg.VerifyToken == nil {
		return nil, errors.New("console: Config needs DB, Engine and VerifyToken")
	}
	if cfg.SSO != nil && (cfg.SSO.Require == nil || cfg.SSO.Person == nil || strings.TrimSpace(cfg.SSO.AdminGroup) == "") {
		return nil, errors.New("console: SSO needs Require, Person and AdminGroup")
	}
	if cfg.RoleOf == nil {
		cfg.RoleOf = func(string) string { return Approver }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// New has no context of its own: the migration is a few statements
	// at start-up.
	if err := migrate(context.Background(), cfg.DB); err != nil {
		return nil, err
	}
	p, err := parsePages()
	if err != nil {
		return nil, err
	}
	files, err := staticHandler()
	if err != nil {
		return nil, err
	}
	s := &server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), pages: p}
	for name := range cfg.Apps {
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)
	s.routes(files)

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(http.StatusForbidden, "This form was sent from another site, so it was refused. Open the console itself and try again."))
	}))
	return headers(cop.Handler(s.mux)), nil
}

func (s *server) routes(files http.Handler) {
	s.mux.Handle("GET /console/static/", files)
	s.mux.HandleFunc("GET /console/signin", s.signinForm)
	s.mux.HandleFunc("POST /console/signin", s.signin)
	s.mux.HandleFunc("POST /console/signout", s.signout)
	if s.cfg.SSO != nil {
		s.mux.Handle("GET /console/sso", s.cfg.SSO.Require(http.HandlerFunc(s.ssoSignin)))
	}

	s.page("GET /console/{$}", s.overview)
	s.page("GET /console/tasks", s.tasks)
	s.page("POST /console/tasks/claim", s.bulkClaim)
	s.page("GET /console/tasks/{id}", s.task)
	s.page("POST /console/tasks/{id}/claim", s.act(s.claimMove()))
	s.page("POST /console/tasks/{id}/unclaim", s.act(s.unclaimMove()))
	s.page("GET /console/tasks/{id}/evidence/{file}", s.evidence)
	s.page("POST /console/tasks/{id}/done", s.act(s.doneMove()))
	s.page("POST /console/tasks/{id}/fail", s.act(s.failMove()))
	s.page("POST /console/tasks/{id}/approve", s.act(s.approveMove()))
	s.page("POST /console/tasks/{id}/reject", s.act(s.rejectMove()))
	s.page("GET /console/accounts", s.accounts)
	s.accountRoutes()
	s.page("GET /console/audit", s.audit)
	s.page("GET /console/audit.csv", s.auditCSV)
	s.page("GET /console/import", s.importForm)
	s.page("GET /console/settings", s.settings)
	s.page("POST /console/import", s.importUpload)
	// Signed-in people only learn that a path does not exist.
	s.page("/console/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, errorf(http.StatusNotFound, "There is no page here."))
	})
}

// page serves pattern to signed-in people only.
func (s *server) page(pattern string, h http.HandlerFunc) {
	s.mux.Handle(pattern, s.signedIn(h))
}

// csp allows nothing inline: every script and style comes from the
// console's own static files.
const csp = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// headers sets the security headers of every answer, errors included.
func headers(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("X-Frame-Options", "DENY")
		h.ServeHTTP(w, r)
	})
}

// statusError is an answer other than success whose message the person
// may read.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &statusError{status, fmt.Sprintf(format, args...)}
}

// internalMessage is all a person learns of the server's own failures.
const internalMessage = "Something went wrong; the error is in scimbridge's log."

// public returns the status and message to show for err, logging the
// server's own failures.
func (s *server) public(r *http.Request, err error) (int, string) {
	var se *statusError
	if errors.As(err, &se) {
		return se.status, se.msg
	}
	if errors.Is(err, context.Canceled) {
		// The browser went away; nobody reads this answer.
		return http.StatusServiceUnavailable, "The request was cancelled."
	}
	s.log.ErrorContext(r.Context(), "console request failed", "method", r.Method, "path", r.URL.Path, "error", err)
	return http.StatusInternalServerError, internalMessage
}
