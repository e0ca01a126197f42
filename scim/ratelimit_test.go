package scim_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/limit"
)

// fakeClock is the rate limits' clock, moved by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *fakeClock {
	return &fakeClock{now: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// limitStep is one request of a rate-limit scenario and what it must get.
type limitStep struct {
	name    string
	advance time.Duration // the clock moves first
	token   string        // a name in the scenario's tokens
	app     string        // default acme
	client  string        // X-Forwarded-For; default 192.0.2.1
	status  int
	// retry is the Retry-After header a 429 must carry.
	retry string
}

func runLimitSteps(t *testing.T, h *harness, clock *fakeClock, tokens map[string]string, steps []limitStep) {
	t.Helper()
	for i, s := range steps {
		clock.advance(s.advance)
		tok, ok := tokens[s.token]
		if !ok {
			t.Fatalf("step %d: no token %q", i, s.token)
		}
		client := s.client
		if client == "" {
			client = "192.0.2.1"
		}
		r := h.do(request{method: "GET", path: "/Users?count=1", app: s.app, token: &tok,
			header: map[string]string{"X-Forwarded-For": client}})
		if r.status != s.status {
			t.Fatalf("step %d (%s): status %d, want %d: %s", i, s.name, r.status, s.status, r.body)
		}
		if got := r.header.Get("Retry-After"); got != s.retry {
			t.Errorf("step %d (%s): Retry-After %q, want %q", i, s.name, got, s.retry)
		}
		if s.status == http.StatusTooManyRequests {
			scimError(t, r, http.StatusTooManyRequests, "")
		}
	}
}

func TestTokenRateLimit(t *testing.T) {
	clock := newClock()
	h := newHarnessWith(t, func(c *scim.Config) {
		c.TokenRate = limit.Rate{PerSecond: 2, Burst: 3}
		c.AppTokenRates = map[string]limit.Rate{"beta": {}} // beta: no limit
		c.Proxies = limit.Proxies{loopback}
		c.Now = clock.Now
	}, "acme", "beta")
	second, _, err := scim.IssueToken(context.Background(), h.db, "acme", "second")
	if err != nil {
		t.Fatal(err)
	}
	tokens := map[string]string{"acme": h.tokens["acme"], "second": second, "beta": h.tokens["beta"]}
	steps := []limitStep{
		{name: "burst 1", token: "acme", status: 200},
		{name: "burst 2", token: "acme", status: 200},
		{name: "burst 3", token: "acme", status: 200},
		{name: "over the burst", token: "acme", status: 429, retry: "1"},
		{name: "another token of the app is unaffected", token: "second", status: 200},
		{name: "from another client, the token is still over", token: "acme", client: "198.51.100.9", status: 429, retry: "1"},
		{name: "half a second refills one", advance: 500 * time.Millisecond, token: "acme", status: 200},
		{name: "and only one", token: "acme", status: 429, retry: "1"},
		{name: "two seconds refill the burst", advance: 2 * time.Second, token: "acme", status: 200},
		{name: "burst again 2", token: "acme", status: 200},
		{name: "burst again 3", token: "acme", status: 200},
		{name: "over again", token: "acme", status: 429, retry: "1"},
	}
	for range 10 {
		steps = append(steps, limitStep{name: "an app without a limit", app: "beta", token: "beta", status: 200})
	}
	runLimitSteps(t, h, clock, tokens, steps)

	tok := h.tokens["acme"]
	r := h.do(request{method: "GET", path: "/Users", token: &tok})
	detail := scimError(t, r, http.StatusTooManyRequests, "")
	if want := "too many requests with this token: at most 2 a second, in bursts of 3; retry after 1 s"; detail != want {
		t.Errorf("detail %q, want %q", detail, want)
	}
	if n := strings.Count(h.logs.String(), "a token is over its rate limit"); n != 2 {
		t.Errorf("%d warnings of the token over its limit, want one for each of its 2 runs of refusals:\n%s", n, h.logs)
	}
}

// TestAdminTokenRateLimit checks that the admin API's tokens have the
// top-level rate.
func TestAdminTokenRateLimit(t *testing.T) {
	clock := newClock()
	h := newHarnessWith(t, func(c *scim.Config) {
		c.TokenRate = limit.Rate{PerSecond: 1, Burst: 2}
		c.Now = clock.Now
	})
	admin, _, err := scim.IssueAdminToken(context.Background(), h.db, "Alice Admin", "laptop")
	if err != nil {
		t.Fatal(err)
	}
	call := func() error {
		_, err := h.scim.AdminActor(bearerRequest("GET", "/api/v1/tasks", admin))
		return err
	}
	for i := range 2 {
		if err := call(); err != nil {
			t.Fatalf("request %d: %v", i+1, err)
		}
	}
	var limited *scim.LimitError
	if err := call(); !errors.As(err, &limited) || limited.Failures || limited.Seconds() != 1 {
		t.Fatalf("third request: %v, want a LimitError of the token", err)
	}
	clock.advance(time.Second)
	if err := call(); err != nil {
		t.Fatalf("after a second: %v", err)
	}
}

// loopback is the harness's HTTP client, trusted as a proxy so that
// X-Forwarded-For can play several clients.
var loopback = netip.MustParsePrefix("127.0.0.0/8")

func TestFailedAuthLimit(t *testing.T) {
	clock := newClock()
	h := newHarnessWith(t, func(c *scim.Config) {
		c.FailedAuthPerMinute = 3
		c.Proxies = limit.Proxies{loopback}
		c.Now = clock.Now
	}, "acme", "beta")
	guess := "sbt_0123456789abcdef_" + strings.Repeat("A", 43)
	tokens := map[string]string{"acme": h.tokens["acme"], "beta": h.tokens["beta"], "guess": guess, "garbage": "hunter2", "none": ""}
	runLimitSteps(t, h, clock, tokens, []limitStep{
		{name: "no token does not count", token: "none", status: 401},
		{name: "no token does not count", token: "none", status: 401},
		{name: "no token does not count", token: "none", status: 401},
		{name: "guess 1", token: "guess", status: 401},
		{name: "a good token between", token: "acme", status: 200},
		{name: "guess 2", token: "garbage", status: 401},
		{name: "another app's token counts as a failure", token: "beta", status: 401},
		{name: "now refused, even with a good token", token: "acme", status: 429, retry: "20"},
		{name: "and not checked", token: "guess", status: 429, retry: "20"},
		{name: "another client is unaffected", token: "acme", client: "198.51.100.9", status: 200},
		{name: "another client's guess", token: "guess", client: "198.51.100.9", status: 401},
		{name: "an IPv6 neighbour in the same /64", token: "guess", client: "2001:db8::1", status: 401},
		{name: "still refused before the refill", advance: 19 * time.Second, token: "acme", status: 429, retry: "1"},
		{name: "one more try after 20 s", advance: time.Second, token: "acme", status: 200},
		{name: "a wrong one spends it", token: "guess", status: 401},
		{name: "refused again", token: "acme", status: 429, retry: "20"},
		{name: "a minute refills the budget", advance: time.Minute, token: "guess", status: 401},
		{name: "which is 3 again", token: "guess", status: 401},
		{name: "3", token: "guess", status: 401},
		{name: "spent", token: "acme", status: 429, retry: "20"},
	})
	logs := h.logs.String()
	if n := strings.Count(logs, "too many failed authentications: refusing the client"); n != 2 {
		t.Errorf("%d warnings of a client running out, want one for each of its 2 runs:\n%s", n, logs)
	}
	if !strings.Contains(logs, `"client":"192.0.2.1"`) {
		t.Errorf("the client is not named in the log:\n%s", logs)
	}
	for _, secret := range []string{guess, "hunter2", h.tokens["acme"], h.tokens["beta"]} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds a presented token %q", secret)
		}
	}
	tok := h.tokens["acme"]
	r := h.do(request{method: "GET", path: "/Users", token: &tok, header: map[string]string{"X-Forwarded-For": "192.0.2.1"}})
	if detail := scimError(t, r, http.StatusTooManyRequests, ""); !strings.Contains(detail, "too many failed authentications from this address") {
		t.Errorf("detail %q", detail)
	}
}

