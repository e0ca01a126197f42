package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// fetchURL makes a request and returns the status and body.
func fetchURL(t *testing.T, method, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// scrapeMetrics reads url as Prometheus would.
func scrapeMetrics(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	code, body := fetchURL(t, "GET", url, map[string]string{"Authorization": "Bearer " + token}, "")
	if code != http.StatusOK {
		t.Fatalf("GET %s: status %d: %s", url, code, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("%s is not the Prometheus text format: %v", url, err)
	}
	return fams
}

// metricValue is the value of the series of family name with exactly
// labels, and whether there is one.
func metricValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) (float64, bool) {
	for _, m := range fams[name].GetMetric() {
		got := map[string]string{}
		for _, l := range m.GetLabel() {
			got[l.GetName()] = l.GetValue()
		}
		if fmt.Sprint(got) != fmt.Sprint(labels) {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue(), true
		case m.Gauge != nil:
			return m.GetGauge().GetValue(), true
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount()), true
		}
	}
	return 0, false
}

// TestObservabilityServed runs serve with two apps, an Okta hook and a
// metrics token, and checks what operators see: readiness, metrics that
// follow real SCIM traffic and match the queue and the seat ledger, and
// request ids on the log lines of inner handlers, without personal data.
func TestObservabilityServed(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"HOOK_SECRET": "hook-s3cret", "SCRAPE_TOKEN": "scrape-s3cret", "SCIMBRIDGE_ACTOR": "ops"}
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
metrics:
  token_env: SCRAPE_TOKEN
okta_hook:
  secret_env: HOOK_SECRET
apps:
  - name: people
    profile: peopleai
  - name: sixsense
    profile: sixsense
    okta_app: 6sense
    seats:
      - {module: SI, limit: 2}
