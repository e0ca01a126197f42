package oktahook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/oktahook"
)

const (
	secret    = "Basic b2t0YTpjdXJyZW50LXNlY3JldA=="
	oldSecret = "previous-secret-being-rotated-out"

	sixSenseID    = "0oa6s3nse1JiTq9Xh0h7" // the 6sense app in testdata/delivery.json
	sixSenseLabel = "6sense"
)

var epoch = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// recorded is one call of the sink.
type recorded struct {
	App   string
	Login oktahook.LoginEvent
}

// sink records logins; failFor makes it fail for the given event ids.
type sink struct {
	mu      sync.Mutex
	got     []recorded
	failFor map[string]error
}

func (s *sink) RecordLogin(ctx context.Context, app string, login oktahook.LoginEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failFor[login.EventID]; err != nil {
		return err
	}
	s.got = append(s.got, recorded{app, login})
	return nil
}

func (s *sink) calls() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.got)
}

// env is a handler under test with what it writes to.
type env struct {
	h    http.Handler
	sink *sink
	logs *bytes.Buffer
}

func newEnv(t *testing.T, edit func(*oktahook.Config)) *env {
	t.Helper()
	e := &env{sink: &sink{}, logs: &bytes.Buffer{}}
	cfg := oktahook.Config{
		Secrets: []string{secret},
		AppIDs:  map[string]string{sixSenseID: "6sense"},
		Sink:    e.sink,
		Logger:  slog.New(slog.NewJSONHandler(lockedWriter(e.logs), &slog.HandlerOptions{Level: slog.LevelDebug})),
		Now:     func() time.Time { return epoch },
	}
	if edit != nil {
		edit(&cfg)
	}
	h, err := oktahook.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	e.h = h
	return e
}

// lockedWriter serialises writes: handlers may log from several requests.
func lockedWriter(w io.Writer) io.Writer { return &locked{w: w} }

type locked struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *locked) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// do sends one request through a real server.
func (e *env) do(t *testing.T, method, auth string, header map[string]string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+"/okta/events", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func fixture(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/delivery.json")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// delivery builds a delivery of events.
func delivery(events ...map[string]any) []byte {
	b, err := json.Marshal(map[string]any{
		"eventType": "com.okta.event_hook", "eventTypeVersion": "1.0", "cloudEventsVersion": "0.1",
		"eventId": "d2f0c7a4-1111-4c3b-9a77-5f0e6b1c2d3e",
		"data":    map[string]any{"events": events},
	})
	if err != nil {
		panic(err)
	}
	return b
}

func ssoEvent(uuid, userID, login string, app map[string]any) map[string]any {
	return map[string]any{
		"uuid": uuid, "published": "2026-03-02T09:30:00.5Z", "eventType": "user.authentication.sso",
		"outcome": map[string]any{"result": "SUCCESS"},
		"actor":   map[string]any{"id": userID, "type": "User", "alternateId": login, "displayName": "Someone"},
		"target": []any{
			map[string]any{"id": "0ua1", "type": "AppUser", "alternateId": login},
			app,
		},
	}
}

func TestVerification(t *testing.T) {
	const challenge = `Kd9wD7r1uXq3-"<>&`
	for _, c := range []struct {
		name       string
		auth       string
		challenge  string
		wantStatus int
	}{
		{"right secret", secret, challenge, http.StatusOK},
		{"old secret while rotating", oldSecret, challenge, http.StatusOK},
		{"no secret", "", challenge, http.StatusUnauthorized},
		{"wrong secret", "Basic d3Jvbmc6c2VjcmV0", challenge, http.StatusUnauthorized},
		{"secret with a suffix", secret + "x", challenge, http.StatusUnauthorized},
		{"no challenge", secret, "", http.StatusBadRequest},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *oktahook.Config) { cfg.Secrets = []string{secret, oldSecret} })
			hdr := map[string]string{}
			if c.challenge != "" {
				hdr["X-Okta-Verification-Challenge"] = c.challenge
			}
			status, h, body := e.do(t, http.MethodGet, c.auth, hdr, nil)
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, c.wantStatus, body)
			}
			if ct := h.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want application/json", ct)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("body %s is not JSON: %v", body, err)
			}
			if c.wantStatus == http.StatusOK {
				if len(got) != 1 || got["verification"] != c.challenge {
					t.Errorf("body %s, want {\"verification\": %q}", body, c.challenge)
				}
			} else if _, leaked := got["verification"]; leaked {
				t.Errorf("refused verification echoes the challenge: %s", body)
			}
			if len(e.sink.calls()) != 0 {
				t.Error("verification reached the sink")
			}
		})
	}
}

