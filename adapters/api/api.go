// Package api is the admin JSON API under /api/v1/: the apps, their
// accounts, the task queue and the audit trail, for scripts and the
// console. Every request carries an admin token; the token's name is the
// actor the audit trail records for what the request does.
package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// Prefix is where the API is mounted.
const Prefix = "/api/v1/"

// Defaults for Config fields left zero, and the bounds of list pages.
const (
	DefaultMaxBodyBytes = 1 << 20
	// DefaultMaxImportBytes bounds an uploaded export: some 200,000 rows.
	DefaultMaxImportBytes = 32 << 20
	DefaultPageSize       = 100
	MaxPageSize           = 1000
)

// Config configures the API.
type Config struct {
	DB     *sqlite.DB
	Engine *engine.Engine
	// Apps are the configured apps by name, as the engine has them.
	Apps map[string]engine.App
	// Auth authenticates an admin request and returns who it acts as.
	// scim.ErrNoAdminToken means refused (401); any other error is the
	// server's failure (500). (*scim.Server).AdminActor is one.
	Auth func(*http.Request) (actor string, err error)
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// Columns are the export columns of each app's reconciliation
	// import, by app name (zero: the default header names).
	Columns map[string]reconcile.Columns
	// MaxImportBytes bounds an uploaded export (default
	// DefaultMaxImportBytes).
	MaxImportBytes int64
	Logger         *slog.Logger
	// Now is the clock that decides whether tasks are overdue (default
	// time.Now).
	Now func() time.Time
}

// New returns the API's handler for everything under Prefix. DB, Engine
// and Auth are required.
func New(cfg Config) http.Handler {
	if cfg.DB == nil || cfg.Engine == nil || cfg.Auth == nil {
		panic("api: Config needs DB, Engine and Auth")
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxImportBytes <= 0 {
		cfg.MaxImportBytes = DefaultMaxImportBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	for name := range cfg.Apps {
		s.names = append(s.names, name)
	}
	slices.Sort(s.names)

	s.route("/api/v1/apps", methods{"GET": s.listApps})
	s.route("/api/v1/apps/{app}", methods{"GET": s.getApp})
	s.route("/api/v1/apps/{app}/accounts", methods{"GET": s.listAccounts})
	s.route("/api/v1/apps/{app}/seats", methods{"GET": s.seats})
	s.route("/api/v1/apps/{app}/accounts/{user}/login", methods{"POST": s.confirmLogin})
	// An export of a big app is larger than any other request.
	s.routeLimited("/api/v1/apps/{app}/import", methods{"POST": s.importExport}, s.cfg.MaxImportBytes)
	s.route("/api/v1/tasks", methods{"GET": s.listTasks})
	s.route("/api/v1/tasks/{id}", methods{"GET": s.getTask})
	s.mux.HandleFunc("GET /api/v1/tasks/{id}/evidence/{file}", s.evidence)
	s.route("/api/v1/tasks/{id}/claim", methods{"POST": s.claim})
	s.route("/api/v1/tasks/{id}/unclaim", methods{"POST": s.unclaim})
	s.route("/api/v1/tasks/{id}/done", methods{"POST": s.done})
	s.route("/api/v1/tasks/{id}/fail", methods{"POST": s.fail})
	s.route("/api/v1/tasks/{id}/approve", methods{"POST": s.approve})
	s.route("/api/v1/tasks/{id}/reject", methods{"POST": s.reject})
	s.route("/api/v1/audit", methods{"GET": s.audit})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, errorf(http.StatusNotFound, "no such endpoint: %s (see the API guide for the endpoints)", r.URL.Path))
	})
	return s
}

type server struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	names []string // the app names, sorted
}

// endpoint answers one method of one route with a value to send as JSON
// or an error.
type endpoint func(r *http.Request) (any, error)

type methods map[string]endpoint

type actorKey struct{}

// actor returns who the request acts as.
func actor(ctx context.Context) string {
	a, _ := ctx.Value(actorKey{}).(string)
	return a
}

