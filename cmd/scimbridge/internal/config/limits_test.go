package config

import (
	"maps"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/limit"
)

func TestLimits(t *testing.T) {
	cases := []struct {
		name, yaml  string
		rate        limit.Rate
		apps        map[string]limit.Rate
		failedAuth  int
		proxies     string
		errContains string
	}{
		{name: "defaults: tokens unlimited, failures at the server's default",
			yaml: "apps:\n  - name: acme\n", apps: map[string]limit.Rate{}},
		{name: "a top-level rate, an app's own, an app switched off",
			yaml: "rate_limit:\n  requests_per_second: 500\n  burst: 1000\n  failed_auth_per_minute: 5\n" +
				"apps:\n  - name: acme\n  - name: beta\n    rate_limit: {requests_per_second: 20}\n  - name: gamma\n    rate_limit: {}\n",
			rate:       limit.Rate{PerSecond: 500, Burst: 1000},
			apps:       map[string]limit.Rate{"beta": {PerSecond: 20}, "gamma": {}},
			failedAuth: 5},
		{name: "failures not limited", yaml: "rate_limit:\n  failed_auth_per_minute: 0\napps:\n  - name: acme\n",
			apps: map[string]limit.Rate{}, failedAuth: -1},
		{name: "trusted proxies", yaml: "trusted_proxies: [10.0.0.0/8, 192.0.2.7, '::1']\napps:\n  - name: acme\n",
			apps: map[string]limit.Rate{}, proxies: "[10.0.0.0/8 192.0.2.7/32 ::1/128]"},

		{name: "negative rate", yaml: "rate_limit:\n  requests_per_second: -1\napps:\n  - name: acme\n",
			errContains: "cfg.yaml:2: rate_limit.requests_per_second must be a number of requests, 0 for no limit"},
		{name: "burst without a rate", yaml: "apps:\n  - name: acme\n    rate_limit:\n      burst: 10\n",
			errContains: `cfg.yaml:3: app "acme": rate_limit.burst needs a requests_per_second`},
		{name: "negative failures", yaml: "rate_limit:\n  failed_auth_per_minute: -3\napps:\n  - name: acme\n",
			errContains: "cfg.yaml:2: rate_limit.failed_auth_per_minute must not be negative (0 is no limit, default 20)"},
		{name: "failures are not per app", yaml: "apps:\n  - name: acme\n    rate_limit:\n      failed_auth_per_minute: 3\n",
			errContains: `cfg.yaml:4: unknown key "failed_auth_per_minute"`},
		{name: "unknown key", yaml: "rate_limit:\n  rps: 3\napps:\n  - name: acme\n", errContains: `cfg.yaml:2: unknown key "rps"`},
		{name: "bad proxy", yaml: "trusted_proxies: [lb.example.com]\napps:\n  - name: acme\n",
			errContains: `cfg.yaml:1: trusted_proxies: "lb.example.com" is neither an IP address nor a CIDR prefix`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if c.errContains != "" {
				if err == nil || !strings.Contains(err.Error(), c.errContains) {
					t.Fatalf("error %v, want %q", err, c.errContains)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rate, apps := cfg.TokenRates()
			if rate != c.rate || !maps.Equal(apps, c.apps) {
				t.Errorf("TokenRates = %v, %v; want %v, %v", rate, apps, c.rate, c.apps)
			}
			if got := cfg.FailedAuthLimit(); got != c.failedAuth {
				t.Errorf("FailedAuthLimit = %d, want %d", got, c.failedAuth)
			}
			if c.proxies != "" {
				if got := fmtProxies(cfg.Proxies); got != c.proxies {
					t.Errorf("proxies %s, want %s", got, c.proxies)
				}
			}
		})
	}
}

func fmtProxies(p limit.Proxies) string {
	parts := make([]string, len(p))
	for i, pre := range p {
		parts[i] = pre.String()
	}
	return "[" + strings.Join(parts, " ") + "]"
}
