package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// harness runs the real SCIM handler over real SQLite in a temp dir,
// behind a real HTTP listener.
type harness struct {
	t      *testing.T
	srv    *httptest.Server
	scim   *scim.Server
	db     *sqlite.DB
	dbPath string
	tokens map[string]string
	logs   *syncBuffer
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func newHarness(t *testing.T, apps ...string) *harness {
	t.Helper()
	return newHarnessRules(t, nil, apps...)
}

// newHarnessRules is newHarness with per-app normalisation rules.
func newHarnessRules(t *testing.T, rules map[string]compat.Set, apps ...string) *harness {
	t.Helper()
	return newHarnessWith(t, func(c *scim.Config) { c.Rules = rules }, apps...)
}

// newHarnessWith is newHarness with the server's configuration tuned.
func newHarnessWith(t *testing.T, tune func(*scim.Config), apps ...string) *harness {
	t.Helper()
	return newHarnessFull(t, tune, nil, apps...)
}

// newHarnessObserved is newHarnessRules with observers of the access log.
func newHarnessObserved(t *testing.T, rules map[string]compat.Set, observers []scim.Observer, apps ...string) *harness {
	t.Helper()
	return newHarnessFull(t, func(c *scim.Config) { c.Rules = rules }, observers, apps...)
}

// newHarnessFull builds the harness: tune adjusts the server's
// configuration, observers watch its access log.
func newHarnessFull(t *testing.T, tune func(*scim.Config), observers []scim.Observer, apps ...string) *harness {
	t.Helper()
	if len(apps) == 0 {
		apps = []string{"acme"}
	}
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(scim.LogHandler(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	dbPath := filepath.Join(t.TempDir(), "scimbridge.db")
	db, err := sqlite.Open(ctx, dbPath, sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, db: db, dbPath: dbPath, tokens: map[string]string{}, logs: logs}
	cfg := scim.Config{Store: db, Apps: apps, BaseURL: "https://scim.example.test", Logger: log, MaxBodyBytes: 64 << 10}
	tune(&cfg)
	s, err := scim.NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.scim = s
	h.srv = httptest.NewServer(scim.AccessLog(log, s.Handler(), observers...))
	t.Cleanup(func() {
		h.srv.Close()
		s.Close()
		db.Close()
	})
	for _, app := range apps {
		tok, _, err := scim.IssueToken(ctx, db, app, "test")
		if err != nil {
			t.Fatal(err)
		}
		h.tokens[app] = tok
	}
	return h
}

// response is a received HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

// obj decodes the body as a JSON object.
func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// request describes one request to an app's SCIM root.
type request struct {
	method string
	path   string // below /apps/{app}/scim/v2, such as /Users
	body   string
	app    string            // default "acme"
	token  *string           // nil: the app's own token
	header map[string]string // extra headers
}

func (h *harness) do(req request) response {
	h.t.Helper()
	app := req.app
	if app == "" {
		app = "acme"
	}
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	hr, err := http.NewRequest(req.method, h.srv.URL+"/apps/"+app+"/scim/v2"+req.path, body)
	if err != nil {
		h.t.Fatal(err)
	}
	tok := h.tokens[app]
	if req.token != nil {
		tok = *req.token
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	if req.body != "" {
		hr.Header.Set("Content-Type", "application/scim+json")
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(hr)
	if err != nil {
		h.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (h *harness) get(path string) response { return h.do(request{method: "GET", path: path}) }

// mustStatus fails unless r has the given status.
func mustStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body: %s", r.status, status, r.body)
	}
}

// scimError checks that r is an RFC 7644 error with the given status and
// scimType ("" for none) and returns its detail.
func scimError(t *testing.T, r response, status int, scimType string) string {
	t.Helper()
	mustStatus(t, r, status)
	if ct := r.header.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type %q, want application/scim+json", ct)
	}
	m := r.obj(t)
	schemas, _ := m["schemas"].([]any)
	if len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("schemas = %v, want the Error schema", m["schemas"])
	}
	if m["status"] != itoa(status) {
		t.Errorf("status field = %v, want %q", m["status"], itoa(status))
	}
	got, _ := m["scimType"].(string)
	if got != scimType {
		t.Errorf("scimType = %q, want %q (detail %v)", got, scimType, m["detail"])
	}
	detail, _ := m["detail"].(string)
	if detail == "" {
		t.Errorf("error has no detail")
	}
	return detail
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

const (
	userSchema  = `"urn:ietf:params:scim:schemas:core:2.0:User"`
	groupSchema = `"urn:ietf:params:scim:schemas:core:2.0:Group"`
	entSchema   = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
)

// createUser posts a user body and returns the created resource.
func (h *harness) createUser(body string) map[string]any {
	h.t.Helper()
	r := h.do(request{method: "POST", path: "/Users", body: body})
	mustStatus(h.t, r, http.StatusCreated)
	return r.obj(h.t)
}

// simpleUser returns a minimal user body.
func simpleUser(userName string) string {
	return `{"schemas":[` + userSchema + `],"userName":"` + userName + `","active":true}`
}

func (h *harness) createGroup(body string) map[string]any {
	h.t.Helper()
	r := h.do(request{method: "POST", path: "/Groups", body: body})
	mustStatus(h.t, r, http.StatusCreated)
	return r.obj(h.t)
}

// list runs a GET list and returns the ListResponse.
func (h *harness) list(path string) map[string]any {
	h.t.Helper()
	r := h.get(path)
	mustStatus(h.t, r, http.StatusOK)
	return r.obj(h.t)
}

func resources(t *testing.T, lr map[string]any) []map[string]any {
	t.Helper()
	raw, ok := lr["Resources"].([]any)
	if !ok {
		t.Fatalf("Resources is %T (%v), want a list", lr["Resources"], lr["Resources"])
	}
	out := make([]map[string]any, len(raw))
	for i, r := range raw {
		out[i] = r.(map[string]any)
	}
	return out
}

func str(v any) string { s, _ := v.(string); return s }

const patchSchema = `"urn:ietf:params:scim:api:messages:2.0:PatchOp"`

// patch sends a PATCH with the given operations (a JSON list) to path.
func (h *harness) patch(path, ops string) response {
	h.t.Helper()
	return h.do(request{method: "PATCH", path: path, body: `{"schemas":[` + patchSchema + `],"Operations":` + ops + `}`})
}

// events returns the change events of app acme after seq, each written
// as "type resourceId [member] [attributes]" with ids replaced by the
// names in names, for comparing whole sequences.
func (h *harness) events(after int64, names map[string]string) ([]string, int64) {
	h.t.Helper()
	evs, err := h.db.Events(context.Background(), "acme", after, 10000)
	if err != nil {
		h.t.Fatal(err)
	}
	name := func(id string) string {
		if n, ok := names[id]; ok {
			return n
		}
		return id
	}
	out := make([]string, len(evs))
	for i, e := range evs {
		line := string(e.Type) + " " + name(e.ResourceID)
		if e.MemberID != "" {
			line += " " + name(e.MemberID)
		}
		if len(e.Attributes) > 0 {
			line += " [" + strings.Join(e.Attributes, " ") + "]"
		}
		out[i] = line
		after = e.Seq
	}
	return out, after
}