// ServeHTTP authenticates every request, even one for a path that does
// not exist, so that the API's shape is visible only to admins.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	who, err := s.cfg.Auth(r)
	if errors.Is(err, scim.ErrNoAdminToken) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="scimbridge admin API"`)
		s.writeError(w, r, &statusError{http.StatusUnauthorized, err.Error()})
		return
	}
	if err != nil {
		s.writeError(w, r, fmt.Errorf("authenticate: %w", err))
		return
	}
	s.mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), actorKey{}, who)))
}

// route serves pattern with one endpoint per method. ServeMux's own
// method matching would answer a wrong method in plain text; this answers
// in JSON, with Allow.
func (s *server) route(pattern string, m methods) {
	s.routeLimited(pattern, m, s.cfg.MaxBodyBytes)
}

// routeLimited is route with its own bound on request bodies.
func (s *server) routeLimited(pattern string, m methods, limit int64) {
	if get, ok := m["GET"]; ok {
		m["HEAD"] = get
	}
	allow := make([]string, 0, len(m))
	for method := range m {
		allow = append(allow, method)
	}
	slices.Sort(allow)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		e, ok := m[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			s.writeError(w, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed here; use %s", r.Method, strings.Join(allow, " or ")))
			return
		}
		v, err := e(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, v)
	})
}

// statusError is an answer other than success whose message the client
// may see.
type statusError struct {
	status int
	msg    string
}

func (e *statusError) Error() string { return e.msg }

func errorf(status int, format string, args ...any) error {
	return &statusError{status, fmt.Sprintf(format, args...)}
}

// errorBody is every error's JSON.
type errorBody struct {
	Error  string `json:"error"`
	Status int    `json:"status"`
}

// writeError answers with err. Errors without a status are the server's
// own: the client sees only a request id, the log has the details.
func (s *server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var se *statusError
	var tooBig *http.MaxBytesError
	var unwritable *store.UnavailableError
	var limited *scim.LimitError
	switch {
	case errors.As(err, &se):
	case errors.As(err, &limited):
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		se = &statusError{http.StatusTooManyRequests, limited.Detail}
	case errors.As(err, &tooBig):
		se = &statusError{http.StatusRequestEntityTooLarge, fmt.Sprintf("the request body is larger than %d bytes", tooBig.Limit)}
	case errors.Is(err, context.Canceled):
		// The client went away; nobody reads this answer.
		se = &statusError{http.StatusServiceUnavailable, "request cancelled"}
	case errors.As(err, &unwritable):
		s.log.ErrorContext(r.Context(), "the database cannot be written; the change was refused",
			"reason", unwritable.Reason, "code", unwritable.Code, "request_id", scim.RequestID(r.Context()))
		w.Header().Set("Retry-After", "30")
		se = &statusError{http.StatusServiceUnavailable, "the change cannot be stored at the moment; try again later"}
	default:
		id := scim.RequestID(r.Context())
		s.log.ErrorContext(r.Context(), "admin API request failed", "request_id", id,
			"method", r.Method, "path", r.URL.Path, "error", err)
		se = &statusError{http.StatusInternalServerError, "internal server error; the server log has details under request id " + id}
	}
	writeJSON(w, se.status, errorBody{Error: se.msg, Status: se.status})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	// Clients are scripts and terminals, not HTML pages: keep <, > and &
	// readable.
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only a programming error makes these shapes unencodable.
		status = http.StatusInternalServerError
		b.Reset()
		b.WriteString(`{"error":"internal server error: response not encodable","status":500}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// decode reads the request body, which may be empty, into dst: one JSON
// object whose fields dst knows.
func decode(r *http.Request, dst any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(dst)
	if errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		if _, err = dec.Token(); errors.Is(err, io.EOF) {
			return nil
		}
		if err == nil {
			err = errors.New("one JSON object expected, found more")
		}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return err
	}
	return errorf(http.StatusBadRequest, "request body: %s", strings.TrimPrefix(err.Error(), "json: "))
}

// app returns the configured app the path names, or a 404.
func (s *server) app(r *http.Request) (string, engine.App, error) {
	name := r.PathValue("app")
	a, ok := s.cfg.Apps[name]
	if !ok {
		return "", engine.App{}, errorf(http.StatusNotFound, "no app %q", name)
	}
	return name, a, nil
}

// appParam checks the optional ?app= filter.
func (s *server) appParam(r *http.Request) (string, error) {
	name := r.URL.Query().Get("app")
	if _, ok := s.cfg.Apps[name]; name != "" && !ok {
		return "", errorf(http.StatusBadRequest, "app: no app %q (apps: %s)", name, strings.Join(s.names, ", "))
	}
	return name, nil
}

