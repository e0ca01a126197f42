package config

import (
	"math"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/limit"
)

// RateLimit is the top-level rate_limit: each token's requests (admin
// tokens', and SCIM tokens' of apps without their own rate_limit), and
// the failed authentications of each client address.
type RateLimit struct {
	TokenRate `yaml:",inline"`
	// FailedAuthPerMinute is how many failed authentications a client
	// may have at once, and then a minute; nil is the default
	// (scim.DefaultFailedAuthPerMinute), 0 no limit.
	FailedAuthPerMinute *int `yaml:"failed_auth_per_minute"`
}

// TokenRate bounds each token's requests: Burst at once, refilled at
// RequestsPerSecond. A zero RequestsPerSecond is no limit; a zero Burst
// is two seconds' worth.
type TokenRate struct {
	RequestsPerSecond float64 `yaml:"requests_per_second"`
	Burst             int     `yaml:"burst"`
}

// Rate is r as the SCIM server takes it.
func (r TokenRate) Rate() limit.Rate {
	return limit.Rate{PerSecond: r.RequestsPerSecond, Burst: r.Burst}
}

// check words what is wrong with r, under key.
func (r TokenRate) check(key string) string {
	switch {
	case r.RequestsPerSecond < 0 || math.IsNaN(r.RequestsPerSecond) || math.IsInf(r.RequestsPerSecond, 0):
		return key + ".requests_per_second must be a number of requests, 0 for no limit"
	case r.Burst < 0:
		return key + ".burst must not be negative"
	case r.Burst > 0 && r.RequestsPerSecond == 0:
		return key + ".burst needs a requests_per_second to refill at (0 is no limit)"
	}
	return ""
}

// TokenRates returns the rate of admin tokens and apps without their own,
// and the rates of the apps that have one.
func (c *Config) TokenRates() (limit.Rate, map[string]limit.Rate) {
	apps := map[string]limit.Rate{}
	for _, a := range c.Apps {
		if a.RateLimit != nil {
			apps[a.Name] = a.RateLimit.Rate()
		}
	}
	return c.RateLimit.Rate(), apps
}

// FailedAuthLimit is rate_limit.failed_auth_per_minute as the SCIM server
// takes it: 0 for the default, negative for no limit.
func (c *Config) FailedAuthLimit() int {
	switch n := c.RateLimit.FailedAuthPerMinute; {
	case n == nil:
		return 0
	case *n == 0:
		return -1
	default:
		return *n
	}
}

// checkLimits checks the rate limits and the trusted proxies.
func (c *Config) checkLimits(w where) error {
	if msg := c.RateLimit.check("rate_limit"); msg != "" {
		return c.errorf(w.key("rate_limit"), "%s", msg)
	}
	if n := c.RateLimit.FailedAuthPerMinute; n != nil && *n < 0 {
		return c.errorf(w.key("rate_limit"), "rate_limit.failed_auth_per_minute must not be negative (0 is no limit, default %d)", scim.DefaultFailedAuthPerMinute)
	}
	for i, a := range c.Apps {
		if a.RateLimit == nil {
			continue
		}
		if msg := a.RateLimit.check("rate_limit"); msg != "" {
			return c.errorf(w.setting(i, []string{"rate_limit"}), "app %q: %s", a.Name, msg)
		}
	}
	proxies, err := limit.ParseProxies(c.TrustedProxies)
	if err != nil {
		return c.errorf(w.key("trusted_proxies"), "trusted_proxies: %v", err)
	}
	c.Proxies = proxies
	return nil
}
