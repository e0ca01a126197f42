package scim_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
)

type observed struct {
	method, path, app string
	status            int
	elapsed           time.Duration
}

// TestObserverSeesKnownAppsOnly: the observer learns each SCIM request's
// status and its app, but never an app name that is not configured.
func TestObserverSeesKnownAppsOnly(t *testing.T) {
	var (
		mu  sync.Mutex
		got []observed
	)
	obs := func(r *http.Request, app string, status int, elapsed time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, observed{r.Method, r.URL.Path, app, status, elapsed})
	}
	h := newHarnessObserved(t, nil, []scim.Observer{obs}, "acme")
	u := h.createUser(simpleUser("ann@example.com"))
	wrong := "sbt_0000000000000000_" + strings.Repeat("x", 43)
	h.get("/Users/" + str(u["id"]))
	h.do(request{method: "GET", path: "/Users", token: &wrong})
	h.do(request{method: "GET", path: "/Users", app: "made-up"})
	h.do(request{method: "DELETE", path: "/ServiceProviderConfig"})

	want := []struct {
		method, path, app string
		status            int
	}{
		{"POST", "/apps/acme/scim/v2/Users", "acme", 201},
		{"GET", "/apps/acme/scim/v2/Users/" + str(u["id"]), "acme", 200},
		{"GET", "/apps/acme/scim/v2/Users", "acme", 401},
		{"GET", "/apps/made-up/scim/v2/Users", "", 401},
		{"DELETE", "/apps/acme/scim/v2/ServiceProviderConfig", "acme", 405},
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != len(want) {
		t.Fatalf("observed %d requests, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if g.method != w.method || g.path != w.path || g.app != w.app || g.status != w.status {
			t.Errorf("request %d: observed %+v, want %+v", i, g, w)
		}
		if g.elapsed <= 0 {
			t.Errorf("request %d: elapsed %v", i, g.elapsed)
		}
	}
}

// logLines decodes JSON log lines.
func logLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// TestLogHandlerAddsRequestID: lines that inner handlers log with the
// request's context carry its id, once; lines outside a request do not.
func TestLogHandlerAddsRequestID(t *testing.T) {
	var logs syncBuffer
	log := slog.New(scim.LogHandler(scim.LogHandler(slog.NewJSONHandler(&logs, nil))))
	inner := log.With("component", "inner")
	srv := httptest.NewServer(scim.AccessLog(log, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inner.InfoContext(r.Context(), "inner work", "step", 1)
		inner.WithGroup("g").WarnContext(r.Context(), "grouped")
		log.ErrorContext(r.Context(), "explicit", "request_id", "given")
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/anything", nil)
	req.Header.Set("X-Request-Id", "rid-123")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	log.Info("outside any request")

	raw := logs.String()
	if n := strings.Count(raw, `"request_id"`); n != 4 {
		t.Errorf("%d request_id keys, want 4 (one per line in the request):\n%s", n, raw)
	}
	byMsg := map[string]map[string]any{}
	for _, m := range logLines(t, raw) {
		byMsg[m["msg"].(string)] = m
	}
	for msg, want := range map[string]any{"inner work": "rid-123", "request": "rid-123", "explicit": "given", "outside any request": nil} {
		if got := byMsg[msg]["request_id"]; got != want {
			t.Errorf("%q: request_id %v, want %v", msg, got, want)
		}
	}
	if g, ok := byMsg["grouped"]["g"].(map[string]any); !ok || g["request_id"] != "rid-123" {
		t.Errorf("grouped line: %v", byMsg["grouped"])
	}
}

// TestAccessLogMasksEmails: an admin API path that names an account by
// email is logged without it.
func TestAccessLogMasksEmails(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	srv := httptest.NewServer(scim.AccessLog(log, http.NotFoundHandler()))
	defer srv.Close()
	res, err := http.Post(srv.URL+"/api/v1/apps/acme/accounts/jane.doe@example.com/login", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	lines := logLines(t, logs.String())
	if len(lines) != 1 || lines[0]["path"] != "/api/v1/apps/acme/accounts/-/login" {
		t.Errorf("access log: %v", lines)
	}
	if strings.Contains(logs.String(), "jane") {
		t.Errorf("the email reached the log: %s", logs.String())
	}
}
