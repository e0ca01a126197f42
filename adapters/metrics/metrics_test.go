package metrics_test

import (
	"context"
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

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/metrics"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// world is two apps behind the real SCIM handler over real SQLite, with
// /metrics served beside them as serve wires it: acme (People.ai, every
// step a task) and leads (6sense, seats limited).
type world struct {
	t      *testing.T
	srv    *httptest.Server
	db     *sqlite.DB
	eng    *engine.Engine
	m      *metrics.Metrics
	tokens map[string]string
	logs   *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t *testing.T, token string) *world {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
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
	leads, err := builtin["sixsense"].With(profile.Override{
		Seats: []profile.SeatLimit{{Module: "SI", Limit: 3}, {Module: "ABM", Limit: 2}},
	})
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]engine.App{}
	for name, p := range map[string]*profile.Profile{"acme": builtin["peopleai"], "leads": leads} {
		ad, err := engine.AdapterFor(p)
		if err != nil {
			t.Fatal(err)
		}
		apps[name] = engine.App{Profile: p, Adapter: ad}
	}
	w := &world{t: t, db: db, eng: engine.New(db, apps, log), tokens: map[string]string{}, logs: logs}
	w.m, err = metrics.New(metrics.Config{DB: db, Engine: w.eng, Apps: []string{"acme", "leads"}, Version: "v1.2.3",
		Token: token, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s, err := scim.NewServer(scim.Config{Store: db, Apps: []string{"acme", "leads"}, BaseURL: "https://scim.example.test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/apps/", s.Handler())
	mux.Handle("GET /metrics", w.m.Handler())
	w.srv = httptest.NewServer(scim.AccessLog(log, mux, w.m.ObserveRequest))
	t.Cleanup(func() { w.srv.Close(); s.Close(); db.Close() })
	for _, app := range []string{"acme", "leads"} {
		if w.tokens[app], _, err = scim.IssueToken(ctx, db, app, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func (w *world) do(method, app, path, body string) (int, string) {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.srv.URL+"/apps/"+app+"/scim/v2"+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+w.tokens[app])
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// createUser creates a user through SCIM and returns its id.
func (w *world) createUser(app, name string) string {
	w.t.Helper()
	code, body := w.do("POST", app, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`)
	if code != http.StatusCreated {
		w.t.Fatalf("create %s: status %d: %s", name, code, body)
	}
	_, id, _ := strings.Cut(body, `"id":"`)
	id, _, _ = strings.Cut(id, `"`)
	return id
}

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

// scrape reads /metrics as Prometheus would.
func (w *world) scrape(token string) map[string]*dto.MetricFamily {
	w.t.Helper()
	req, _ := http.NewRequest("GET", w.srv.URL+"/metrics", nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		w.t.Fatalf("GET /metrics: status %d: %s", res.StatusCode, b)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	families, err := p.TextToMetricFamilies(res.Body)
	if err != nil {
		w.t.Fatalf("/metrics is not the text format: %v", err)
	}
	return families
}

func labelsOf(m *dto.Metric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}

// series finds the one series of family name with exactly labels.
func series(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f, ok := families[name]
	if !ok {
		t.Fatalf("no family %s", name)
	}
	for _, m := range f.GetMetric() {
		if fmt.Sprint(labelsOf(m)) == fmt.Sprint(labels) {
			return m
		}
	}
	t.Fatalf("%s has no series %v", name, labels)
	return nil
}

func gaugeValue(t *testing.T, families map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	return series(t, families, name, labels).GetGauge().GetValue()
}

// TestRequestMetrics: real SCIM traffic shows up by app, route, method
// and status, with a latency histogram, and never with an id, a user
// name or an app name that is not configured.
func TestRequestMetrics(t *testing.T) {
	w := newWorld(t, "")
	var ids []string
	for _, name := range []string{"ann@example.com", "bob@example.com", "cat@example.com"} {
		ids = append(ids, w.createUser("acme", name))
	}
	if code, _ := w.do("POST", "acme", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"ann@example.com"}`); code != 409 {
		t.Fatalf("duplicate create: %d", code)
	}
	for _, id := range ids[:2] {
		if code, _ := w.do("GET", "acme", "/Users/"+id, ""); code != 200 {
			t.Fatalf("GET user: %d", code)
		}
	}
	w.do("GET", "made-up-app", "/Users", "")
	w.do("GET", "acme", "/Users?filter="+strings.ReplaceAll(`userName eq "ann@example.com"`, " ", "%20"), "")

	fams := w.scrape("")
	for _, c := range []struct {
		app, route, method, code string
		n                        uint64
	}{
		{"acme", "scim_users", "POST", "201", 3},
		{"acme", "scim_users", "POST", "409", 1},
		{"acme", "scim_user", "GET", "200", 2},
		{"acme", "scim_users", "GET", "200", 1},
		{"", "scim_users", "GET", "401", 1},
	} {
		labels := map[string]string{"app": c.app, "route": c.route, "method": c.method, "code": c.code}
		if got := series(t, fams, "scimbridge_http_requests_total", labels).GetCounter().GetValue(); got != float64(c.n) {
			t.Errorf("requests %v = %v, want %d", labels, got, c.n)
		}
		h := series(t, fams, "scimbridge_http_request_duration_seconds", labels).GetHistogram()
		if h.GetSampleCount() != c.n || h.GetSampleSum() <= 0 || len(h.GetBucket()) == 0 {
			t.Errorf("histogram %v: count %d sum %v buckets %d, want count %d", labels, h.GetSampleCount(), h.GetSampleSum(), len(h.GetBucket()), c.n)
		}
	}
	for _, name := range []string{"scimbridge_http_requests_total", "scimbridge_http_request_duration_seconds"} {
		for _, m := range fams[name].GetMetric() {
			for k, v := range labelsOf(m) {
				if strings.Contains(v, "@") || strings.Contains(v, "made-up") || slices.ContainsFunc(ids, func(id string) bool { return strings.Contains(v, id) }) {
					t.Errorf("%s label %s=%q carries request data", name, k, v)
				}
			}
		}
	}
	if v := gaugeValue(t, fams, "scimbridge_build_info", map[string]string{"version": "v1.2.3"}); v != 1 {
		t.Errorf("build info %v", v)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "process_cpu_seconds_total", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s: the runtime and process collectors are missing", name)
		}
	}
	// The scrape before this one is counted too.
	if got := series(t, w.scrape(""), "scimbridge_http_requests_total",
		map[string]string{"app": "", "route": "metrics", "method": "GET", "code": "200"}).GetCounter().GetValue(); got != 1 {
		t.Errorf("metrics requests = %v, want 1", got)
	}
}

// TestStateMetrics: the outbox backlog, tasks, accounts, seats and
// notifications read at scrape time match what the queue and the seat
// ledger say.
func TestStateMetrics(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, "")
	for _, name := range []string{"ann@example.com", "bob@example.com"} {
		w.createUser("acme", name)
	}
	var leads []string
	for _, name := range []string{"cat@example.com", "dan@example.com", "eve@example.com"} {
		leads = append(leads, w.createUser("leads", name))
	}
	fams := w.scrape("")
	engineLabel := map[string]string{"consumer": engine.Consumer}
	if got := gaugeValue(t, fams, "scimbridge_outbox_pending_events", engineLabel); got != 5 {
		t.Errorf("pending events before dispatch = %v, want 5", got)
	}
	if age := gaugeValue(t, fams, "scimbridge_outbox_oldest_pending_age_seconds", engineLabel); age < 0 || age > 60 {
		t.Errorf("oldest pending age = %v", age)
	}

	w.dispatch()
	// Two of the leads sign in: each takes an ABM seat.
	for _, id := range leads[:2] {
		if err := w.eng.RecordLogin(ctx, engine.Login{App: "leads", UserID: id, At: time.Now(), Source: engine.LoginAdmin}); err != nil {
			t.Fatal(err)
		}
	}
	w.dispatch()
	q := queue.In(w.db.ReadSQL())
	acmeTasks, err := q.CountTasks(ctx, "acme", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// A task moves: the counters follow.
	open, err := q.Tasks(ctx, queue.Filter{App: "acme", Status: task.Open})
	if err != nil || len(open) == 0 {
		t.Fatalf("open acme tasks: %v, %v", open, err)
	}
	if _, err := w.eng.Claim(ctx, open[0].ID, "ann.admin"); err != nil {
		t.Fatal(err)
	}
	acmeTasks.ByStatus[task.Open]--
	acmeTasks.ByStatus[task.Claimed]++

	fams = w.scrape("")
	if got := gaugeValue(t, fams, "scimbridge_outbox_pending_events", engineLabel); got != 0 {
		t.Errorf("pending events after dispatch = %v", got)
	}
	if got := gaugeValue(t, fams, "scimbridge_outbox_oldest_pending_age_seconds", engineLabel); got != 0 {
		t.Errorf("oldest pending age after dispatch = %v", got)
	}
	for _, app := range []string{"acme", "leads"} {
		want, err := q.CountTasks(ctx, app, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if app == "acme" && fmt.Sprint(want.ByStatus) != fmt.Sprint(acmeTasks.ByStatus) {
			t.Fatalf("the queue counts %v, the test expected %v", want.ByStatus, acmeTasks.ByStatus)
		}
		total := 0
		for _, s := range []task.Status{task.AwaitingApproval, task.Open, task.Claimed, task.Done, task.Verified,
			task.Failed, task.Cancelled, task.Superseded, task.Rejected} {
			got := gaugeValue(t, fams, "scimbridge_tasks", map[string]string{"app": app, "status": string(s)})
			if got != float64(want.ByStatus[s]) {
				t.Errorf("tasks %s %s = %v, want %d", app, s, got, want.ByStatus[s])
			}
			total += int(got)
		}
		if app == "acme" && total != 2 {
			t.Errorf("acme has %d tasks, want a create task per user", total)
		}
		if got := gaugeValue(t, fams, "scimbridge_tasks_overdue", map[string]string{"app": app}); got != float64(want.Overdue) {
			t.Errorf("overdue %s = %v, want %d", app, got, want.Overdue)
		}
		accounts, err := q.CountAccounts(ctx, app)
		if err != nil {
			t.Fatal(err)
		}
		for state, n := range accounts {
			if got := gaugeValue(t, fams, "scimbridge_accounts", map[string]string{"app": app, "state": string(state)}); got != float64(n) {
				t.Errorf("accounts %s %s = %v, want %d", app, state, got, n)
			}
		}
	}
	if got := gaugeValue(t, fams, "scimbridge_tasks", map[string]string{"app": "acme", "status": "claimed"}); got != 1 {
		t.Errorf("claimed acme tasks = %v, want 1", got)
	}

	// Seats: the ledger's use, the configured limits, and none for an
	// app that counts no seats.
	use, err := w.eng.SeatUse(ctx, "leads")
	if err != nil {
		t.Fatal(err)
	}
	limits := map[string]string{"SI": "3 true", "ABM": "2 false"}
	for _, m := range use {
		labels := map[string]string{"app": "leads", "module": m.Module}
		if got := gaugeValue(t, fams, "scimbridge_seats_used", labels); got != float64(m.Used) {
			t.Errorf("seats used %s = %v, want %d", m.Module, got, m.Used)
		}
		if got := gaugeValue(t, fams, "scimbridge_seats_pending", labels); got != float64(m.Pending) {
			t.Errorf("seats pending %s = %v, want %d", m.Module, got, m.Pending)
		}
		if want, ok := limits[m.Module]; ok {
			limit, enforced, _ := strings.Cut(want, " ")
			labels["enforced"] = enforced
			if got := gaugeValue(t, fams, "scimbridge_seats_limit", labels); fmt.Sprint(got) != limit {
				t.Errorf("seat limit %s = %v, want %s", m.Module, got, limit)
			}
		}
	}
	if got := gaugeValue(t, fams, "scimbridge_seats_used", map[string]string{"app": "leads", "module": "ABM"}); got != 2 {
		t.Errorf("ABM seats used = %v, want the two who signed in", got)
	}
	if n := len(fams["scimbridge_seats_limit"].GetMetric()); n != len(limits) {
		t.Errorf("%d seat limits, want %d (modules without a limit have none)", n, len(limits))
	}
	for _, m := range fams["scimbridge_seats_used"].GetMetric() {
		if labelsOf(m)["app"] != "leads" {
			t.Errorf("seats of an app that counts none: %v", labelsOf(m))
		}
	}

	trying, givenUp, err := q.CountUndelivered(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, fams, "scimbridge_notifications_undelivered", map[string]string{"state": "pending"}); got != float64(trying) || trying == 0 {
		t.Errorf("notifications pending = %v, want %d (more than none)", got, trying)
	}
	if got := gaugeValue(t, fams, "scimbridge_notifications_undelivered", map[string]string{"state": "given_up"}); got != float64(givenUp) {
		t.Errorf("notifications given up = %v, want %d", got, givenUp)
	}
	if got := gaugeValue(t, fams, "scimbridge_state_up", map[string]string{}); got != 1 {
		t.Errorf("state up = %v, want 1; log:\n%s", got, w.logs)
	}
}

func TestWebhookMetrics(t *testing.T) {
	w := newWorld(t, "")
	w.m.WebhookDelivered("https://hooks.example.com", false)
	w.m.WebhookDelivered("https://hooks.example.com", false)
	w.m.WebhookDelivered("https://hooks.example.com", true)
	fams := w.scrape("")
	for result, want := range map[string]float64{"failed": 2, "ok": 1} {
		labels := map[string]string{"webhook": "https://hooks.example.com", "result": result}
		if got := series(t, fams, "scimbridge_webhook_deliveries_total", labels).GetCounter().GetValue(); got != want {
			t.Errorf("deliveries %s = %v, want %v", result, got, want)
		}
	}
}

// TestFailedReadsAreNotErrors: with the database gone, /metrics still
// answers, without the error's text, and says the state could not be
// read; the log has the cause.
func TestFailedReadsAreNotErrors(t *testing.T) {
	w := newWorld(t, "")
	w.createUser("acme", "ann@example.com")
	w.db.Close()
	req, _ := http.NewRequest("GET", w.srv.URL+"/metrics", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	body := string(b)
	if res.StatusCode != 200 || !strings.Contains(body, "scimbridge_state_up 0") {
		t.Errorf("status %d:\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "scimbridge_tasks{") || strings.Contains(strings.ToLower(body), "closed") {
		t.Errorf("the body has state it could not read, or the error:\n%s", body)
	}
	if !strings.Contains(w.logs.String(), "reading scimbridge's state failed") {
		t.Errorf("the failure is not logged:\n%s", w.logs)
	}
}

func TestToken(t *testing.T) {
	w := newWorld(t, "s3cret-scrape")
	for _, c := range []struct {
		name, header string
		status       int
	}{
		{"no token", "", 401},
		{"wrong token", "Bearer nope", 401},
		{"not a bearer", "Basic czNjcmV0LXNjcmFwZQ==", 401},
		{"the token", "Bearer s3cret-scrape", 200},
		{"the scheme in another case", "bearer s3cret-scrape", 200},
		{"the token with a suffix", "Bearer s3cret-scrape2", 401},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequest("GET", w.srv.URL+"/metrics", nil)
			if c.header != "" {
				req.Header.Set("Authorization", c.header)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != c.status {
				t.Errorf("status %d, want %d", res.StatusCode, c.status)
			}
			if c.status == 401 && (strings.Contains(string(b), "scimbridge_") || res.Header.Get("WWW-Authenticate") == "") {
				t.Errorf("refused scrape: %s %v", b, res.Header)
			}
		})
	}
	if fams := w.scrape("s3cret-scrape"); fams["scimbridge_state_up"] == nil {
		t.Error("no metrics with the token")
	}
}
