package notify_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/notify"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

func openDB(t *testing.T) *sqlite.DB {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "n.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := queue.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	return db
}

var due = time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)

// enqueue adds a task and its notification of kind, as the engine does,
// and returns the notification's id.
func enqueue(t *testing.T, db *sqlite.DB, kind, app, user string) int64 {
	t.Helper()
	var id int64
	err := db.Update(context.Background(), func(tx store.Tx) error {
		s, _ := sqlite.TxSQL(tx)
		q := queue.In(s)
		tk := task.Task{App: app, UserID: "id-" + user, UserName: user, Kind: "create", Status: task.Open,
			Role: "User (Standard)", Due: due, Steps: []string{"Add " + user}}
		if err := q.AddTask(context.Background(), &tk, "scimbridge", "test"); err != nil {
			return err
		}
		var err error
		id, err = q.EnqueueTask(context.Background(), kind, tk)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func notification(t *testing.T, db *sqlite.DB, id int64) queue.Notification {
	t.Helper()
	list, err := queue.In(db.ReadSQL()).Notifications(context.Background(), id-1, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("notification %d: %v, %v", id, list, err)
	}
	return list[0]
}

// request is what a receiver got.
type request struct {
	header http.Header
	body   []byte
}

// receiver is a webhook endpoint on 127.0.0.1 that answers each request
// with the status answer returns for it (counting from 1).
type receiver struct {
	*httptest.Server
	mu   sync.Mutex
	got  []request
	seen chan struct{}
}

func newReceiver(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request)) *receiver {
	t.Helper()
	rc := &receiver{seen: make(chan struct{}, 100)}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		rc.got = append(rc.got, request{r.Header.Clone(), b})
		n := len(rc.got)
		rc.mu.Unlock()
		rc.seen <- struct{}{}
		if answer != nil {
			answer(n, w, r)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *receiver) requests() []request {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return slices.Clone(rc.got)
}

// clock is a settable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func newSender(t *testing.T, db *sqlite.DB, hooks []notify.Webhook, opt notify.Options, log *slog.Logger) (*notify.Sender, *clock) {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s, err := notify.New(db, hooks, log, opt)
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Now().UTC().Add(time.Second)}
	s.SetNow(c.now)
	return s, c
}

func pass(t *testing.T, s *notify.Sender) {
	t.Helper()
	if err := s.Pass(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestSignedDelivery(t *testing.T) {
	db := openDB(t)
	rc := newReceiver(t, nil)
	secret := []byte("s3cret-for-tests")
	s, _ := newSender(t, db, []notify.Webhook{{URL: rc.URL + "/hook", Secret: secret}}, notify.Options{}, nil)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
	pass(t, s)
	pass(t, s) // delivered: not sent again

	got := rc.requests()
	if len(got) != 1 {
		t.Fatalf("%d requests, want 1", len(got))
	}
	r := got[0]
	mac := hmac.New(sha256.New, secret)
	mac.Write(r.body)
	want := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	if sig := r.header.Get(notify.SignatureHeader); sig != want || !notify.Verify(secret, r.body, sig) {
		t.Errorf("signature %q, want %q", sig, want)
	}
	if notify.Verify([]byte("another secret"), r.body, want) || notify.Verify(secret, append(r.body, ' '), want) {
		t.Error("a signature verifies with another secret or body")
	}
	for h, want := range map[string]string{
		notify.EventHeader:    "task.opened",
		notify.DeliveryHeader: strconv.FormatInt(id, 10),
		"Content-Type":        "application/json",
	} {
		if v := r.header.Get(h); v != want {
			t.Errorf("%s: %q, want %q", h, v, want)
		}
	}
	var env struct {
		ID    int64
		Event string
		App   string
		Time  time.Time
		Task  queue.TaskNotice
	}
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatal(err)
	}
	if env.ID != id || env.Event != "task.opened" || env.App != "peopleai" || env.Time.IsZero() ||
		env.Task.UserName != "jane@example.com" || env.Task.Due == nil || !env.Task.Due.Equal(due) || env.Task.Status != "open" {
		t.Errorf("body %s", r.body)
	}
	if n := notification(t, db, id); n.Delivered.IsZero() || n.Attempts != 1 || n.LastError != "" {
		t.Errorf("after delivery: %+v", n)
	}
}

func TestRetriesUntilDelivered(t *testing.T) {
	db := openDB(t)
	rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	var (
		mu       sync.Mutex
		outcomes []string
	)
	delivered := func(webhook string, ok bool) {
		mu.Lock()
		defer mu.Unlock()
		outcomes = append(outcomes, fmt.Sprintf("%s %v", webhook, ok))
	}
	s, c := newSender(t, db, []notify.Webhook{{URL: rc.URL + "/hook?token=secret", Secret: []byte("k")}},
		notify.Options{MinBackoff: time.Minute, MaxBackoff: time.Hour, Delivered: delivered}, nil)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
	t0 := c.now()
	pass(t, s)
	n := notification(t, db, id)
	if !n.Delivered.IsZero() || n.Attempts != 1 || !strings.Contains(n.LastError, "status 500") {
		t.Fatalf("after a 500: %+v", n)
	}
	// A minute, less up to half of it as jitter.
	if wait := n.NextAttempt.Sub(t0); wait < 30*time.Second || wait > time.Minute {
		t.Errorf("next attempt in %s, want 30s to 1m", wait)
	}
	pass(t, s) // not due yet
	if got := len(rc.requests()); got != 1 {
		t.Fatalf("%d requests before the backoff ended, want 1", got)
	}
	c.set(t0.Add(time.Minute + time.Second))
	pass(t, s)
	got := rc.requests()
	if len(got) != 2 || string(got[0].body) != string(got[1].body) ||
		got[1].header.Get(notify.DeliveryHeader) != got[0].header.Get(notify.DeliveryHeader) {
		t.Fatalf("retry differs from the first try: %d requests", len(got))
	}
	if n := notification(t, db, id); n.Delivered.IsZero() || n.Attempts != 2 {
		t.Errorf("after the retry: %+v", n)
	}
	// Outcomes name the webhook by scheme and host only.
	mu.Lock()
	defer mu.Unlock()
	if want := []string{rc.URL + " false", rc.URL + " true"}; !slices.Equal(outcomes, want) {
		t.Errorf("outcomes %q, want %q", outcomes, want)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	cases := []struct {
		name  string
		value func(now time.Time) string
	}{
		{"seconds", func(time.Time) string { return "120" }},
		{"date", func(now time.Time) string { return now.Add(120 * time.Second).Format(http.TimeFormat) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			db := openDB(t)
			var c *clock
			rc := newReceiver(t, func(n int, w http.ResponseWriter, _ *http.Request) {
				if n == 1 {
					w.Header().Set("Retry-After", tc.value(c.now()))
					w.WriteHeader(http.StatusServiceUnavailable)
				}
			})
			var s *notify.Sender
			s, c = newSender(t, db, []notify.Webhook{{URL: rc.URL, Secret: []byte("k")}},
				notify.Options{MinBackoff: time.Second, MaxBackoff: time.Minute}, nil)
			id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
			t0 := c.now()
			pass(t, s)
			if n := notification(t, db, id); n.NextAttempt.Before(t0.Add(119 * time.Second)) {
				t.Errorf("next attempt %s after a Retry-After of 120s", n.NextAttempt.Sub(t0))
			}
			// Later than the backoff, sooner than the receiver asked.
			c.set(t0.Add(90 * time.Second))
			pass(t, s)
			if got := len(rc.requests()); got != 1 {
				t.Fatalf("%d requests before Retry-After passed, want 1", got)
			}
			c.set(t0.Add(121 * time.Second))
			pass(t, s)
			if n := notification(t, db, id); n.Delivered.IsZero() || len(rc.requests()) != 2 {
				t.Errorf("after Retry-After: %+v, %d requests", n, len(rc.requests()))
			}
		})
	}
}

// hang answers no request until the client gives up.
func hang(_ int, _ http.ResponseWriter, r *http.Request) { <-r.Context().Done() }

func TestHangingReceiverTimesOut(t *testing.T) {
	db := openDB(t)
	slow, fast := newReceiver(t, hang), newReceiver(t, nil)
	hooks := []notify.Webhook{{URL: slow.URL, Secret: []byte("a")}, {URL: fast.URL, Secret: []byte("b")}}
	s, c := newSender(t, db, hooks, notify.Options{Timeout: 100 * time.Millisecond, MinBackoff: time.Minute}, nil)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
	t0 := c.now()
	pass(t, s)
	n := notification(t, db, id)
	if !strings.Contains(n.LastError, "no answer within 100ms") || !n.Delivered.IsZero() ||
		!slices.Equal(n.SentTo, []string{hooks[1].Key()}) || len(fast.requests()) != 1 {
		t.Fatalf("after a timeout: %+v; the fast receiver got %d", n, len(fast.requests()))
	}
	// The retry goes to the one that timed out, and only to it.
	c.set(t0.Add(2 * time.Minute))
	pass(t, s)
	if len(slow.requests()) != 2 || len(fast.requests()) != 1 {
		t.Errorf("after the retry: slow got %d, fast %d; want 2 and 1", len(slow.requests()), len(fast.requests()))
	}
}

// A receiver that hangs holds up neither the other receivers nor the
// sender's stop.
func TestHangingReceiverDoesNotBlockOthers(t *testing.T) {
	db := openDB(t)
	slow, fast := newReceiver(t, hang), newReceiver(t, nil)
	hooks := []notify.Webhook{{URL: slow.URL, Secret: []byte("a")}, {URL: fast.URL, Secret: []byte("b")}}
	s, err := notify.New(db, hooks, slog.New(slog.NewTextHandler(io.Discard, nil)),
		notify.Options{Poll: 10 * time.Millisecond, Timeout: time.Hour, Concurrency: 4, PerWebhook: 1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan error, 1)
	go func() { stopped <- s.Run(ctx) }()
	// Stop before the receivers close, even when the test fails.
	t.Cleanup(func() { cancel(); <-stopped })
	// One at a time, each notification reaches the fast receiver while
	// the slow one holds its first request.
	var ids []int64
	for i, u := range []string{"a", "b", "c", "d", "e", "f"} {
		id := enqueue(t, db, queue.TaskOpened, "peopleai", u+"@example.com")
		ids = append(ids, id)
		deadline := time.Now().Add(20 * time.Second)
		for len(fast.requests()) <= i {
			if time.Now().After(deadline) {
				t.Fatalf("notification %d has not reached the fast receiver while the slow one hangs", id)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if got := fast.requests()[i].header.Get(notify.DeliveryHeader); got != strconv.FormatInt(id, 10) {
			t.Fatalf("the fast receiver's request %d delivers %s, want %d", i+1, got, id)
		}
	}
	cancel()
	select {
	case <-stopped:
		stopped <- nil // for the cleanup
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after cancel while a receiver hangs")
	}
	if got := len(slow.requests()); got != 1 {
		t.Errorf("the slow receiver got %d requests, want 1 (one in flight per webhook)", got)
	}
	if got := len(fast.requests()); got != len(ids) {
		t.Errorf("the fast receiver got %d requests for %d notifications", got, len(ids))
	}
	// Stopping recorded what the cut round achieved, and the cut request
	// is no failure: every notification still waits for the slow one,
	// with no error against it. The fast receiver's delivery is recorded,
	// unless the stop came between its answer and the record; then it is
	// sent again later (delivery is at least once).
	for _, id := range ids {
		n := notification(t, db, id)
		sent := slices.Equal(n.SentTo, []string{hooks[1].Key()}) || (id == ids[len(ids)-1] && len(n.SentTo) == 0)
		if !n.Delivered.IsZero() || n.NextAttempt.IsZero() || n.LastError != "" || !sent {
			t.Errorf("notification %d after stop: delivered %v, next %v, error %q, sent to %v", n.ID, n.Delivered, n.NextAttempt, n.LastError, n.SentTo)
		}
	}
}

func TestGivesUpAndKeepsSecretsOutOfLogs(t *testing.T) {
	db := openDB(t)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusBadGateway) })
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	secret := "webhook-secret-value"
	s, c := newSender(t, db, []notify.Webhook{{URL: rc.URL + "/services/T0/B0/PATHTOKEN?token=QUERYTOKEN", Secret: []byte(secret)}},
		notify.Options{MinBackoff: time.Second, MaxAttempts: 3}, log)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
	for i := range 5 {
		c.set(c.now().Add(time.Duration(i) * time.Hour))
		pass(t, s)
	}
	n := notification(t, db, id)
	if len(rc.requests()) != 3 || n.Attempts != 3 || !n.NextAttempt.IsZero() || !n.Delivered.IsZero() ||
		!strings.Contains(n.LastError, "status 502") {
		t.Errorf("after giving up: %+v, %d requests", n, len(rc.requests()))
	}
	out := logs.String()
	if strings.Count(out, "giving up") != 1 || strings.Count(out, "retrying") != 2 {
		t.Errorf("want two retry lines and one give-up line:\n%s", out)
	}
	for _, leak := range []string{secret, "PATHTOKEN", "QUERYTOKEN"} {
		if strings.Contains(out, leak) || strings.Contains(n.LastError, leak) {
			t.Errorf("%q leaked into the log or the stored error:\n%s", leak, out)
		}
	}
}

func TestFiltersAndFormats(t *testing.T) {
	db := openDB(t)
	all, failedOnly, otherApp, slack := newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil), newReceiver(t, nil)
	hooks := []notify.Webhook{
		{URL: all.URL, Secret: []byte("a")},
		{URL: failedOnly.URL, Secret: []byte("b"), Events: []string{queue.TaskFailed}},
		{URL: otherApp.URL, Secret: []byte("c"), Apps: []string{"sixsense"}},
		{URL: slack.URL, Secret: []byte("d"), Format: notify.FormatSlack, Apps: []string{"peopleai"}, Events: []string{queue.TaskOpened}},
	}
	s, _ := newSender(t, db, hooks, notify.Options{}, nil)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane<x>@example.com")
	pass(t, s)
	for name, c := range map[string]struct {
		rc   *receiver
		want int
	}{"all": {all, 1}, "failed only": {failedOnly, 0}, "other app": {otherApp, 0}, "slack": {slack, 1}} {
		if got := len(c.rc.requests()); got != c.want {
			t.Errorf("%s: %d requests, want %d", name, got, c.want)
		}
	}
	if n := notification(t, db, id); n.Delivered.IsZero() {
		t.Errorf("not delivered although every webhook that wants it has it: %+v", n)
	}
	got := slack.requests()
	if len(got) != 1 {
		t.Fatal("no Slack request")
	}
	want := `{"text":"New task 1 in peopleai: create jane&lt;x&gt;@example.com (User (Standard)), due 2026-08-01 12:00 UTC."}`
	if string(got[0].body) != want {
		t.Errorf("slack body\n got  %s\n want %s", got[0].body, want)
	}
	if !notify.Verify([]byte("d"), got[0].body, got[0].header.Get(notify.SignatureHeader)) {
		t.Error("the Slack body is not signed")
	}
}

func TestNoWebhookWantsIt(t *testing.T) {
	db := openDB(t)
	s, _ := newSender(t, db, nil, notify.Options{}, nil)
	id := enqueue(t, db, queue.TaskFailed, "peopleai", "jane@example.com")
	pass(t, s)
	if n := notification(t, db, id); n.Delivered.IsZero() || n.Attempts != 0 {
		t.Errorf("with no webhooks: %+v", n)
	}
	// Many at once are settled in one pass, not one round each: every
	// round is a write, and a write empties the page cache of every
	// reader of the database.
	var ids []int64
	for i := range 50 {
		ids = append(ids, enqueue(t, db, queue.TaskOpened, "peopleai", fmt.Sprintf("u%d@example.com", i)))
	}
	pass(t, s)
	for _, id := range ids {
		if n := notification(t, db, id); n.Delivered.IsZero() {
			t.Fatalf("notification %d is still pending after one pass", id)
		}
	}
}

func TestNewRefuses(t *testing.T) {
	cases := []struct {
		name  string
		hooks []notify.Webhook
		want  string
	}{
		{"unknown format", []notify.Webhook{{URL: "https://x.example/h", Format: "xml"}}, `unknown format "xml"`},
		{"twice", []notify.Webhook{{URL: "https://x.example/h"}, {URL: "https://x.example/h", Format: "json"}}, "the same URL and format twice"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := notify.New(nil, c.hooks, nil, notify.Options{}); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestRedirectIsAFailure(t *testing.T) {
	db := openDB(t)
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(_ int, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL, http.StatusFound)
	})
	s, _ := newSender(t, db, []notify.Webhook{{URL: rc.URL, Secret: []byte("k")}}, notify.Options{}, nil)
	id := enqueue(t, db, queue.TaskOpened, "peopleai", "jane@example.com")
	pass(t, s)
	if n := notification(t, db, id); !strings.Contains(n.LastError, "redirects are not followed") || len(target.requests()) != 0 {
		t.Errorf("after a redirect: %+v; the target got %d", n, len(target.requests()))
	}
}

func TestBackoff(t *testing.T) {
	s, err := notify.New(nil, nil, nil, notify.Options{MinBackoff: time.Minute, MaxBackoff: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		attempts int
		max      time.Duration // the wait is from half of it to all of it
	}{
		{1, time.Minute},
		{2, 2 * time.Minute},
		{4, 8 * time.Minute},
		{7, time.Hour},
		{1000, time.Hour},
	}
	for _, c := range cases {
		for range 50 {
			if d := s.Backoff(c.attempts); d < c.max/2 || d > c.max {
				t.Fatalf("backoff after %d attempts: %s, want %s to %s", c.attempts, d, c.max/2, c.max)
			}
		}
	}
}