// page reads ?after= and ?limit=.
func page(r *http.Request) (after int64, limit int, err error) {
	q := r.URL.Query()
	limit = DefaultPageSize
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxPageSize {
			return 0, 0, errorf(http.StatusBadRequest, "limit: a number from 1 to %d", MaxPageSize)
		}
	}
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return 0, 0, errorf(http.StatusBadRequest, "after: an id, 0 or more")
		}
	}
	return after, limit, nil
}

// trimPage cuts a list read with limit+1 rows down to limit, and
// returns the key to continue after when there were more (0 when not).
func trimPage[T any](list []T, limit int, key func(T) int64) ([]T, int64) {
	if len(list) <= limit {
		return list, 0
	}
	return list[:limit], key(list[limit-1])
}

func (s *server) queue() queue.Queue { return queue.In(s.cfg.DB.ReadSQL()) }

// App is an app as the API shows it: its profile and its workload.
type App struct {
	Name         string         `json:"name"`
	Profile      string         `json:"profile"`
	Executor     string         `json:"executor"`
	Verification string         `json:"verification"`
	Roles        []Role         `json:"roles"`
	DefaultRole  string         `json:"defaultRole"`
	Accounts     map[string]int `json:"accounts"` // by state
	Tasks        TaskCounts     `json:"tasks"`
}

// Role is one of an app's roles.
type Role struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// TaskCounts counts the tasks of an app that wait for someone.
type TaskCounts struct {
	Pending  int            `json:"pending"`
	Overdue  int            `json:"overdue"`
	ByStatus map[string]int `json:"byStatus"` // the pending statuses
}

// accountStates are listed in every app, with zeros, so that a dashboard
// finds every key.
var accountStates = []account.State{account.Pending, account.Active, account.Deactivated, account.Deleted,
	account.Absent, account.Blocked, account.AwaitingLogin}

var pendingStatuses = []task.Status{task.AwaitingApproval, task.Open, task.Claimed}

func (s *server) appJSON(ctx context.Context, name string, a engine.App) (App, error) {
	p := a.Profile
	j := App{Name: name, Profile: p.Name, Executor: p.Executor, Verification: p.Verification,
		DefaultRole: p.DefaultRole, Roles: []Role{}, Accounts: map[string]int{},
		Tasks: TaskCounts{ByStatus: map[string]int{}}}
	for _, r := range p.Roles {
		j.Roles = append(j.Roles, Role{r.Name, r.Description})
	}
	for _, st := range accountStates {
		j.Accounts[string(st)] = 0
	}
	q := s.queue()
	accounts, err := q.CountAccounts(ctx, name)
	if err != nil {
		return App{}, err
	}
	for st, n := range accounts {
		j.Accounts[string(st)] = n
	}
	counts, err := q.CountTasks(ctx, name, s.cfg.Now())
	if err != nil {
		return App{}, err
	}
	for _, st := range pendingStatuses {
		j.Tasks.ByStatus[string(st)] = counts.ByStatus[st]
		j.Tasks.Pending += counts.ByStatus[st]
	}
	j.Tasks.Overdue = counts.Overdue
	return j, nil
}

func (s *server) listApps(r *http.Request) (any, error) {
	out := []App{}
	for _, name := range s.names {
		j, err := s.appJSON(r.Context(), name, s.cfg.Apps[name])
		if err != nil {
			return nil, err
		}
		out = append(out, j)
	}
	return map[string]any{"apps": out}, nil
}

func (s *server) getApp(r *http.Request) (any, error) {
	name, a, err := s.app(r)
	if err != nil {
		return nil, err
	}
	return s.appJSON(r.Context(), name, a)
}

func (s *server) listAccounts(r *http.Request) (any, error) {
	name, _, err := s.app(r)
	if err != nil {
		return nil, err
	}
	state := account.State(r.URL.Query().Get("state"))
	if state != "" && !slices.Contains(accountStates, state) {
		return nil, errorf(http.StatusBadRequest, "state: %q is not an account state (%s)", state, joined(accountStates))
	}
	list, err := s.queue().Accounts(r.Context(), name)
	if err != nil {
		return nil, err
	}
	out := []Account{}
	for _, a := range list {
		if state == "" || a.State == state {
			out = append(out, AccountJSON(a))
		}
	}
	return map[string]any{"accounts": out}, nil
}

