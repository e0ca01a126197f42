package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// grcApp is a 6clicks-like app with a user API, served in the test:
// users, items with owners, deactivation and reassignment. Calls carry
// an Idempotency-Key; a call seen before gets its first answer again and
// changes nothing. Faults can be queued per route.
type grcApp struct {
	mu        sync.Mutex
	users     map[string]*grcUser
	order     []string
	owners    map[int]string // item → owner's id
	moves     []string       // "item from→to", one per move
	answers   map[string]grcAnswer
	faults    map[string][]grcFault
	reassigns int // reassignments performed
	performed chan struct{}
	release   chan struct{}
}

type grcUser struct {
	ID, Email, Type string
	Active          bool
}

type grcAnswer struct {
	status int
	body   string
}

// grcFault is a queued answer: a status (with Retry-After), or perform
// then hang until release is closed, standing for a server that did the
// work but whose answer never arrived.
type grcFault struct {
	status     int
	retryAfter string
	hang       bool
}

func newGRCApp(t *testing.T) (*grcApp, *httptest.Server) {
	g := &grcApp{users: map[string]*grcUser{}, owners: map[int]string{}, answers: map[string]grcAnswer{},
		faults: map[string][]grcFault{}, performed: make(chan struct{}, 1), release: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /users", g.auth(g.create))
	mux.HandleFunc("POST /users/{id}/deactivate", g.auth(g.deactivate))
	mux.HandleFunc("POST /users/{id}/reassign", g.auth(g.reassign))
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		g.mu.Lock()
		select {
		case <-g.release:
		default:
			close(g.release)
		}
		g.mu.Unlock()
		srv.Close()
	})
	return g, srv
}

func (g *grcApp) auth(h func(w http.ResponseWriter, r *http.Request) grcAnswer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer grc-s3cret" {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		key := r.Header.Get("Idempotency-Key")
		g.mu.Lock()
		if a, ok := g.answers[key]; ok && key != "" {
			g.mu.Unlock()
			w.WriteHeader(a.status)
			fmt.Fprint(w, a.body)
			return
		}
		g.mu.Unlock()
		a := h(w, r)
		if a.status == 0 {
			return // the handler answered (a fault)
		}
		if a.status < 300 {
			g.mu.Lock()
			g.answers[key] = a
			g.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		fmt.Fprint(w, a.body)
	}
}

// fault pops the next fault of route; ok is false when none is queued.
func (g *grcApp) fault(w http.ResponseWriter, route string) (hang, answered bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	q := g.faults[route]
	if len(q) == 0 {
		return false, false
	}
	f := q[0]
	g.faults[route] = q[1:]
	if f.hang {
		return true, false
	}
	if f.retryAfter != "" {
		w.Header().Set("Retry-After", f.retryAfter)
	}
	http.Error(w, "injected", f.status)
	return false, true
}