func TestDeliveryFixture(t *testing.T) {
	e := newEnv(t, nil)
	status, _, body := e.do(t, http.MethodPost, secret, nil, fixture(t))
	if status != http.StatusOK {
		t.Fatalf("status %d, want 200; body %s", status, body)
	}
	if len(body) != 0 {
		t.Errorf("body %q, want empty", body)
	}
	want := []recorded{{App: "6sense", Login: oktahook.LoginEvent{
		OktaUserID: "00u8x2fgm7ZLqRk1h0h7",
		Login:      "ada.lovelace@example.com",
		At:         time.Date(2026, 3, 2, 9, 15, 42, 118_000_000, time.UTC),
		EventID:    "9a1b2c3d-0e4f-11ef-8a5a-69d62fcd0f8b",
	}}}
	if got := e.sink.calls(); !slices.Equal(got, want) {
		t.Errorf("sink got %+v\nwant %+v", got, want)
	}
	// Redelivery of the same batch is handed on again; dedup is the sink's.
	if status, _, _ := e.do(t, http.MethodPost, secret, nil, fixture(t)); status != http.StatusOK {
		t.Fatalf("redelivery: status %d", status)
	}
	if got := e.sink.calls(); len(got) != 2 || got[1] != want[0] {
		t.Errorf("after redelivery sink got %+v", got)
	}
}

func TestAppMapping(t *testing.T) {
	app := func(id, label, display string) map[string]any {
		return map[string]any{"id": id, "type": "AppInstance", "alternateId": label, "displayName": display,
			"detailEntry": map[string]any{"signOnModeType": "SAML_2_0"}}
	}
	for _, c := range []struct {
		name    string
		ids     map[string]string
		labels  map[string]string
		target  map[string]any
		wantApp string // "" for ignored
	}{
		{"by id", map[string]string{sixSenseID: "sixsense-prod"}, nil,
			app(sixSenseID, "6sense", "6sense"), "sixsense-prod"},
		{"by label", nil, map[string]string{"6sense": "sixsense-prod"},
			app("0oaOtherId00000000000", "6sense", "6sense"), "sixsense-prod"},
		{"label without regard to case", nil, map[string]string{"6Sense Revenue AI": "sixsense-prod"},
			app("0oaOtherId00000000000", "6sense revenue ai", "6sense"), "sixsense-prod"},
		{"by display name when the label is unknown", nil, map[string]string{"6sense": "sixsense-prod"},
			app("0oaOtherId00000000000", "6sense EU", "6sense"), "sixsense-prod"},
		{"id before label", map[string]string{sixSenseID: "by-id"}, map[string]string{"6sense": "by-label"},
			app(sixSenseID, "6sense", "6sense"), "by-id"},
		{"id mismatch falls back to label", map[string]string{sixSenseID: "by-id"}, map[string]string{"6sense": "by-label"},
			app("0oaAnotherInstance0000", "6sense", "6sense"), "by-label"},
		{"unmapped app", map[string]string{sixSenseID: "by-id"}, map[string]string{"6sense": "by-label"},
			app("0oa1sfdc7yQwE3rT40h7", "Salesforce.com", "Salesforce.com"), ""},
		{"id in the label map is not an id match", nil, map[string]string{sixSenseID: "x"},
			app(sixSenseID, "6sense", "6sense"), ""},
		{"label match needs an AppInstance target", nil, map[string]string{"6sense": "x"},
			map[string]any{"id": "0oa1", "type": "AppUser", "alternateId": "6sense"}, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *oktahook.Config) { cfg.AppIDs, cfg.AppLabels = c.ids, c.labels })
			status, _, body := e.do(t, http.MethodPost, secret, nil,
				delivery(ssoEvent("e-1", "00uA", "user.a@example.com", c.target)))
			if status != http.StatusOK {
				t.Fatalf("status %d; body %s", status, body)
			}
			got := e.sink.calls()
			if c.wantApp == "" {
				if len(got) != 0 {
					t.Errorf("sink got %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || got[0].App != c.wantApp {
				t.Fatalf("sink got %+v, want one call for %q", got, c.wantApp)
			}
			if l := got[0].Login; l.EventID != "e-1" || l.OktaUserID != "00uA" || l.Login != "user.a@example.com" ||
				!l.At.Equal(time.Date(2026, 3, 2, 9, 30, 0, 500_000_000, time.UTC)) {
				t.Errorf("login %+v", l)
			}
		})
	}
}