// TestFailedAdminAuthLimit checks that the admin API counts failures
// against the same budget, and that the limit can be switched off.
func TestFailedAdminAuthLimit(t *testing.T) {
	for _, c := range []struct {
		name      string
		perMinute int
		limited   bool
	}{
		{"limited", 2, true},
		{"off", -1, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarnessWith(t, func(cfg *scim.Config) { cfg.FailedAuthPerMinute = c.perMinute })
			req := func(token string) *http.Request {
				r := httptest.NewRequest("GET", "/api/v1/tasks", nil)
				r.RemoteAddr = "203.0.113.5:4321"
				r.Header.Set("Authorization", "Bearer "+token)
				return r
			}
			scimToken := h.tokens["acme"]
			for range 2 {
				if _, err := h.scim.AdminActor(req(scimToken)); !errors.Is(err, scim.ErrNoAdminToken) {
					t.Fatalf("a SCIM token on the admin API: %v", err)
				}
			}
			var limited *scim.LimitError
			_, err := h.scim.AdminActor(req(scimToken))
			if got := errors.As(err, &limited) && limited.Failures; got != c.limited {
				t.Fatalf("third failure: %v; limited %v, want %v", err, got, c.limited)
			}
			// The harness's own address is another client.
			mustStatus(t, h.do(request{method: "GET", path: "/Users"}), http.StatusOK)
		})
	}
}
