package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/api"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// world is the real SCIM handler and the admin API over real SQLite,
// behind one listener as the server mounts them, with the engine that
// turns SCIM changes into tasks. App peopleai uses the People.ai profile,
// where users of admins.example.com get Admin, which needs approval; app
// wiki uses the manual profile, which takes an admin's word as
// verification.
type world struct {
	t      *testing.T
	srv    *httptest.Server
	db     *sqlite.DB
	eng    *engine.Engine
	logs   *syncBuffer
	scim   map[string]string // SCIM tokens by app
	alice  string            // admin token acting as "Alice Admin"
	bob    string            // admin token acting as "bob"
	userID map[string]string // SCIM user ids by short name
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

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, func(*scim.Config) {})
}

// newWorldWith is newWorld with the SCIM server's configuration tuned.
func newWorldWith(t *testing.T, tune func(*scim.Config)) *world {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	builtin, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	peopleai, err := builtin["peopleai"].With(profile.Override{RoleRules: &profile.RoleRules{
		Domains: []profile.DomainRule{{Domain: "admins.example.com", Role: "Admin"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sixsense, err := builtin["sixsense"].With(profile.Override{
		RoleRules: &profile.RoleRules{Domains: []profile.DomainRule{{Domain: "sellers.example.com", Role: "Sales AE / SDR"}}},
		Seats:     []profile.SeatLimit{{Module: "SI", Limit: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	jit, err := engine.AdapterFor(sixsense)
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]engine.App{
		"peopleai": {Profile: peopleai, Adapter: plan.Manual{}},
		"wiki":     {Profile: builtin["manual"], Adapter: plan.Manual{}},
		"sixsense": {Profile: sixsense, Adapter: jit},
	}
	scfg := scim.Config{Store: db, Apps: []string{"peopleai", "wiki", "sixsense"}, Logger: log}
	tune(&scfg)
	sc, err := scim.NewServer(scfg)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, apps, log)
	mux := http.NewServeMux()
	mux.Handle("/apps/", sc.Handler())
	mux.Handle(api.Prefix, api.New(api.Config{DB: db, Engine: eng, Apps: apps, Auth: sc.AdminActor, Logger: log}))
	w := &world{t: t, srv: httptest.NewServer(scim.AccessLog(log, mux)), db: db, eng: eng, logs: logs,
		scim: map[string]string{}, userID: map[string]string{}}
	t.Cleanup(func() { w.srv.Close(); sc.Close(); db.Close() })
	for _, app := range []string{"peopleai", "wiki", "sixsense"} {
		if w.scim[app], _, err = scim.IssueToken(ctx, db, app, "test"); err != nil {
			t.Fatal(err)
		}
	}
	if w.alice, _, err = scim.IssueAdminToken(ctx, db, "Alice Admin", "test"); err != nil {
		t.Fatal(err)
	}
	if w.bob, _, err = scim.IssueAdminToken(ctx, db, "bob", "test"); err != nil {
		t.Fatal(err)
	}
	return w
}

// response is an answer, decoded.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) obj(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v: %s", err, r.body)
	}
	return m
}

func (w *world) do(method, path, token, body string) response {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, b}
}

// api calls the admin API as alice and wants status.
func (w *world) api(method, path, body string, status int) map[string]any {
	w.t.Helper()
	return w.as(w.alice, method, path, body, status)
}

func (w *world) as(token, method, path, body string, status int) map[string]any {
	w.t.Helper()
	r := w.do(method, "/api/v1"+path, token, body)
	if r.status != status {
		w.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		w.t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return r.obj(w.t)
}

// createUser pushes user name@domain to app through SCIM, as Okta does.
func (w *world) createUser(app, name, domain string) {
	w.t.Helper()
	email := name + "@" + domain
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,
		"name":{"givenName":%q,"familyName":"Doe"},"emails":[{"primary":true,"type":"work","value":%q}],
		"displayName":"%s Doe","active":true}`, email, name, email, name)
	r := w.do("POST", "/apps/"+app+"/scim/v2/Users", w.scim[app], body)
	if r.status != http.StatusCreated {
		w.t.Fatalf("create %s: status %d: %s", email, r.status, r.body)
	}
	w.userID[name] = r.obj(w.t)["id"].(string)
}

// dispatch runs the engine until the outbox is drained.
func (w *world) dispatch() {
	w.t.Helper()
	for {
		n, err := w.eng.Dispatch(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// populated is a world with alice, bob and carol (an Admin, so her task
// awaits approval) in peopleai and dave in wiki, each with a create task.
func populated(t *testing.T) *world {
	w := newWorld(t)
	w.createUser("peopleai", "alice", "example.com")
	w.createUser("peopleai", "bob", "example.com")
	w.createUser("peopleai", "carol", "admins.example.com")
	w.createUser("wiki", "dave", "example.com")
	w.dispatch()
	return w
}

// taskOf returns the id of the newest task of user (short name).
func (w *world) taskOf(user string) int64 {
	w.t.Helper()
	list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{UserID: w.userID[user]})
	if err != nil || len(list) == 0 {
		w.t.Fatalf("no task of %s: %v", user, err)
	}
	return list[len(list)-1].ID
}

// summary renders a list of objects as "field field …" lines.
func summary(t *testing.T, v any, fields ...string) []string {
	t.Helper()
	list, ok := v.([]any)
	if !ok {
		t.Fatalf("not a list: %v", v)
	}
	out := []string{}
	for _, item := range list {
		m := item.(map[string]any)
		var parts []string
		for _, f := range fields {
			parts = append(parts, fmt.Sprint(m[f]))
		}
		out = append(out, strings.Join(parts, " "))
	}
	return out
}

func TestAuthentication(t *testing.T) {
	w := populated(t)
	ctx := context.Background()
	revoked, rec, err := scim.IssueAdminToken(ctx, w.db, "mallory", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, rec.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, method, path, token string
		status                    int
	}{
		{"admin token", "GET", "/api/v1/tasks", w.alice, http.StatusOK},
		{"no token", "GET", "/api/v1/tasks", "", http.StatusUnauthorized},
		{"malformed token", "GET", "/api/v1/tasks", "sbt_nope", http.StatusUnauthorized},
		{"SCIM token", "GET", "/api/v1/tasks", w.scim["peopleai"], http.StatusUnauthorized},
		{"revoked admin token", "GET", "/api/v1/tasks", revoked, http.StatusUnauthorized},
		{"SCIM token moving a task", "POST", "/api/v1/tasks/1/claim", w.scim["peopleai"], http.StatusUnauthorized},
		{"no token on a path that does not exist", "GET", "/api/v1/secrets", "", http.StatusUnauthorized},
		{"admin token on SCIM", "GET", "/apps/peopleai/scim/v2/Users", w.alice, http.StatusUnauthorized},
		{"admin token creating a SCIM user", "POST", "/apps/peopleai/scim/v2/Users", w.alice, http.StatusUnauthorized},
		{"SCIM token on SCIM", "GET", "/apps/peopleai/scim/v2/Users", w.scim["peopleai"], http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := ""
			if c.method == "POST" {
				body = `{}`
			}
			r := w.do(c.method, c.path, c.token, body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if c.status != http.StatusUnauthorized || !strings.HasPrefix(c.path, "/api/") {
				return
			}
			if r.header.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if m := r.obj(t); m["status"] != float64(401) || !strings.Contains(fmt.Sprint(m["error"]), "admin token") {
				t.Errorf("body %s", r.body)
			}
		})
	}
	// Nothing the refused requests tried happened.
	if got := w.api("GET", "/tasks/1", "", 200)["status"]; got != "open" {
		t.Errorf("task 1 is %v after a SCIM token tried to claim it", got)
	}
}

func TestLists(t *testing.T) {
	w := populated(t)
	carolTask := w.taskOf("carol")
	cases := []struct {
		name   string
		path   string
		status int
		key    string   // the list in the answer
		fields []string // what to summarise of each element
		want   []string
		next   any // nextAfter; nil when absent
	}{
		{name: "apps", path: "/apps", status: 200, key: "apps", fields: []string{"name", "profile", "executor", "verification"},
			want: []string{"peopleai peopleai manual import", "sixsense sixsense manual admin", "wiki manual manual admin"}},
		{name: "accounts", path: "/apps/peopleai/accounts", status: 200, key: "accounts", fields: []string{"userName", "state"},
			want: []string{"alice@example.com pending", "bob@example.com pending", "carol@admins.example.com pending"}},
		{name: "accounts by state", path: "/apps/peopleai/accounts?state=active", status: 200, key: "accounts", want: []string{}},
		{name: "accounts of another app", path: "/apps/wiki/accounts", status: 200, key: "accounts", fields: []string{"userName"},
			want: []string{"dave@example.com"}},
		{name: "accounts of no app", path: "/apps/nope/accounts", status: 404},
		{name: "accounts by a bad state", path: "/apps/peopleai/accounts?state=happy", status: 400},
		{name: "tasks", path: "/tasks", status: 200, key: "tasks", fields: []string{"userName", "kind", "role", "status"},
			want: []string{"alice@example.com create User (Standard) open", "bob@example.com create User (Standard) open",
				"carol@admins.example.com create Admin awaiting_approval", "dave@example.com create Member open"}},
		{name: "tasks of an app", path: "/tasks?app=wiki", status: 200, key: "tasks", fields: []string{"userName"},
			want: []string{"dave@example.com"}},
		{name: "tasks by status", path: "/tasks?status=awaiting_approval", status: 200, key: "tasks", fields: []string{"id"},
			want: []string{fmt.Sprint(carolTask)}},
		{name: "pending tasks", path: "/tasks?status=pending&app=peopleai", status: 200, key: "tasks", fields: []string{"status"},
			want: []string{"open", "open", "awaiting_approval"}},
		{name: "no done tasks", path: "/tasks?status=done", status: 200, key: "tasks", want: []string{}},
		{name: "tasks of a user", path: "/tasks?user=" + w.userID["bob"], status: 200, key: "tasks", fields: []string{"userName"},
			want: []string{"bob@example.com"}},
		{name: "first page", path: "/tasks?limit=2", status: 200, key: "tasks", fields: []string{"id"},
			want: []string{"1", "2"}, next: float64(2)},
		{name: "last page", path: "/tasks?limit=2&after=2", status: 200, key: "tasks", fields: []string{"id"},
			want: []string{"3", "4"}},
		{name: "past the end", path: "/tasks?after=4", status: 200, key: "tasks", want: []string{}},
		{name: "tasks of no app", path: "/tasks?app=nope", status: 400},
		{name: "bad status", path: "/tasks?status=finished", status: 400},
		{name: "limit 0", path: "/tasks?limit=0", status: 400},
		{name: "limit over the maximum", path: "/tasks?limit=1001", status: 400},
		{name: "bad after", path: "/tasks?after=-1", status: 400},
		{name: "audit of a user", path: "/audit?app=wiki&user=" + w.userID["dave"], status: 200, key: "entries",
			fields: []string{"actor", "what", "to"}, want: []string{"scimbridge task create open", "scimbridge account pending"}},
		{name: "audit page", path: "/audit?limit=1", status: 200, key: "entries", fields: []string{"seq"},
			want: []string{"1"}, next: float64(1)},
		{name: "audit of no app", path: "/audit?app=nope", status: 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := w.api("GET", c.path, "", c.status)
			if c.status != 200 {
				if m["status"] != float64(c.status) || m["error"] == "" {
					t.Errorf("error body %v", m)
				}
				return
			}
			if got := summary(t, m[c.key], c.fields...); !slices.Equal(got, c.want) {
				t.Errorf("%s:\n got  %q\n want %q", c.key, got, c.want)
			}
			if m["nextAfter"] != c.next {
				t.Errorf("nextAfter = %v, want %v", m["nextAfter"], c.next)
			}
		})
	}

	t.Run("app counts", func(t *testing.T) {
		m := w.api("GET", "/apps/peopleai", "", 200)
		counts, _ := json.Marshal(map[string]any{"accounts": m["accounts"], "tasks": m["tasks"],
			"roles": summary(t, m["roles"], "name"), "defaultRole": m["defaultRole"]})
		want := `{"accounts":{"absent":0,"active":0,"awaiting_login":0,"blocked":0,"deactivated":0,"deleted":0,"pending":3},` +
			`"defaultRole":"User (Standard)","roles":["Admin","User (Standard)"],` +
			`"tasks":{"byStatus":{"awaiting_approval":1,"claimed":0,"open":2},"overdue":0,"pending":3}}`
		if string(counts) != want {
			t.Errorf("peopleai:\n got  %s\n want %s", counts, want)
		}
	})

	t.Run("same shape as the command line", func(t *testing.T) {
		tk, err := queue.In(w.db.ReadSQL()).Task(context.Background(), carolTask)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(api.TaskJSON(tk, time.Now()))
		got := w.api("GET", "/tasks?status=awaiting_approval", "", 200)["tasks"].([]any)[0]
		gotJSON, _ := json.Marshal(got)
		var a, b any
		json.Unmarshal(want, &a)
		json.Unmarshal(gotJSON, &b)
		if fmt.Sprint(a) != fmt.Sprint(b) {
			t.Errorf("API task\n %s\nCLI task\n %s", gotJSON, want)
		}
		if steps := b.(map[string]any)["steps"].([]any); len(steps) == 0 || !strings.Contains(fmt.Sprint(steps), "carol@admins.example.com") {
			t.Errorf("steps %v", steps)
		}
	})
}

func TestClaimAndDone(t *testing.T) {
	w := populated(t)
	for _, c := range []struct {
		user       string
		app        string
		doneStatus string // verification by import leaves it done; by admin, verified
	}{
		{"alice", "peopleai", "done"},
		{"dave", "wiki", "verified"},
	} {
		t.Run(c.app, func(t *testing.T) {
			id := w.taskOf(c.user)
			path := fmt.Sprintf("/tasks/%d", id)
			m := w.api("POST", path+"/claim", "", 200)
			if m["status"] != "claimed" || m["by"] != "Alice Admin" {
				t.Errorf("claim: %v", m)
			}
			// Given back and claimed again.
			if m = w.api("POST", path+"/unclaim", "", 200); m["status"] != "open" {
				t.Errorf("unclaim: %v", m)
			}
			w.api("POST", path+"/unclaim", "", 409)
			w.api("POST", path+"/claim", "", 200)
			m = w.api("POST", path+"/done", `{"note":"added in the console","evidence":"https://tickets.example.com/42"}`, 200)
			if m["status"] != c.doneStatus || m["note"] != "added in the console" || m["evidence"] != "https://tickets.example.com/42" {
				t.Errorf("done: %v", m)
			}
			// The account follows what the admin reported.
			accts := w.api("GET", "/apps/"+c.app+"/accounts?state=active", "", 200)["accounts"]
			if got := summary(t, accts, "userId"); !slices.Contains(got, w.userID[c.user]) {
				t.Errorf("active accounts %v lack %s", got, c.user)
			}
			// The audit trail names the admin token's name as the actor.
			entries := w.api("GET", "/audit?app="+c.app+"&user="+w.userID[c.user], "", 200)["entries"]
			got := summary(t, entries, "actor", "what", "from", "to")
			for _, want := range []string{"Alice Admin task create open claimed", "Alice Admin task create claimed done"} {
				if !slices.Contains(got, want) {
					t.Errorf("audit lacks %q:\n%q", want, got)
				}
			}
			hist := w.api("GET", path, "", 200)
			if got := summary(t, hist["history"], "actor", "to"); !slices.Contains(got, "Alice Admin claimed") {
				t.Errorf("task history %q", got)
			}
		})
	}
}

// TestImport verifies done tasks from an uploaded export, after a dry
// run that changes nothing.
func TestImport(t *testing.T) {
	w := populated(t)
	alice := w.taskOf("alice")
	w.api("POST", fmt.Sprintf("/tasks/%d/done", alice), `{"note":"added"}`, 200)
	export := "Email,Status,Role\nalice@example.com,active,User (Standard)\nmallory@example.com,active,Admin\n"
	for _, c := range []struct {
		query   string
		applied bool
		status  string // alice's task afterwards
	}{
		{"?mode=delta", false, "done"},
		{"?mode=delta&apply=true", true, "verified"},
	} {
		m := w.api("POST", "/apps/peopleai/import"+c.query, export, 200)
		sum, _ := m["summary"].(map[string]any)
		if m["applied"] != c.applied || sum["verify"] != float64(1) || sum["orphan"] != float64(1) {
			t.Errorf("%s: %v", c.query, m)
		}
		if got := w.api("GET", fmt.Sprintf("/tasks/%d", alice), "", 200)["status"]; got != c.status {
			t.Errorf("%s: alice's task is %v, want %s", c.query, got, c.status)
		}
	}
}

func TestMoveErrors(t *testing.T) {
	w := populated(t)
	alice, bob := w.taskOf("alice"), w.taskOf("bob")
	w.api("POST", fmt.Sprintf("/tasks/%d/done", alice), `{"note":"done"}`, 200)
	big := `{"note":"` + strings.Repeat("x", api.DefaultMaxBodyBytes) + `"}`
	cases := []struct {
		name, method, path, body string
		status                   int
		msg                      string // part of the error
		allow                    string
	}{
		{"unknown task", "POST", "/tasks/999/claim", "", 404, "no task 999", ""},
		{"not a task id", "POST", "/tasks/abc/claim", "", 404, "no task", ""},
		{"unknown task shown", "GET", "/tasks/999", "", 404, "no task 999", ""},
		{"forbidden move", "POST", fmt.Sprintf("/tasks/%d/claim", alice), "", 409, fmt.Sprintf("task %d is done; it cannot become claimed", alice), ""},
		{"approve an open task", "POST", fmt.Sprintf("/tasks/%d/approve", bob), "", 409, "cannot become open", ""},
		{"done without a note", "POST", fmt.Sprintf("/tasks/%d/done", bob), `{"evidence":"x"}`, 400, "note is required", ""},
		{"done with a blank note", "POST", fmt.Sprintf("/tasks/%d/done", bob), `{"note":"  "}`, 400, "note is required", ""},
		{"fail without a body", "POST", fmt.Sprintf("/tasks/%d/fail", bob), "", 400, "note is required", ""},
		{"fail without a note", "POST", fmt.Sprintf("/tasks/%d/fail", bob), `{}`, 400, "note is required", ""},
		{"unknown field", "POST", fmt.Sprintf("/tasks/%d/done", bob), `{"note":"x","evidense":"y"}`, 400, `unknown field "evidense"`, ""},
		{"a note on a claim", "POST", fmt.Sprintf("/tasks/%d/claim", bob), `{"note":"x"}`, 400, `unknown field "note"`, ""},
		{"evidence on a failure", "POST", fmt.Sprintf("/tasks/%d/fail", bob), `{"note":"x","evidence":"y"}`, 400, `unknown field "evidence"`, ""},
		{"not JSON", "POST", fmt.Sprintf("/tasks/%d/done", bob), `note=x`, 400, "request body", ""},
		{"two objects", "POST", fmt.Sprintf("/tasks/%d/done", bob), `{"note":"x"}{"note":"y"}`, 400, "one JSON object", ""},
		{"body over the limit", "POST", fmt.Sprintf("/tasks/%d/done", bob), big, 413, "larger than 1048576 bytes", ""},
		{"wrong method on a move", "GET", fmt.Sprintf("/tasks/%d/claim", bob), "", 405, "use POST", "POST"},
		{"wrong method on a list", "POST", "/tasks", `{}`, 405, "method POST", "GET, HEAD"},
		{"wrong method on apps", "DELETE", "/apps", "", 405, "", "GET, HEAD"},
		{"no such endpoint", "GET", "/secrets", "", 404, "no such endpoint", ""},
		{"no such move", "POST", fmt.Sprintf("/tasks/%d/frobnicate", bob), "", 404, "no such endpoint", ""},
		{"tasks with a trailing slash", "GET", "/tasks/", "", 404, "no such endpoint", ""},
		{"no such app", "GET", "/apps/nope", "", 404, `no app "nope"`, ""},
		{"import without a mode", "POST", "/apps/peopleai/import", "Email\nalice@example.com\n", 400, "mode is required", ""},
		{"import with a bad mode", "POST", "/apps/peopleai/import?mode=full", "Email\n", 400, "mode", ""},
		{"import with a bad apply", "POST", "/apps/peopleai/import?mode=delta&apply=maybe", "Email\n", 400, "apply", ""},
		{"import of a bad export", "POST", "/apps/peopleai/import?mode=delta", "Email,Status\nalice@example.com,on leave\n", 400, "row 2", ""},
		{"import of no app", "POST", "/apps/nope/import", "", 404, `no app "nope"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := w.api(c.method, c.path, c.body, c.status)
			if m["status"] != float64(c.status) || !strings.Contains(fmt.Sprint(m["error"]), c.msg) {
				t.Errorf("body %v, want status %d and %q", m, c.status, c.msg)
			}
			if c.allow != "" {
				if got := w.do(c.method, "/api/v1"+c.path, w.alice, c.body).header.Get("Allow"); got != c.allow {
					t.Errorf("Allow %q, want %q", got, c.allow)
				}
			}
		})
	}
	// None of the refused moves changed bob's task.
	if m := w.api("GET", fmt.Sprintf("/tasks/%d", bob), "", 200); m["status"] != "open" {
		t.Errorf("bob's task is %v", m["status"])
	}
}

// TestApproveOwnRequest: a request is what an actor's move plans. When
// alice reports carol's Admin task failed, the replanned task awaits
// approval on alice's word; alice cannot approve it, bob can.
func TestApproveOwnRequest(t *testing.T) {
	w := populated(t)
	first := w.taskOf("carol")
	w.as(w.bob, "POST", fmt.Sprintf("/tasks/%d/approve", first), "", 200)
	w.api("POST", fmt.Sprintf("/tasks/%d/fail", first), `{"note":"the console was down"}`, 200)
	again := w.taskOf("carol")
	if again == first {
		t.Fatal("failing the task planned no new one")
	}
	m := w.api("GET", fmt.Sprintf("/tasks/%d", again), "", 200)
	if m["status"] != "awaiting_approval" || m["by"] != "Alice Admin" {
		t.Fatalf("new task: %v", m)
	}
	path := fmt.Sprintf("/tasks/%d", again)
	for _, verb := range []string{"approve", "reject"} {
		body := ""
		if verb == "reject" {
			body = `{"note":"no"}`
		}
		m = w.api("POST", path+"/"+verb, body, 403)
		if !strings.Contains(fmt.Sprint(m["error"]), "cannot be approved or rejected by the person who made it") {
			t.Errorf("%s own request: %v", verb, m)
		}
	}
	if m := w.as(w.bob, "POST", path+"/approve", "", 200); m["status"] != "open" || m["by"] != "bob" {
		t.Errorf("bob's approval: %v", m)
	}
}

// TestInternalErrorHidden closes the database under the API: the client
// learns only a request id, the log has the cause under the same id.
func TestInternalErrorHidden(t *testing.T) {
	w := populated(t)
	w.api("GET", "/tasks", "", 200) // the token is now known and fresh
	w.db.Close()
	r := w.do("GET", "/api/v1/tasks", w.alice, "")
	if r.status != http.StatusInternalServerError {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	id := r.header.Get("X-Request-Id")
	m := r.obj(t)
	msg := fmt.Sprint(m["error"])
	if id == "" || !strings.Contains(msg, id) || m["status"] != float64(500) {
		t.Errorf("500 body %s does not give the request id %q", r.body, id)
	}
	for _, internal := range []string{"sql", "closed", "database", "tasks"} {
		if strings.Contains(strings.ToLower(msg), internal) {
			t.Errorf("500 body leaks %q: %s", internal, r.body)
		}
	}
	logs := w.logs.String()
	if !strings.Contains(logs, `"request_id":"`+id+`"`) || !strings.Contains(logs, "closed") {
		t.Errorf("the log lacks the cause under request id %s:\n%s", id, logs)
	}
}
