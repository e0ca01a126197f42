package scim

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/scimbridge/scimbridge/scim/limit"
	"github.com/scimbridge/scimbridge/scim/store"
)

// DefaultFailedAuthPerMinute is how many failed authentications a client
// address may have in a burst, and then a minute, unless configured: an
// IdP with a wrong token stays far below it while its admin fixes the
// token; guessing at tokens becomes a matter of centuries (it was one
// anyway) and, more to the point, cannot flood the log or the database.
const DefaultFailedAuthPerMinute = 20

// LimitError refuses a request over a rate limit. Detail is worded for
// the client.
type LimitError struct {
	// RetryAfter is how long until a request can pass.
	RetryAfter time.Duration
	// Failures is set when the client's address has spent its failed
	// authentications, rather than its token its requests.
	Failures bool
	Detail   string
}

func (e *LimitError) Error() string { return e.Detail }

// Seconds is RetryAfter as a Retry-After header gives it: whole seconds,
// rounded up, at least 1.
func (e *LimitError) Seconds() int { return limit.Seconds(e.RetryAfter) }

// guard holds the rate limits around authentication: failed attempts per
// client address, and requests per token.
type guard struct {
	log     *slog.Logger
	now     func() time.Time
	proxies limit.Proxies
	// failures is nil when failed authentications are not limited.
	failures *limit.Buckets
	// admin holds the admin tokens' buckets and apps each app's SCIM
	// tokens'; nil is no limit.
	admin *limit.Buckets
	apps  map[string]*limit.Buckets
}

func newGuard(cfg Config) *guard {
	g := &guard{log: cfg.Logger, now: cfg.Now, proxies: cfg.Proxies, apps: map[string]*limit.Buckets{}}
	if g.now == nil {
		g.now = time.Now
	}
	perMinute := cfg.FailedAuthPerMinute
	if perMinute == 0 {
		perMinute = DefaultFailedAuthPerMinute
	}
	if perMinute > 0 {
		g.failures = limit.NewBuckets(limit.Rate{PerSecond: float64(perMinute) / 60, Burst: perMinute}, 0)
	}
	buckets := func(r limit.Rate) *limit.Buckets {
		if r.Off() {
			return nil
		}
		return limit.NewBuckets(r, 0)
	}
	g.admin = buckets(cfg.TokenRate)
	for _, app := range cfg.Apps {
		r, own := cfg.AppTokenRates[app]
		if !own {
			r = cfg.TokenRate
		}
		g.apps[app] = buckets(r)
	}
	return g
}

// admit refuses r while its client address has no failed
// authentications left, without looking at its token, and otherwise
// returns the client's key.
func (g *guard) admit(r *http.Request) (client string, err error) {
	client = limit.Key(g.proxies.Client(r))
	if g.failures == nil {
		return client, nil
	}
	if empty, wait := g.failures.Empty(client, g.now()); empty {
		return client, &LimitError{RetryAfter: wait, Failures: true, Detail: fmt.Sprintf(
			"too many failed authentications from this address; retry after %d s", limit.Seconds(wait))}
	}
	return client, nil
}

// failed counts a failed authentication of client, and says so in the
// log once each time the client runs out.
func (g *guard) failed(r *http.Request, client string) {
	if g.failures == nil || !g.failures.Spend(client, g.now()) {
		return
	}
	g.log.WarnContext(r.Context(), "too many failed authentications: refusing the client until its budget refills",
		"client", client, "per_minute", g.failures.Rate().Burst, "request_id", RequestID(r.Context()))
}

// spend takes one request from tok's bucket, or refuses r.
func (g *guard) spend(r *http.Request, tok store.Token) error {
	b := g.admin
	if !tok.Admin {
		b = g.apps[tok.App]
	}
	if b == nil {
		return nil
	}
	ok, wait, emptied := b.Take(tok.ID, g.now())
	if ok {
		return nil
	}
	rate := b.Rate()
	if emptied {
		g.log.WarnContext(r.Context(), "a token is over its rate limit", "token_id", tok.ID, "app", tok.App,
			"per_second", rate.PerSecond, "burst", rate.Burst, "request_id", RequestID(r.Context()))
	}
	return &LimitError{RetryAfter: wait, Detail: fmt.Sprintf(
		"too many requests with this token: at most %s a second, in bursts of %d; retry after %d s",
		strconv.FormatFloat(rate.PerSecond, 'f', -1, 64), rate.Burst, limit.Seconds(wait))}
}