`, addr))
	tokens := map[string]string{}
	for _, args := range [][]string{{"-app", "people"}, {"-app", "sixsense"}, {"-admin", "-name", "ops"}} {
		code, stdout, stderr := runCLI(t, environ, append([]string{"token", "create", "-config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("token create %v: %s", args, stderr)
		}
		tokens[args[len(args)-1]] = strings.TrimSpace(stdout)
	}
	srv := serveInProcess(t, cfg, addr, environ)

	if code, body := fetchURL(t, "GET", srv.base+"/readyz", nil, ""); code != 200 || strings.TrimSpace(body) != `{"status":"ok"}` {
		t.Errorf("/readyz: %d %s", code, body)
	}
	scimHeaders := func(app string) map[string]string {
		return map[string]string{"Authorization": "Bearer " + tokens[app], "Content-Type": "application/scim+json"}
	}
	users := map[string][]string{"people": {"ann@example.com", "bob@example.com", "cat@example.com"}, "sixsense": {"ada@example.com", "bea@example.com"}}
	ids := map[string]string{}
	for app, names := range users {
		for _, name := range names {
			code, body := fetchURL(t, "POST", srv.base+"/apps/"+app+"/scim/v2/Users", scimHeaders(app),
				`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`)
			if code != http.StatusCreated {
				t.Fatalf("create %s: %d %s", name, code, body)
			}
			var u map[string]any
			json.Unmarshal([]byte(body), &u)
			ids[name] = u["id"].(string)
		}
	}
	if code, _ := fetchURL(t, "GET", srv.base+"/apps/people/scim/v2/Users/"+ids["ann@example.com"], scimHeaders("people"), ""); code != 200 {
		t.Fatalf("GET ann: %d", code)
	}
	waitUntil(t, srv, "the engine to plan every user", func() bool {
		for app, names := range users {
			_, out, _ := runCLI(t, environ, "accounts", "list", "-config", cfg, "-app", app, "-json")
			var list []any
			json.Unmarshal([]byte(out), &list)
			if len(list) != len(names) {
				return false
			}
		}
		return true
	})
	// An admin confirms ada's first login by user name: she takes an ABM seat.
	admin := map[string]string{"Authorization": "Bearer " + tokens["ops"]}
	if code, body := fetchURL(t, "POST", srv.base+"/api/v1/apps/sixsense/accounts/ada@example.com/login", admin, ""); code != 200 {
		t.Fatalf("confirm login: %d %s", code, body)
	}
	// The Okta hook refuses a request without its secret, and logs why.
	if code, _ := fetchURL(t, "GET", srv.base+"/hooks/okta", map[string]string{"X-Request-Id": "probe-4711"}, ""); code != 401 {
		t.Fatalf("hook without a secret: %d", code)
	}

	if code, body := fetchURL(t, "GET", srv.base+"/metrics", nil, ""); code != 401 || strings.Contains(body, "scimbridge_") {
		t.Errorf("/metrics without the token: %d %s", code, body)
	}
	fams := scrapeMetrics(t, srv.base+"/metrics", "scrape-s3cret")
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"scimbridge_http_requests_total", map[string]string{"app": "people", "route": "scim_users", "method": "POST", "code": "201"}, 3},
		{"scimbridge_http_request_duration_seconds", map[string]string{"app": "people", "route": "scim_users", "method": "POST", "code": "201"}, 3},
		{"scimbridge_http_requests_total", map[string]string{"app": "sixsense", "route": "scim_users", "method": "POST", "code": "201"}, 2},
		{"scimbridge_http_requests_total", map[string]string{"app": "people", "route": "scim_user", "method": "GET", "code": "200"}, 1},
		{"scimbridge_http_request_duration_seconds", map[string]string{"app": "people", "route": "scim_user", "method": "GET", "code": "200"}, 1},
		{"scimbridge_http_requests_total", map[string]string{"app": "", "route": "api", "method": "POST", "code": "200"}, 1},
		{"scimbridge_http_requests_total", map[string]string{"app": "", "route": "hook", "method": "GET", "code": "401"}, 1},
		{"scimbridge_http_requests_total", map[string]string{"app": "", "route": "health", "method": "GET", "code": "200"}, -1},
		{"scimbridge_http_requests_total", map[string]string{"app": "", "route": "metrics", "method": "GET", "code": "401"}, 1},
		{"scimbridge_seats_limit", map[string]string{"app": "sixsense", "module": "SI", "enforced": "true"}, 2},
		{"scimbridge_accounts", map[string]string{"app": "sixsense", "state": "awaiting_login"}, 1},
		{"scimbridge_outbox_pending_events", map[string]string{"consumer": "engine"}, 0},
		{"scimbridge_state_up", map[string]string{}, 1},
	} {
		got, ok := metricValue(fams, c.name, c.labels)
		if !ok || (c.want >= 0 && got != c.want) || (c.want < 0 && got < 1) {
			t.Errorf("%s%v = %v (present %v), want %v", c.name, c.labels, got, ok, c.want)
		}
	}
	for _, m := range fams["scimbridge_http_requests_total"].GetMetric() {
		for _, l := range m.GetLabel() {
			for _, id := range ids {
				if strings.Contains(l.GetValue(), id) || strings.Contains(l.GetValue(), "@") {
					t.Errorf("label %s=%q carries request data", l.GetName(), l.GetValue())
				}
			}
		}
	}
	// Tasks by status are the queue's.
	_, out, _ := runCLI(t, environ, "tasks", "list", "-config", cfg, "-app", "people", "-json")
	var list []map[string]any
	if err := json.Unmarshal([]byte(out), &list); err != nil || len(list) != 3 {
		t.Fatalf("tasks list: %v %s", err, out)
	}
	byStatus := map[string]float64{}
	for _, tk := range list {
		byStatus[tk["status"].(string)]++
	}
	for status, n := range byStatus {
		if got, _ := metricValue(fams, "scimbridge_tasks", map[string]string{"app": "people", "status": status}); got != n {
			t.Errorf("tasks %s = %v, want %v", status, got, n)
		}
	}
	// Seats are the ledger's.
	_, seatsBody := fetchURL(t, "GET", srv.base+"/api/v1/apps/sixsense/seats", admin, "")
	var seats struct {
		Modules []struct {
			Module        string
			Used, Pending float64
		}
	}
	if err := json.Unmarshal([]byte(seatsBody), &seats); err != nil || len(seats.Modules) == 0 {
		t.Fatalf("seats: %v %s", err, seatsBody)
	}
	usedSomewhere := false
	for _, m := range seats.Modules {
		labels := map[string]string{"app": "sixsense", "module": m.Module}
		if got, _ := metricValue(fams, "scimbridge_seats_used", labels); got != m.Used {
			t.Errorf("seats used %s = %v, ledger %v", m.Module, got, m.Used)
		}
		if got, _ := metricValue(fams, "scimbridge_seats_pending", labels); got != m.Pending {
			t.Errorf("seats pending %s = %v, ledger %v", m.Module, got, m.Pending)
		}
		usedSomewhere = usedSomewhere || m.Used > 0
	}
	if !usedSomewhere {
		t.Errorf("no seat is used after ada's login: %s", seatsBody)
	}

	// Logs: the hook's refusal carries the request id, as does the access
	// log line; no line carries a user's email address or a secret.
	srv.stop()
	logs := srv.logs.String()
	var refused, access bool
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["request_id"] != "probe-4711" {
			continue
		}
		refused = refused || strings.HasPrefix(fmt.Sprint(m["msg"]), "okta event hook: request refused")
		access = access || m["msg"] == "request"
	}
	if !refused || !access {
		t.Errorf("request id probe-4711: on the hook's line %v, on the access line %v\n%s", refused, access, logs)
	}
	for _, secret := range []string{"ada@example.com", "ann@example.com", "hook-s3cret", "scrape-s3cret", tokens["ops"]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log has %q", secret)
		}
	}
}

// TestMetricsPlacement: /metrics can be turned off, or moved to an
// address of its own.
func TestMetricsPlacement(t *testing.T) {
	cases := []struct {
		name, section    string
		main, own        int // status on the main and the own address; 0: no own address
		ownAddrInSection bool
	}{
		{"on the main address by default", "", 200, 0, false},
		{"off", "metrics:\n  enabled: false\n", 404, 0, false},
		{"on an address of its own", "metrics:\n  listen: %s\n", 404, 200, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			addr, own := freeAddr(t), freeAddr(t)
			section := c.section
			if c.ownAddrInSection {
				section = fmt.Sprintf(section, own)
			}
			cfg := writeConfig(t, t.TempDir(), fmt.Sprintf("listen: %s\n%sapps:\n  - name: acme\n", addr, section))
			srv := serveInProcess(t, cfg, addr, nil)
			if code, _ := fetchURL(t, "GET", srv.base+"/metrics", nil, ""); code != c.main {
				t.Errorf("main address: %d, want %d", code, c.main)
			}
			if c.own != 0 {
				scrapeMetrics(t, "http://"+own+"/metrics", "")
				if code, _ := fetchURL(t, "GET", "http://"+own+"/healthz", nil, ""); code != 404 {
					t.Errorf("the metrics address serves /healthz: %d", code)
				}
			}
			srv.stop()
		})
	}
}

// TestReadiness: /readyz is 503 until serve says it is serving, 200 while
// the database takes writes, and 503 again, without internal text, once
// it does not; the log has the cause under the request's id.
func TestReadiness(t *testing.T) {
	var logs lockedBuffer
	log := slog.New(scim.LogHandler(slog.NewJSONHandler(&logs, nil)))
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "data.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ready := &readiness{db: db, log: log}
	srv := httptest.NewServer(scim.AccessLog(log, ready))
	defer srv.Close()
	steps := []struct {
		name   string
		before func()
		status int
		body   string
	}{
		{"starting", func() {}, 503, `{"status":"unavailable","reason":"starting or stopping"}`},
		{"serving", func() { ready.serving.Store(true) }, 200, `{"status":"ok"}`},
		{"database closed", func() { db.Close() }, 503, `{"status":"unavailable","reason":"the database takes no writes"}`},
		{"stopping", func() { ready.serving.Store(false) }, 503, `{"status":"unavailable","reason":"starting or stopping"}`},
	}
	for _, s := range steps {
		s.before()
		code, body := fetchURL(t, "GET", srv.URL+"/readyz", map[string]string{"X-Request-Id": "ready-" + strings.ReplaceAll(s.name, " ", "-")}, "")
		if code != s.status || strings.TrimSpace(body) != s.body {
			t.Errorf("%s: %d %s, want %d %s", s.name, code, body, s.status, s.body)
		}
	}
	var cause map[string]any
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		var m map[string]any
		json.Unmarshal([]byte(line), &m)
		if strings.HasPrefix(fmt.Sprint(m["msg"]), "readiness check failed") {
			cause = m
		}
	}
	if cause == nil || cause["request_id"] != "ready-database-closed" || !strings.Contains(fmt.Sprint(cause["error"]), "closed") {
		t.Errorf("the log lacks the cause under the request id:\n%s", logs.String())
	}
}
