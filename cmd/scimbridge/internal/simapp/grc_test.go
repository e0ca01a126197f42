package simapp

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

func newTestGRC(t *testing.T) *GRC {
	t.Helper()
	g, err := NewGRC("s3cret")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := g.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return g
}

// call sends a request to the app's API and returns the status and body.
func call(t *testing.T, g *GRC, method, path, token, key, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequest(method, g.URL()+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, strings.TrimSpace(string(b))
}

func TestGRCAPI(t *testing.T) {
	g := newTestGRC(t)
	if st, _ := call(t, g, "POST", "/api/users", "wrong", "", `{"email":"a@example.com","type":"User"}`); st != http.StatusUnauthorized {
		t.Errorf("wrong token: %d", st)
	}
	for _, c := range []struct{ body, want string }{
		{`{"email":"nobody","type":"User"}`, "email is required"},
		{`{"email":"a@example.com","type":"Boss"}`, `type \"Boss\"`},
		{`not json`, "not JSON"},
	} {
		if st, b := call(t, g, "POST", "/api/users", "s3cret", "", c.body); st != http.StatusBadRequest || !strings.Contains(b, c.want) {
			t.Errorf("create %s: %d %s", c.body, st, b)
		}
	}
	st, b := call(t, g, "POST", "/api/users", "s3cret", "k1", `{"email":"ann@example.com","type":"User"}`)
	if st != http.StatusCreated || b != `{"data":{"id":"u1"}}` {
		t.Fatalf("create: %d %s", st, b)
	}
	// A retry with the same key gets the first answer and creates nobody.
	if st, b2 := call(t, g, "POST", "/api/users", "s3cret", "k1", `{"email":"ann@example.com","type":"User"}`); st != http.StatusCreated || b2 != b {
		t.Errorf("retry: %d %s", st, b2)
	}
	if st, b := call(t, g, "POST", "/api/users", "s3cret", "k2", `{"email":"ANN@example.com","type":"User"}`); st != http.StatusConflict {
		t.Errorf("a second ann: %d %s", st, b)
	}
	call(t, g, "POST", "/api/users", "s3cret", "k3", `{"email":"bob@example.com","type":"Respondent"}`)

	if st, b := call(t, g, "POST", "/api/users/u1/reassign", "s3cret", "k4", `{"to":"u1"}`); st != http.StatusBadRequest {
		t.Errorf("to oneself: %d %s", st, b)
	}
	if st, b := call(t, g, "POST", "/api/users/u1/reassign", "s3cret", "k5", `{"to":"u9"}`); st != http.StatusNotFound {
		t.Errorf("to nobody: %d %s", st, b)
	}
	if st, b := call(t, g, "POST", "/api/users/u1/reassign", "s3cret", "k6", `{"to":"u2"}`); st != http.StatusOK || b != `{"moved":3}` {
		t.Fatalf("reassign: %d %s", st, b)
	}
	if st, _ := call(t, g, "POST", "/api/users/u1/reassign", "s3cret", "k6", `{"to":"u2"}`); st != http.StatusOK {
		t.Errorf("reassign retried: %d", st)
	}
	if st, _ := call(t, g, "POST", "/api/users/u1/deactivate", "s3cret", "k7", ""); st != http.StatusOK {
		t.Errorf("deactivate: %d", st)
	}
	if st, b := call(t, g, "POST", "/api/users/u2/reassign", "s3cret", "k8", `{"to":"u1"}`); st != http.StatusConflict || !strings.Contains(b, "inactive") {
		t.Errorf("to an inactive user: %d %s", st, b)
	}
	if st, _ := call(t, g, "PATCH", "/api/users/u2", "s3cret", "k9", `{"type":"User"}`); st != http.StatusOK {
		t.Errorf("set type: %d", st)
	}
	if st, _ := call(t, g, "POST", "/api/users/u1/activate", "s3cret", "k10", `{"type":"Advisor"}`); st != http.StatusOK {
		t.Errorf("activate: %d", st)
	}

	s := g.State()
	if len(s.Users) != 2 || len(s.Reassignments) != 1 || s.Reassignments[0] != (Reassignment{"ann@example.com", "bob@example.com", 3}) {
		t.Fatalf("state: %+v", s)
	}
	ann, bob := s.Users[0], s.Users[1]
	if !ann.Active || ann.Type != "Advisor" || len(ann.Items) != 0 || bob.Type != "User" || len(bob.Items) != 6 {
		t.Errorf("users: %+v", s.Users)
	}
	// Calls count what reached a route, refusals and repeats included;
	// a body that is not JSON does not.
	if s.Calls["create"] != 6 || s.Calls["reassign"] != 5 {
		t.Errorf("calls: %v", s.Calls)
	}
	notes := strings.Join(g.Notes(), "\n")
	for _, want := range []string{"added ann@example.com as User", "handed the 3 items of ann@example.com to bob@example.com", "nothing done twice"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes lack %q:\n%s", want, notes)
		}
	}
	if len(g.Notes()) != 0 {
		t.Error("notes are given twice")
	}
	// People can look without the token.
	res, err := http.Get(g.URL() + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "bob@example.com") {
		t.Errorf("home page: %d %.300s", res.StatusCode, page)
	}
}

func TestStandInsRefuseBadSettings(t *testing.T) {
	if _, err := NewGRC(""); err == nil {
		t.Error("a 6clicks-like app without a token")
	}
	if _, err := NewJITApp("Six Sense", "6sense", "Insights User"); err == nil {
		t.Error("a JIT app with a bad name")
	}
	if _, err := NewJITApp("sixsense", "6sense", ""); err == nil {
		t.Error("a JIT app without a role")
	}
	if _, err := NewCompanyIdP(nil, nil); err == nil {
		t.Error("an IdP with nobody")
	}
}
