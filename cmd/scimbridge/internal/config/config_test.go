package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/compat"
)

var profiles = []string{"manual"}

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       string // substring of the error, which starts with "cfg.yaml:LINE:" when a line is known
	}{
		{"unknown top-level key", "listen: 127.0.0.1:8080\nlisten_adress: x\napps:\n  - name: acme\n", `cfg.yaml:2: unknown key "listen_adress"`},
		{"unknown app key", "apps:\n  - name: acme\n    profil: manual\n", `cfg.yaml:3: unknown key "profil"`},
		{"duplicate app", "apps:\n  - name: acme\n  - name: beta\n  - name: acme\n", `cfg.yaml:4: app "acme" is already defined on line 2`},
		{"bad listen", "listen: localhost\napps:\n  - name: acme\n", `cfg.yaml:1: listen: "localhost" is not a host:port`},
		{"bad port", "listen: 127.0.0.1:99999\napps:\n  - name: acme\n", `cfg.yaml:1: listen: "127.0.0.1:99999": port`},
		{"bad host", "listen: 'bad host!:80'\napps:\n  - name: acme\n", `cfg.yaml:1: listen:`},
		{"bad app name", "apps:\n  - name: Acme Corp\n", `cfg.yaml:2: app name "Acme Corp"`},
		{"app without name", "apps:\n  - profile: manual\n", `cfg.yaml:2: app 1 has no name`},
		{"unknown profile", "apps:\n  - name: acme\n    profile: salesforce\n", `cfg.yaml:3: app "acme": unknown profile "salesforce" (known: manual)`},
		{"no apps", "listen: 127.0.0.1:8080\n", `cfg.yaml: apps: configure at least one app`},
		{"empty file", "", `cfg.yaml: the file is empty`},
		{"not yaml", "apps: [\n", `cfg.yaml:1: did not find expected node content`},
		{"wrong type", "apps: acme\n", `cfg.yaml:1: cannot unmarshal`},
		{"bad public_url", "public_url: scim.example.com\napps:\n  - name: acme\n", `cfg.yaml:1: public_url: "scim.example.com" is not an http(s) URL`},
		{"tiny body limit", "max_request_bytes: 10\napps:\n  - name: acme\n", `cfg.yaml:1: max_request_bytes: 10 is too small`},
		{"bad log level", "log:\n  level: loud\napps:\n  - name: acme\n", `log.level: "loud"`},
		{"unknown rule", "apps:\n  - name: acme\n    disable_rules:\n      - capitalised-ops\n      - capitalized-ops\n",
			`cfg.yaml:5: app "acme": disable_rules: unknown normalisation rule "capitalized-ops" (known: capitalised-ops, string-booleans,`},
		{"unknown rule in a flow list", "apps:\n  - name: acme\n  - name: beta\n    disable_rules: [trailing-slash, nope]\n",
			`cfg.yaml:4: app "beta": disable_rules: unknown normalisation rule "nope"`},
		{"empty rule name", "apps:\n  - name: acme\n    disable_rules:\n      - ''\n", `cfg.yaml:4: app "acme": disable_rules: unknown normalisation rule ""`},
		{"disable_rules not a list", "apps:\n  - name: acme\n    disable_rules: trailing-slash\n", `cfg.yaml:3: cannot unmarshal`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := Parse("/etc/scimbridge/scimbridge.yaml", []byte("apps:\n  - name: acme\n"), profiles)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct{ name, got, want string }{
		{"listen", c.Listen, DefaultListen},
		{"database", c.DatabasePath(), "/etc/scimbridge/scimbridge.db"},
		{"public_url", c.PublicURL, "http://127.0.0.1:8080"},
		{"profile", c.Apps[0].Profile, DefaultProfile},
		{"log level", c.Log.Level, "info"},
		{"log format", c.Log.Format, "auto"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.name, ch.got, ch.want)
		}
	}
	if c.MaxRequestBytes != DefaultMaxRequestBytes {
		t.Errorf("max_request_bytes = %d", c.MaxRequestBytes)
	}
}

func TestSettings(t *testing.T) {
	yaml := `listen: 0.0.0.0:9090
database: /var/lib/scimbridge/db.sqlite
public_url: https://scim.example.com/prefix/
max_request_bytes: 2097152
log:
  level: debug
  format: json
apps:
  - name: acme
    profile: manual
  - name: 6sense-prod
`
	c, err := Parse("x.yaml", []byte(yaml), profiles)
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabasePath() != "/var/lib/scimbridge/db.sqlite" || c.PublicURL != "https://scim.example.com/prefix" ||
		c.MaxRequestBytes != 2<<20 || c.Log.Level != "debug" || c.Log.Format != "json" {
		t.Errorf("settings not read: %+v", c)
	}
	if got := strings.Join(c.AppNames(), ","); got != "acme,6sense-prod" || !c.HasApp("6sense-prod") || c.HasApp("other") {
		t.Errorf("apps = %s", got)
	}
	w, err := Parse("x.yaml", []byte("listen: 0.0.0.0:9090\napps:\n  - name: a\n"), profiles)
	if err != nil {
		t.Fatal(err)
	}
	if w.PublicURL != "http://localhost:9090" {
		t.Errorf("public_url for a wildcard listen = %q", w.PublicURL)
	}
}

func TestDisableRules(t *testing.T) {
	cases := []struct {
		name, yaml string
		off        map[string][]compat.Rule // app → the rules that must be off; every other rule on
	}{
		{"none", "apps:\n  - name: acme\n", map[string][]compat.Rule{"acme": nil}},
		{"empty list", "apps:\n  - name: acme\n    disable_rules: []\n", map[string][]compat.Rule{"acme": nil}},
		{
			"block list, one app only",
			"apps:\n  - name: acme\n    disable_rules:\n      - missing-user-agent\n      - capitalised-ops\n  - name: beta\n",
			map[string][]compat.Rule{"acme": {compat.MissingUserAgent, compat.CapitalisedOps}, "beta": nil},
		},
		{
			"flow list, repeated name",
			"apps:\n  - name: acme\n    disable_rules: [trailing-slash, trailing-slash]\n",
			map[string][]compat.Rule{"acme": {compat.TrailingSlash}},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if err != nil {
				t.Fatal(err)
			}
			rules := cfg.Rules()
			if len(rules) != len(c.off) {
				t.Errorf("Rules() has %d apps, want %d", len(rules), len(c.off))
			}
			for app, off := range c.off {
				set, ok := rules[app]
				if !ok {
					t.Errorf("Rules() has no entry for %s", app)
				}
				for _, r := range compat.All() {
					if want := !slices.Contains(off, r); set.On(r) != want {
						t.Errorf("%s: rule %s on = %v, want %v", app, r, set.On(r), want)
					}
				}
			}
		})
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(filepath.Join(dir, "missing.yaml"), profiles); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing file: %v", err)
	}
	p := filepath.Join(dir, "ok.yaml")
	if err := os.WriteFile(p, []byte("database: data/sb.db\napps:\n  - name: acme\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(p, profiles)
	if err != nil {
		t.Fatal(err)
	}
	if c.Path != p || c.DatabasePath() != filepath.Join(dir, "data/sb.db") {
		t.Errorf("path %q database %q", c.Path, c.DatabasePath())
	}
}