func TestEventChecks(t *testing.T) {
	app := map[string]any{"id": sixSenseID, "type": "AppInstance", "alternateId": "6sense", "displayName": "6sense"}
	edit := func(f func(map[string]any)) map[string]any {
		ev := ssoEvent("e-1", "00uA", "user.a@example.com", app)
		f(ev)
		return ev
	}
	for _, c := range []struct {
		name   string
		event  map[string]any
		want   bool
		wantAt time.Time
	}{
		{"valid", edit(func(map[string]any) {}), true, time.Date(2026, 3, 2, 9, 30, 0, 500_000_000, time.UTC)},
		{"no published time takes the clock", edit(func(ev map[string]any) { delete(ev, "published") }), true, epoch},
		{"offset published time is UTC", edit(func(ev map[string]any) { ev["published"] = "2026-03-02T10:30:00+01:00" }),
			true, time.Date(2026, 3, 2, 9, 30, 0, 0, time.UTC)},
		{"no uuid", edit(func(ev map[string]any) { delete(ev, "uuid") }), false, time.Time{}},
		{"no actor id", edit(func(ev map[string]any) { ev["actor"].(map[string]any)["id"] = "" }), false, time.Time{}},
		{"no login", edit(func(ev map[string]any) { delete(ev["actor"].(map[string]any), "alternateId") }), false, time.Time{}},
		{"actor not a user", edit(func(ev map[string]any) { ev["actor"].(map[string]any)["type"] = "PublicClientApp" }), false, time.Time{}},
		{"outcome denied", edit(func(ev map[string]any) { ev["outcome"] = map[string]any{"result": "DENY"} }), false, time.Time{}},
		{"no outcome", edit(func(ev map[string]any) { delete(ev, "outcome") }), false, time.Time{}},
		{"single logout", edit(func(ev map[string]any) { ev["eventType"] = "user.authentication.slo" }), false, time.Time{}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, nil)
			status, _, body := e.do(t, http.MethodPost, secret, nil, delivery(c.event))
			if status != http.StatusOK {
				t.Fatalf("status %d; body %s", status, body)
			}
			got := e.sink.calls()
			if !c.want {
				if len(got) != 0 {
					t.Errorf("sink got %+v, want nothing", got)
				}
				return
			}
			if len(got) != 1 || !got[0].Login.At.Equal(c.wantAt) || got[0].Login.At.Location() != time.UTC {
				t.Errorf("sink got %+v, want one login at %v UTC", got, c.wantAt)
			}
		})
	}
}