func (s *server) seats(r *http.Request) (any, error) {
	name, _, err := s.app(r)
	if err != nil {
		return nil, err
	}
	seats, err := s.cfg.Engine.Seats(r.Context(), name, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	return SeatsJSON(seats), nil
}

// loginBody is an admin's confirmation that a user signed in; At is when
// (default: now).
type loginBody struct {
	At *time.Time `json:"at"`
}

// confirmLogin records, on an admin's word, that the user the path names
// (a user name or SCIM id) signed in to the app.
func (s *server) confirmLogin(r *http.Request) (any, error) {
	name, _, err := s.app(r)
	if err != nil {
		return nil, err
	}
	var b loginBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	at := s.cfg.Now().UTC()
	if b.At != nil {
		if b.At.After(at.Add(5 * time.Minute)) {
			return nil, errorf(http.StatusBadRequest, "at: %s is in the future", b.At.UTC().Format(time.RFC3339))
		}
		at = b.At.UTC()
	}
	user := r.PathValue("user")
	acct, found, err := s.queue().AccountNamed(r.Context(), name, user)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf(http.StatusNotFound, "%s has no account of %q", name, user)
	}
	err = s.cfg.Engine.RecordLogin(r.Context(), engine.Login{App: name, UserID: acct.UserID, At: at,
		Source: engine.LoginAdmin, Actor: actor(r.Context())})
	if errors.Is(err, engine.ErrUnknownUser) {
		return nil, errorf(http.StatusConflict, "user %q is no longer in the app's directory", user)
	}
	if err != nil {
		return nil, err
	}
	acct, _, err = s.queue().Account(r.Context(), name, acct.UserID)
	if err != nil {
		return nil, err
	}
	return AccountJSON(acct), nil
}

func joined[T ~string](list []T) string {
	s := make([]string, len(list))
	for i, v := range list {
		s[i] = string(v)
	}
	return strings.Join(s, ", ")
}

// importExport runs the reconciliation import of an app's exported user
// list, sent as the body (CSV): ?mode=snapshot|delta is required, and
// nothing changes unless ?apply=true.
func (s *server) importExport(r *http.Request) (any, error) {
	name, _, err := s.app(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	if !q.Has("mode") {
		return nil, errorf(http.StatusBadRequest, "mode is required: snapshot (the export lists every account in the app) or delta (it lists only some)")
	}
	mode, err := reconcile.ParseMode(q.Get("mode"))
	if err != nil {
		return nil, errorf(http.StatusBadRequest, "mode %v", err)
	}
	apply := false
	if v := q.Get("apply"); v != "" {
		if apply, err = strconv.ParseBool(v); err != nil {
			return nil, errorf(http.StatusBadRequest, "apply=%q: give true or false", v)
		}
	}
	f, err := reconcile.Parse(r.Body, s.cfg.Columns[name])
	var tooBig *http.MaxBytesError
	var bad *reconcile.ParseError
	switch {
	case errors.As(err, &tooBig):
		return nil, err
	case errors.As(err, &bad):
		return nil, errorf(http.StatusBadRequest, "%v", err)
	case err != nil:
		return nil, errorf(http.StatusBadRequest, "the export: %v", err)
	}
	res, err := s.cfg.Engine.Preview(r.Context(), name, f, mode, s.cfg.Now())
	if err != nil {
		return nil, err
	}
	res.Source = "upload"
	if apply {
		err := s.cfg.Engine.Import(r.Context(), name, res, actor(r.Context()))
		if errors.Is(err, engine.ErrStale) {
			return nil, errorf(http.StatusConflict, "nothing was committed: %v", err)
		}
		if err != nil {
			return nil, err
		}
	}
	return reconcile.NewReport(res, apply), nil
}

// taskPage is a page of tasks; NextAfter, when set, is the after= of the
// next page.
type taskPage struct {
	Tasks     []Task `json:"tasks"`
	NextAfter int64  `json:"nextAfter,omitempty"`
}

func (s *server) listTasks(r *http.Request) (any, error) {
	app, err := s.appParam(r)
	if err != nil {
		return nil, err
	}
	after, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	status := q.Get("status")
	f := queue.Filter{App: app, UserID: q.Get("user"), After: after, Limit: limit + 1}
	switch {
	case status == "pending":
		f.Pending = true
	case status == "" || task.Known(task.Status(status)):
		f.Status = task.Status(status)
	default:
		return nil, errorf(http.StatusBadRequest, "status: %q is not a task status (%s, or pending for the first three)", status, joined(taskStatuses))
	}
	list, err := s.queue().Tasks(r.Context(), f)
	if err != nil {
		return nil, err
	}
	list, next := trimPage(list, limit, func(t task.Task) int64 { return t.ID })
	now := s.cfg.Now()
	out := taskPage{Tasks: make([]Task, len(list)), NextAfter: next}
	for i, t := range list {
		out.Tasks[i] = TaskJSON(t, now)
	}
	return out, nil
}

var taskStatuses = []task.Status{task.AwaitingApproval, task.Open, task.Claimed, task.Done, task.Verified,
	task.Failed, task.Cancelled, task.Superseded, task.Rejected}

// taskDetail is a task with its own lines of the audit trail.
type taskDetail struct {
	Task
	History       []AuditEntry   `json:"history"`
	EvidenceFiles []EvidenceFile `json:"evidenceFiles"`
}

// EvidenceFile describes a file an admin kept with a task; href serves
// its bytes.
type EvidenceFile struct {
	ID     int64     `json:"id"`
	Name   string    `json:"name"`
	Type   string    `json:"type"`
	Size   int64     `json:"size"`
	SHA256 string    `json:"sha256"`
	By     string    `json:"by"`
	At     time.Time `json:"at"`
	Href   string    `json:"href"`
}

// task reads the task the path names, or a 404.
func (s *server) task(r *http.Request) (task.Task, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return task.Task{}, errorf(http.StatusNotFound, "no task %q", v)
	}
	t, err := s.queue().Task(r.Context(), id)
	if errors.Is(err, queue.ErrNotFound) {
		return task.Task{}, errorf(http.StatusNotFound, "no task %d", id)
	}
	return t, err
}

