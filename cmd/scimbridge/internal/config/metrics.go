package config

import "fmt"

// Metrics configures GET /metrics, the Prometheus metrics. They are on by
// default, on the main listen address and without a token: the default
// address is the loopback one, and a reverse proxy forwards only what it
// is told to. Listen moves them to an address of their own; a token
// makes scrapers authenticate. Metrics carry app names and counts, never
// a user.
type Metrics struct {
	// Enabled, when false, serves no /metrics.
	Enabled *bool `yaml:"enabled"`
	// Listen, when set, is a host:port that serves /metrics alone; the
	// main address then does not serve it.
	Listen string `yaml:"listen"`
	// TokenEnv or TokenFile holds the bearer token scrapers must send.
	TokenEnv  string `yaml:"token_env"`
	TokenFile string `yaml:"token_file"`
}

// MetricsEnabled reports whether /metrics is served.
func (c *Config) MetricsEnabled() bool {
	return c.Metrics.Enabled == nil || *c.Metrics.Enabled
}

func (c *Config) checkMetrics(w where) error {
	m := c.Metrics
	if m.TokenEnv != "" && m.TokenFile != "" {
		return c.errorf(w.key("metrics"), "metrics: give at most one of token_env or token_file")
	}
	if m.Listen == "" {
		return nil
	}
	if err := checkListen(m.Listen); err != nil {
		return c.errorf(w.key("metrics"), "metrics.listen: %v", err)
	}
	if m.Listen == c.Listen {
		return c.errorf(w.key("metrics"), "metrics.listen: %s is the main listen address; leave metrics.listen out to serve /metrics there", m.Listen)
	}
	return nil
}

// ReadMetricsToken reads the bearer token of /metrics from its file or
// environment variable; it is "" when none is configured.
func (c *Config) ReadMetricsToken(getenv func(string) string) (string, error) {
	m := c.Metrics
	if m.TokenEnv == "" && m.TokenFile == "" {
		return "", nil
	}
	v, err := c.readSecret(getenv, m.TokenEnv, m.TokenFile)
	if err != nil {
		return "", fmt.Errorf("%s: metrics: %w", c.Path, err)
	}
	return v, nil
}
