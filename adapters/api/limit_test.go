package api_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/limit"
)

// TestRateLimited: an admin token over its rate, and a client that has
// spent its failed authentications, get 429 with Retry-After and the
// API's JSON error.
func TestRateLimited(t *testing.T) {
	now := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	w := newWorldWith(t, func(c *scim.Config) {
		c.TokenRate = limit.Rate{PerSecond: 0.5, Burst: 2}
		c.FailedAuthPerMinute = 1
		c.Now = func() time.Time { return now }
	})
	for i, s := range []struct {
		token, who string
		status     int
		retry      string
		message    string
	}{
		{w.alice, "alice", 200, "", ""},
		{w.alice, "alice", 200, "", ""},
		{w.alice, "alice", 429, "2", "too many requests with this token: at most 0.5 a second, in bursts of 2; retry after 2 s"},
		{w.bob, "bob", 200, "", ""},
		{w.scim["wiki"], "a SCIM token", 401, "", "a valid admin token is required"},
		{w.bob, "bob, from the same address", 429, "60", "too many failed authentications from this address; retry after 60 s"},
	} {
		r := w.do("GET", "/api/v1/apps", s.token, "")
		if r.status != s.status || r.header.Get("Retry-After") != s.retry {
			t.Fatalf("step %d (%s): %d with Retry-After %q, want %d with %q: %s", i, s.who, r.status, r.header.Get("Retry-After"), s.status, s.retry, r.body)
		}
		if s.status != http.StatusOK {
			m := r.obj(t)
			if msg, _ := m["error"].(string); !strings.Contains(msg, s.message) || m["status"] != float64(s.status) {
				t.Errorf("step %d (%s): body %v, want %q", i, s.who, m, s.message)
			}
		}
	}
}