func (s *server) getTask(r *http.Request) (any, error) {
	t, err := s.task(r)
	if err != nil {
		return nil, err
	}
	trail, err := s.queue().AuditOf(r.Context(), queue.AuditFilter{App: t.App, UserID: t.UserID, TaskID: t.ID})
	if err != nil {
		return nil, err
	}
	files, err := s.queue().EvidenceOf(r.Context(), t.ID)
	if err != nil {
		return nil, err
	}
	out := taskDetail{Task: TaskJSON(t, s.cfg.Now()), History: []AuditEntry{}, EvidenceFiles: []EvidenceFile{}}
	for _, e := range trail {
		out.History = append(out.History, AuditJSON(e.AuditEntry))
	}
	for _, f := range files {
		out.EvidenceFiles = append(out.EvidenceFiles, EvidenceFile{ID: f.ID, Name: f.Name, Type: f.Type, Size: f.Size,
			SHA256: f.SHA256, By: f.By, At: f.At, Href: fmt.Sprintf("%stasks/%d/evidence/%d", Prefix, t.ID, f.ID)})
	}
	return out, nil
}

// evidence serves the bytes of one evidence file, as a download that
// nothing may run.
func (s *server) evidence(w http.ResponseWriter, r *http.Request) {
	t, err := s.task(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("file"), 10, 64)
	if err != nil || id <= 0 {
		s.writeError(w, r, errorf(http.StatusNotFound, "task %d has no evidence file %q", t.ID, r.PathValue("file")))
		return
	}
	f, err := s.queue().EvidenceFile(r.Context(), t.ID, id)
	if errors.Is(err, queue.ErrNoEvidence) {
		s.writeError(w, r, errorf(http.StatusNotFound, "task %d has no evidence file %d", t.ID, id))
		return
	}
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.Type)
	h.Set("Content-Length", strconv.Itoa(len(f.Data)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": f.Name}))
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("X-Checksum-Sha256", f.SHA256)
	if r.Method != http.MethodHead {
		w.Write(f.Data)
	}
}

// move makes the move do on the task the path names, as the request's
// actor, and answers with the task as it then is.
func (s *server) move(r *http.Request, do func(ctx context.Context, id int64, actor string) (task.Task, error)) (any, error) {
	t, err := s.task(r)
	if err != nil {
		return nil, err
	}
	// The engine refuses these too, but not in words a client can act on.
	if _, ok := s.cfg.Apps[t.App]; !ok {
		return nil, errorf(http.StatusConflict, "task %d belongs to app %q, which is not configured", t.ID, t.App)
	}
	moved, err := do(r.Context(), t.ID, actor(r.Context()))
	var bad *task.MoveError
	switch {
	case errors.As(err, &bad):
		return nil, errorf(http.StatusConflict, "%s", bad.Error())
	case errors.Is(err, engine.ErrOwnRequest):
		return nil, errorf(http.StatusForbidden, "%s", err.Error())
	case errors.Is(err, engine.ErrNoteRequired):
		return nil, errorf(http.StatusBadRequest, "%s", err.Error())
	case errors.Is(err, queue.ErrNotFound):
		return nil, errorf(http.StatusNotFound, "no task %d", t.ID)
	case err != nil:
		return nil, err
	}
	return TaskJSON(moved, s.cfg.Now()), nil
}

// The bodies of the moves; claim and approve take none (or {}).
type (
	noteBody struct {
		Note string `json:"note"`
	}
	doneBody struct {
		Note     string `json:"note"`
		Evidence string `json:"evidence"`
	}
)

// note returns a required note, trimmed, or a 400.
func note(n string) (string, error) {
	n = strings.TrimSpace(n)
	if n == "" {
		return "", errorf(http.StatusBadRequest, "note is required: say what was done or what went wrong")
	}
	return n, nil
}

func (s *server) claim(r *http.Request) (any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	return s.move(r, s.cfg.Engine.Claim)
}

// unclaim gives a claimed task back to the queue. An admin token may do
// all an approver may, so it frees anyone's claim.
func (s *server) unclaim(r *http.Request) (any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	return s.move(r, func(ctx context.Context, id int64, actor string) (task.Task, error) {
		return s.cfg.Engine.Unclaim(ctx, id, actor, true)
	})
}

func (s *server) approve(r *http.Request) (any, error) {
	if err := decode(r, &struct{}{}); err != nil {
		return nil, err
	}
	return s.move(r, s.cfg.Engine.Approve)
}

func (s *server) done(r *http.Request) (any, error) {
	var b doneBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	n, err := note(b.Note)
	if err != nil {
		return nil, err
	}
	return s.move(r, func(ctx context.Context, id int64, actor string) (task.Task, error) {
		return s.cfg.Engine.Done(ctx, id, actor, n, strings.TrimSpace(b.Evidence))
	})
}

func (s *server) fail(r *http.Request) (any, error) {
	var b noteBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	n, err := note(b.Note)
	if err != nil {
		return nil, err
	}
	return s.move(r, func(ctx context.Context, id int64, actor string) (task.Task, error) {
		return s.cfg.Engine.Fail(ctx, id, actor, n)
	})
}

// reject takes an optional note: a refusal need not say why, though it
// should.
func (s *server) reject(r *http.Request) (any, error) {
	var b noteBody
	if err := decode(r, &b); err != nil {
		return nil, err
	}
	return s.move(r, func(ctx context.Context, id int64, actor string) (task.Task, error) {
		return s.cfg.Engine.Reject(ctx, id, actor, strings.TrimSpace(b.Note))
	})
}

// auditPage is a page of the audit trail; NextAfter, when set, is the
// after= of the next page.
type auditPage struct {
	Entries   []AuditEntry `json:"entries"`
	NextAfter int64        `json:"nextAfter,omitempty"`
}

func (s *server) audit(r *http.Request) (any, error) {
	app, err := s.appParam(r)
	if err != nil {
		return nil, err
	}
	after, limit, err := page(r)
	if err != nil {
		return nil, err
	}
	trail, err := s.queue().AuditOf(r.Context(), queue.AuditFilter{App: app, UserID: r.URL.Query().Get("user"),
		After: after, Limit: limit + 1})
	if err != nil {
		return nil, err
	}
	trail, next := trimPage(trail, limit, func(e queue.AuditRecord) int64 { return e.Seq })
	out := auditPage{Entries: make([]AuditEntry, len(trail)), NextAfter: next}
	for i, e := range trail {
		out.Entries[i] = AuditJSON(e.AuditEntry)
	}
	return out, nil
}