func TestBadRequests(t *testing.T) {
	valid := delivery(ssoEvent("e-1", "00uA", "user.a@example.com",
		map[string]any{"id": sixSenseID, "type": "AppInstance", "alternateId": "6sense"}))
	big := append([]byte(`{"eventType":"com.okta.event_hook","pad":"`), bytes.Repeat([]byte("a"), 2048)...)
	big = append(big, `","data":{"events":[]}}`...)
	for _, c := range []struct {
		name       string
		method     string
		auth       string
		body       []byte
		chunked    bool
		wantStatus int
		wantAllow  string
	}{
		{"valid, current secret", http.MethodPost, secret, valid, false, http.StatusOK, ""},
		{"valid, old secret while rotating", http.MethodPost, oldSecret, valid, false, http.StatusOK, ""},
		{"wrong secret", http.MethodPost, "Basic bm9wZTpub3Bl", valid, false, http.StatusUnauthorized, ""},
		{"secret prefix", http.MethodPost, secret[:len(secret)-1], valid, false, http.StatusUnauthorized, ""},
		{"no secret", http.MethodPost, "", valid, false, http.StatusUnauthorized, ""},
		{"oversized with length", http.MethodPost, secret, big, false, http.StatusRequestEntityTooLarge, ""},
		{"oversized chunked", http.MethodPost, secret, big, true, http.StatusRequestEntityTooLarge, ""},
		{"oversized but unauthenticated", http.MethodPost, "", big, false, http.StatusUnauthorized, ""},
		{"not JSON", http.MethodPost, secret, []byte("eventType=com.okta.event_hook"), false, http.StatusBadRequest, ""},
		{"truncated JSON", http.MethodPost, secret, valid[:len(valid)-3], false, http.StatusBadRequest, ""},
		{"empty body", http.MethodPost, secret, []byte{}, false, http.StatusBadRequest, ""},
		{"two objects", http.MethodPost, secret, []byte(`{"data":{"events":[]}} {"data":{"events":[]}}`), false, http.StatusBadRequest, ""},
		{"events not a list", http.MethodPost, secret, []byte(`{"data":{"events":{}}}`), false, http.StatusBadRequest, ""},
		{"no data", http.MethodPost, secret, []byte(`{"eventType":"com.okta.event_hook"}`), false, http.StatusBadRequest, ""},
		{"another hook type", http.MethodPost, secret,
			[]byte(`{"eventType":"com.okta.oauth2.tokens.transform","data":{"events":[]}}`), false, http.StatusBadRequest, ""},
		{"empty batch", http.MethodPost, secret, []byte(`{"data":{"events":[]}}`), false, http.StatusOK, ""},
		{"GET without challenge", http.MethodGet, secret, nil, false, http.StatusBadRequest, ""},
		{"PUT", http.MethodPut, secret, valid, false, http.StatusMethodNotAllowed, "GET, POST"},
		{"DELETE without secret", http.MethodDelete, "", nil, false, http.StatusMethodNotAllowed, "GET, POST"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, func(cfg *oktahook.Config) {
				cfg.Secrets = []string{secret, oldSecret}
				cfg.MaxBody = 1024
			})
			var status int
			var h http.Header
			var body []byte
			if c.chunked {
				status, h, body = e.doChunked(t, c.auth, c.body)
			} else {
				status, h, body = e.do(t, c.method, c.auth, nil, c.body)
			}
			if status != c.wantStatus {
				t.Fatalf("status %d, want %d; body %s", status, c.wantStatus, body)
			}
			if got := h.Get("Allow"); got != c.wantAllow {
				t.Errorf("Allow %q, want %q", got, c.wantAllow)
			}
			if status == http.StatusOK {
				return
			}
			var got struct {
				Error  string `json:"error"`
				Status int    `json:"status"`
			}
			if err := json.Unmarshal(body, &got); err != nil || got.Error == "" || got.Status != status {
				t.Errorf("error body %s (%v), want a JSON error with status %d", body, err, status)
			}
			if n := len(e.sink.calls()); n != 0 {
				t.Errorf("refused request reached the sink %d times", n)
			}
		})
	}
}

