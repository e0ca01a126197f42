package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestMetricsSettings(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "metrics.token"), []byte("from-file\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SCRAPE_TOKEN": " from-env "}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name, yaml string
		enabled    bool
		listen     string
		token      string
		readErr    string
	}{
		{"default: on, on the main address, no token", "", true, "", "", ""},
		{"off", "metrics:\n  enabled: false\n", false, "", "", ""},
		{"own address", "metrics:\n  listen: 127.0.0.1:9464\n", true, "127.0.0.1:9464", "", ""},
		{"token from the environment", "metrics:\n  token_env: SCRAPE_TOKEN\n", true, "", "from-env", ""},
		{"token from a file beside the config", "metrics:\n  token_file: metrics.token\n", true, "", "from-file", ""},
		{"unset variable", "metrics:\n  token_env: NOT_SET\n", true, "", "", "the environment variable NOT_SET is not set"},
		{"missing file", "metrics:\n  token_file: nope.token\n", true, "", "", "secret file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "cfg.yaml"), []byte(c.yaml+"apps:\n  - name: acme\n"), profiles)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.MetricsEnabled() != c.enabled || cfg.Metrics.Listen != c.listen {
				t.Errorf("enabled %v listen %q, want %v %q", cfg.MetricsEnabled(), cfg.Metrics.Listen, c.enabled, c.listen)
			}
			token, err := cfg.ReadMetricsToken(getenv)
			switch {
			case c.readErr != "" && (err == nil || !strings.Contains(err.Error(), c.readErr)):
				t.Errorf("token error %v, want %q", err, c.readErr)
			case c.readErr == "" && (err != nil || token != c.token):
				t.Errorf("token %q, %v; want %q", token, err, c.token)
			}
			if err != nil && strings.Contains(err.Error(), "from-") {
				t.Errorf("the error shows the token: %v", err)
			}
		})
	}
}

func TestMetricsErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"two tokens", "metrics:\n  token_env: A\n  token_file: b\n", "cfg.yaml:2: metrics: give at most one of token_env or token_file"},
		{"bad address", "metrics:\n  listen: nine\n", `cfg.yaml:2: metrics.listen: "nine" is not a host:port address`},
		{"the main address", "listen: 127.0.0.1:8080\nmetrics:\n  listen: 127.0.0.1:8080\n", "cfg.yaml:3: metrics.listen: 127.0.0.1:8080 is the main listen address"},
		{"unknown key", "metrics:\n  path: /m\n", `unknown key "path"`},
		{"not a boolean", "metrics:\n  enabled: sometimes\n", "cfg.yaml:2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.yaml+"apps:\n  - name: acme\n"), profiles)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}