func (g *grcApp) create(w http.ResponseWriter, r *http.Request) grcAnswer {
	var b struct{ Email, Type string }
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil || b.Email == "" {
		return grcAnswer{400, `{"error":"email required"}`}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	id := fmt.Sprintf("u%d", len(g.users)+1)
	g.users[id] = &grcUser{ID: id, Email: b.Email, Type: b.Type, Active: true}
	g.order = append(g.order, id)
	return grcAnswer{201, `{"data":{"id":"` + id + `"}}`}
}

func (g *grcApp) deactivate(w http.ResponseWriter, r *http.Request) grcAnswer {
	g.mu.Lock()
	defer g.mu.Unlock()
	u, ok := g.users[r.PathValue("id")]
	if !ok {
		return grcAnswer{404, `{"error":"no such user"}`}
	}
	u.Active = false
	return grcAnswer{200, `{}`}
}

func (g *grcApp) reassign(w http.ResponseWriter, r *http.Request) grcAnswer {
	hang, answered := g.fault(w, "reassign")
	if answered {
		return grcAnswer{}
	}
	var b struct{ To string }
	if err := json.NewDecoder(r.Body).Decode(&b); err != nil {
		return grcAnswer{400, `{"error":"bad body"}`}
	}
	g.mu.Lock()
	from := r.PathValue("id")
	to, ok := g.users[b.To]
	if _, known := g.users[from]; !known || !ok {
		g.mu.Unlock()
		return grcAnswer{404, `{"error":"no such user"}`}
	}
	if !to.Active {
		g.mu.Unlock()
		return grcAnswer{409, `{"error":"the receiver is inactive"}`}
	}
	n := 0
	for item, owner := range g.owners {
		if owner == from {
			g.owners[item] = b.To
			g.moves = append(g.moves, fmt.Sprintf("%d %s→%s", item, from, b.To))
			n++
		}
	}
	g.reassigns++
	a := grcAnswer{200, fmt.Sprintf(`{"moved":%d}`, n)}
	if hang {
		// The work is done and remembered under the key; the answer is
		// lost with the server that waits for it.
		g.answers[r.Header.Get("Idempotency-Key")] = a
		g.mu.Unlock()
		g.performed <- struct{}{}
		<-g.release
		return grcAnswer{}
	}
	g.mu.Unlock()
	return a
}

func (g *grcApp) idOf(email string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, id := range g.order {
		if g.users[id].Email == email {
			return id
		}
	}
	return ""
}

// TestSixclicksLeaverReassigned: a 6clicks-like app with an API. A
// leaver's items all end with the default reassignee exactly once,
// despite a 429, a 500 and a SIGKILL of scimbridge after the app did the
// reassignment but before scimbridge heard; an inactive default
// reassignee makes the next leaver's reassignment an admin's choice.
func TestSixclicksLeaverReassigned(t *testing.T) {
	app, api := newGRCApp(t)
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "scimbridge.yaml")
	headers := `{Authorization: 'Bearer {{secret "token"}}'}`
	config := fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: grc
    profile: sixclicks
    reassign:
      default: grc@example.com
    rest:
      base_url: %s
      rate_per_minute: 100
      secrets:
        token: {env: GRC_TOKEN}
      actions:
        create:
          method: POST
          url: "{{.Base}}/users"
          headers: %s
          body: '{"email": {{.Account.Email}}, "type": {{.Task.Role}}}'
          id_field: data.id
        deactivate:
          method: POST
          url: "{{.Base}}/users/{{.Account.AppUserID}}/deactivate"
          headers: %s
        reassign:
          method: POST
          url: "{{.Base}}/users/{{.Account.AppUserID}}/reassign"
          headers: %s
          body: '{"to": {{.Params.target_app_user_id}}}'
`, addr, api.URL, headers, headers, headers)
	if err := os.WriteFile(cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), "GRC_TOKEN=grc-s3cret", "SCIMBRIDGE_ACTOR=ann.admin")
	run := func(args ...string) string {
		t.Helper()
		c := exec.Command(bin, args...)
		c.Env = env
		out, err := c.Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return string(out)
	}
	token := strings.TrimSpace(run("token", "create", "-config", cfg, "-app", "grc"))
	base := "http://" + addr
	var logs lockedBuffer
	start := func() (*exec.Cmd, chan error) {
		t.Helper()
		srv := exec.Command(bin, "serve", "-config", cfg)
		srv.Env, srv.Stderr = env, &logs
		if err := srv.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- srv.Wait() }()
		waitHealthy(t, base, exited, &logs)
		return srv, exited
	}
	srv, exited := start()
	t.Cleanup(func() { srv.Process.Kill() })

	scimDo := func(method, path, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/apps/grc/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode >= 300 {
			t.Fatalf("%s %s: %d %v", method, path, res.StatusCode, m)
		}
		return m
	}
	ids := map[string]string{}
	for _, n := range []string{"grc", "ann", "bob"} {
		ids[n] = scimDo("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+n+
			`@example.com","active":true,"emails":[{"primary":true,"type":"work","value":"`+n+`@example.com"}]}`)["id"].(string)
	}
	wait := func(what string, ok func() bool) {
		t.Helper()
		deadline := time.Now().Add(90 * time.Second)
		for !ok() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\n%s", what, logs.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	wait("the app's accounts", func() bool { return app.idOf("bob@example.com") != "" })
	grcID, annID, bobID := app.idOf("grc@example.com"), app.idOf("ann@example.com"), app.idOf("bob@example.com")
	app.mu.Lock()
	for item := 1; item <= 5; item++ {
		app.owners[item] = annID
	}
	app.owners[6] = bobID
	app.faults["reassign"] = []grcFault{{status: 429, retryAfter: "1"}, {status: 500}, {hang: true}}
	app.mu.Unlock()

	type taskJSON struct {
		ID       int64             `json:"id"`
		Kind     string            `json:"kind"`
		Status   string            `json:"status"`
		UserName string            `json:"userName"`
		Executor string            `json:"executor"`
		Params   map[string]string `json:"params"`
	}
	tasks := func() map[string]taskJSON {
		var list []taskJSON
		json.Unmarshal([]byte(run("tasks", "list", "-config", cfg, "-json")), &list)
		m := map[string]taskJSON{}
		for _, tk := range list {
			m[strings.TrimSuffix(tk.UserName, "@example.com")+" "+tk.Kind] = tk
		}
		return m
	}

	// ann leaves. The reassignment meets a 429, then a 500, then the app
	// does it and scimbridge dies before the answer.
	scimDo("PATCH", "/Users/"+ids["ann"], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	select {
	case <-app.performed:
	case <-time.After(90 * time.Second):
		t.Fatalf("the reassignment never reached the app\n%s", logs.String())
	}
	srv.Process.Kill()
	<-exited
	close(app.release)
	srv, exited = start()

	wait("ann's reassignment and deactivation", func() bool {
		m := tasks()
		return m["ann reassign"].Status == "verified" && m["ann deactivate"].Status == "verified"
	})
	app.mu.Lock()
	for item := 1; item <= 5; item++ {
		if app.owners[item] != grcID {
			t.Errorf("item %d is owned by %s, want the default reassignee %s", item, app.owners[item], grcID)
		}
	}
	if app.owners[6] != bobID {
		t.Errorf("bob's item moved")
	}
	if app.reassigns != 1 || len(app.moves) != 5 {
		t.Errorf("%d reassignments and moves %v; want one, of 5 items", app.reassigns, app.moves)
	}
	if app.users[annID].Active {
		t.Error("ann is still active in the app")
	}
	app.mu.Unlock()
	m := tasks()
	if tk := m["ann reassign"]; tk.Executor != "rest" || tk.Params["target_email"] != "grc@example.com" {
		t.Errorf("ann's reassign task: %+v", tk)
	}

	// The default reassignee leaves too: the next leaver's items wait for
	// an admin's choice, and nothing is sent to the app for them.
	scimDo("PATCH", "/Users/"+ids["grc"], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	scimDo("PATCH", "/Users/"+ids["bob"], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`)
	wait("bob's reassignment task", func() bool { _, ok := tasks()["bob reassign"]; return ok })
	bob := tasks()["bob reassign"]
	if bob.Executor != "manual" || bob.Status != "open" || !strings.Contains(bob.Params["why"], "grc@example.com is deactivated") {
		t.Errorf("bob's reassign task: %+v", bob)
	}
	time.Sleep(1500 * time.Millisecond) // executors poll every second
	app.mu.Lock()
	if app.owners[6] != bobID || !slices.Contains([]int{1}, app.reassigns) {
		t.Errorf("bob's items were sent somewhere: owner %s, %d reassignments", app.owners[6], app.reassigns)
	}
	app.mu.Unlock()
	if strings.Contains(logs.String(), "grc-s3cret") {
		t.Error("the API's secret reached the logs")
	}
}