// doChunked posts body without a Content-Length, so only reading finds
// it too large.
func (e *env) doChunked(t *testing.T, auth string, body []byte) (int, http.Header, []byte) {
	t.Helper()
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, srv.URL, io.MultiReader(bytes.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = -1
	req.Header.Set("Authorization", auth)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestSinkError(t *testing.T) {
	const internal = "sqlite: database is locked (SQLITE_BUSY) at /var/lib/scimbridge/state.db"
	app := map[string]any{"id": sixSenseID, "type": "AppInstance", "alternateId": "6sense"}
	e := newEnv(t, nil)
	e.sink.failFor = map[string]error{"e-2": errors.New(internal)}
	status, _, body := e.do(t, http.MethodPost, secret, nil, delivery(
		ssoEvent("e-1", "00uA", "user.a@example.com", app),
		ssoEvent("e-2", "00uB", "user.b@example.com", app),
		ssoEvent("e-3", "00uC", "user.c@example.com", app),
	))
	if status != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500; body %s", status, body)
	}
	for _, leak := range []string{"sqlite", "locked", "scimbridge", "e-2", "user.b"} {
		if strings.Contains(string(body), leak) {
			t.Errorf("500 body %s contains %q", body, leak)
		}
	}
	// The other events are still handed on: one failure does not hold
	// back the rest of the batch, and the retry finds them recorded.
	var ids []string
	for _, r := range e.sink.calls() {
		ids = append(ids, r.Login.EventID)
	}
	if !slices.Equal(ids, []string{"e-1", "e-3"}) {
		t.Errorf("sink recorded %v, want [e-1 e-3]", ids)
	}
	if !strings.Contains(e.logs.String(), "e-2") {
		t.Errorf("the failing event's id is not logged:\n%s", e.logs)
	}
}

// TestLogsCarryNoPersonalData runs every kind of request and checks that
// no login, email or name from them reaches the log.
func TestLogsCarryNoPersonalData(t *testing.T) {
	e := newEnv(t, func(cfg *oktahook.Config) { cfg.AppLabels = map[string]string{"Salesforce.com": "salesforce"} })
	e.sink.failFor = map[string]error{"9a1b2c3d-0e4f-11ef-8a5a-69d62fcd0f8c": errors.New("downstream unavailable")}
	presented := "Basic bWFsbG9yeTpodW50ZXIy"
	e.do(t, http.MethodPost, secret, nil, fixture(t))
	e.do(t, http.MethodPost, presented, nil, fixture(t))
	e.do(t, http.MethodGet, presented, map[string]string{"X-Okta-Verification-Challenge": "c"}, nil)
	e.do(t, http.MethodGet, secret, map[string]string{"X-Okta-Verification-Challenge": "c"}, nil)
	e.do(t, http.MethodPost, secret, nil, []byte(`{"data":{"events":[{"actor":"ada.lovelace@example.com"}]}}`))
	e.do(t, http.MethodPost, secret, nil, delivery(map[string]any{
		"uuid": "e-bad", "eventType": "user.authentication.sso", "outcome": map[string]any{"result": "SUCCESS"},
		"actor":  map[string]any{"id": "", "alternateId": "hidden.user@example.com", "displayName": "Hidden User"},
		"target": []any{map[string]any{"id": sixSenseID, "type": "AppInstance"}},
	}))

	logs := e.logs.String()
	if !strings.Contains(logs, "9a1b2c3d-0e4f-11ef-8a5a-69d62fcd0f8b") {
		t.Fatalf("recorded event id not logged; logs:\n%s", logs)
	}
	if !strings.Contains(logs, `"remote"`) {
		t.Errorf("refused requests are not logged with their remote address; logs:\n%s", logs)
	}
	if m := regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[a-z]+`).FindString(logs); m != "" {
		t.Errorf("log contains the email %q; logs:\n%s", m, logs)
	}
	for _, pii := range []string{
		"ada.lovelace", "grace.hopper", "alan.turing", "katherine.johnson", "hidden.user",
		"Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Hidden User",
		"00u8x2fgm7ZLqRk1h0h7", presented, secret,
	} {
		if strings.Contains(logs, pii) {
			t.Errorf("log contains %q; logs:\n%s", pii, logs)
		}
	}
}

func TestNew(t *testing.T) {
	ok := func() oktahook.Config {
		return oktahook.Config{Secrets: []string{secret}, AppIDs: map[string]string{sixSenseID: "6sense"}, Sink: &sink{}}
	}
	for _, c := range []struct {
		name string
		edit func(*oktahook.Config)
		ok   bool
	}{
		{"minimal", func(*oktahook.Config) {}, true},
		{"labels only", func(c *oktahook.Config) { c.AppIDs, c.AppLabels = nil, map[string]string{"6sense": "6sense"} }, true},
		{"no sink", func(c *oktahook.Config) { c.Sink = nil }, false},
		{"no secret", func(c *oktahook.Config) { c.Secrets = nil }, false},
		{"blank secret", func(c *oktahook.Config) { c.Secrets = []string{secret, " "} }, false},
		{"no app", func(c *oktahook.Config) { c.AppIDs = nil }, false},
		{"empty app name", func(c *oktahook.Config) { c.AppIDs = map[string]string{sixSenseID: ""} }, false},
		{"empty label", func(c *oktahook.Config) { c.AppLabels = map[string]string{"": "x"} }, false},
		{"labels that differ in case only, two apps", func(c *oktahook.Config) {
			c.AppLabels = map[string]string{"6sense": "a", "6Sense": "b"}
		}, false},
		{"labels that differ in case only, one app", func(c *oktahook.Config) {
			c.AppLabels = map[string]string{"6sense": "a", "6Sense": "a"}
		}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := ok()
			c.edit(&cfg)
			h, err := oktahook.New(cfg)
			if (err == nil) != c.ok {
				t.Fatalf("New: err %v, want ok=%v", err, c.ok)
			}
			if c.ok && h == nil {
				t.Fatal("New returned no handler")
			}
		})
	}
}
