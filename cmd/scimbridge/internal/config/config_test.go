package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/scim/compat"
)

var profiles = profile.Names()

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
		{"unknown profile", "apps:\n  - name: acme\n    profile: salesforce\n", `cfg.yaml:3: app "acme": unknown profile "salesforce" (known: manual, peopleai, sixclicks, sixmap, sixsense)`},
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
		{"bad retention", "outbox_retention: a week\napps:\n  - name: acme\n", `cfg.yaml:1: outbox_retention: "a week" is not a duration`},
		{"negative retention", "outbox_retention: -1h\napps:\n  - name: acme\n", `cfg.yaml:1: outbox_retention: -1h must not be negative`},
		{"short retention", "outbox_retention: 5m\napps:\n  - name: acme\n", `cfg.yaml:1: outbox_retention: 5m is too short`},
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
		{"profile", c.Apps[0].ProfileName, DefaultProfile},
		{"effective profile", c.Apps[0].Profile.Name, DefaultProfile},
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
	if c.Retention != DefaultOutboxRetention {
		t.Errorf("outbox retention = %s", c.Retention)
	}
	for _, r := range []struct {
		text string
		want time.Duration
	}{{"0", 0}, {"24h", 24 * time.Hour}} {
		c, err := Parse("x.yaml", []byte("outbox_retention: "+r.text+"\napps:\n  - name: acme\n"), profiles)
		if err != nil || c.Retention != r.want {
			t.Errorf("outbox_retention: %s → %v, %v; want %s", r.text, c.Retention, err, r.want)
		}
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

func TestProfileOverrides(t *testing.T) {
	yaml := `apps:
  - name: acme
  - name: sales-ai
    profile: peopleai
    roles:
      - Admin
      - name: User (Standard)
        description: Dashboards only.
    default_role: user (standard)
    role_rules:
      groups:
        - {group: Sales Ops Admins, role: Admin}
      domains:
        - domain: "*.contractors.example.com"
          role: User (Standard)
    deadlines:
      create: 8h
      deactivate: 1h
    assignees:
      create: it-ops@example.com
      deactivate: Security Team
    approval:
      - {kind: create, role: Admin}
    runbooks:
      delete:
        - Ask People.ai support to delete {{.Email}}.
    verification: admin
    grace_period: 48h
`
	c, err := Parse("cfg.yaml", []byte(yaml), profiles)
	if err != nil {
		t.Fatal(err)
	}
	if p := c.Apps[0].Profile; p == nil || p.Name != "manual" {
		t.Fatalf("acme's profile = %+v", p)
	}
	a := c.Apps[1]
	p := a.Profile
	if a.ProfileName != "peopleai" || p == nil || p.Name != "peopleai" {
		t.Fatalf("profile %q, effective %+v", a.ProfileName, p)
	}
	if p.DefaultRole != "User (Standard)" || p.Roles[1].Description != "Dashboards only." {
		t.Errorf("default role %q, roles %+v", p.DefaultRole, p.Roles)
	}
	if got := p.Role("ann@example.com", []string{"sales ops admins"}); got != "Admin" {
		t.Errorf("group rule: role %q", got)
	}
	if got := p.Role("bo@eu.contractors.example.com", nil); got != "User (Standard)" {
		t.Errorf("domain rule: role %q", got)
	}
	if p.Deadlines[profile.Create] != 8*time.Hour || p.Deadlines[profile.Deactivate] != time.Hour {
		t.Errorf("deadlines %v", p.Deadlines)
	}
	if p.Assignee[profile.Create] != "it-ops@example.com" || p.Assignee[profile.Deactivate] != "Security Team" {
		t.Errorf("assignees %v", p.Assignee)
	}
	if !p.NeedsApproval(profile.Create, "Admin") || p.NeedsApproval(profile.SetRole, "Admin") {
		t.Errorf("approval %v", p.Approval)
	}
	if p.Verification != profile.VerifyByAdmin || p.GracePeriod != 48*time.Hour {
		t.Errorf("verification %q, grace %s", p.Verification, p.GracePeriod)
	}
	steps, err := p.Render(profile.Delete, profile.RunbookData{Email: "ann@example.com"})
	if err != nil || len(steps) != 1 || steps[0] != "Ask People.ai support to delete ann@example.com." {
		t.Errorf("delete steps %q, %v", steps, err)
	}
	// The built-in profile is shared: another load sees it unchanged.
	again, err := Parse("cfg.yaml", []byte("apps:\n  - name: pai\n    profile: peopleai\n"), profiles)
	if err != nil {
		t.Fatal(err)
	}
	if p := again.Apps[0].Profile; p.Verification != profile.VerifyByImport || len(p.Rules.Groups) != 0 {
		t.Errorf("built-in profile changed: %+v", p)
	}
}

func TestProfileOverrideErrors(t *testing.T) {
	const app = "apps:\n  - name: acme\n  - name: sales\n    profile: peopleai\n" // the override starts on line 5
	cases := []struct {
		name, yaml string
		want       string
	}{
		{"bad default_role", app + "    default_role: Boss\n",
			`cfg.yaml:5: app "sales": profile peopleai: default_role: the default role "Boss" is not one of the roles (Admin, User (Standard))`},
		{"roles without the default role", app + "    roles: [Owner, Member]\n",
			`cfg.yaml:5: app "sales": profile peopleai: roles: the default role "User (Standard)" is not one of the roles (Owner, Member)`},
		{"unknown kind in runbooks", app + "    runbooks:\n      create: ['Add {{.Email}}.']\n      creat:\n        - Add {{.Email}}.\n",
			`cfg.yaml:7: app "sales": profile peopleai: runbooks.creat: unknown action kind "creat" (known: create, set_role, deactivate, reactivate, delete, reassign, restore, change_email)`},
		{"bad step", app + "    runbooks:\n      create:\n        - Sign in.\n        - Add {{.Mail}}.\n",
			`cfg.yaml:8: app "sales": profile peopleai: runbooks.create[1]: template: step:1:6: executing "step" at <.Mail>: can't evaluate field Mail`},
		{"bad duration", app + "    deadlines:\n      create: 24h\n      deactivate: 2 days\n",
			`cfg.yaml:7: app "sales": profile peopleai: deadlines.deactivate: "2 days" is not a duration such as 24h, 90m or 30d`},
		{"bad grace_period", app + "    grace_period: one day\n",
			`cfg.yaml:5: app "sales": profile peopleai: grace_period: "one day" is not a duration`},
		{"group rule naming an unknown role", app + "    role_rules:\n      groups:\n        - group: Sales Ops Admins\n          role: Owner\n",
			`cfg.yaml:8: app "sales": profile peopleai: role_rules.groups[0].role: group "Sales Ops Admins": "Owner" is not one of the roles (Admin, User (Standard))`},
		{"domain rule naming an unknown role, flow style", app + "    role_rules:\n      domains: [{domain: example.com, role: Admin}, {domain: example.org, role: Boss}]\n",
			`cfg.yaml:6: app "sales": profile peopleai: role_rules.domains[1].role: domain "example.org": "Boss"`},
		{"bad domain", app + "    role_rules:\n      domains:\n        - {domain: 'https://example.com', role: Admin}\n",
			`cfg.yaml:7: app "sales": profile peopleai: role_rules.domains[0].domain: "https://example.com" is not a domain`},
		{"approval of an unknown kind", app + "    approval:\n      - kind: create\n        role: Admin\n      - kind: grant\n",
			`cfg.yaml:8: app "sales": profile peopleai: approval[1].kind: unknown action kind "grant"`},
		{"assignee of an unknown kind", app + "    assignees:\n      remove: ops\n",
			`cfg.yaml:6: app "sales": profile peopleai: assignees.remove: unknown action kind "remove"`},
		{"bad verification", app + "    verification: trust\n",
			`cfg.yaml:5: app "sales": profile peopleai: verification: "trust" is neither import nor admin`},
		{"override of the default profile", "apps:\n  - name: acme\n    default_role: Admin\n",
			`cfg.yaml:3: app "acme": profile manual: default_role: the default role "Admin" is not one of the roles (Member)`},
		{"unknown key in a rule", app + "    role_rules:\n      groups:\n        - {group: g, rol: Admin}\n",
			`cfg.yaml:7: unknown key "rol"`},
		{"unknown key under role_rules", app + "    role_rules:\n      emails: []\n", `cfg.yaml:6: unknown key "emails"`},
		{"unknown key in a role", app + "    roles:\n      - name: Admin\n        rank: 1\n", `cfg.yaml:7: unknown key "rank" in a role`},
		{"deadlines not a mapping", app + "    deadlines: 24h\n", `cfg.yaml:5: cannot unmarshal`},
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
