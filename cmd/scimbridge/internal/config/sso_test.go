package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const samlKeys = `saml:
  sp_key_file: k/sp.key
  sp_cert_file: k/sp.crt
  idp_key_file: k/idp.key
  idp_cert_file: k/idp.crt
  upstream_metadata_file: okta.xml
`

func TestSSOErrors(t *testing.T) {
	cases := []struct{ name, yaml, want string }{
		{"a missing key file", "saml:\n  sp_key_file: a\napps:\n  - name: acme\n", `cfg.yaml:2: saml.sp_cert_file is required`},
		{"public_url with a path", "public_url: https://x.example.com/scim\n" + samlKeys + "apps:\n  - name: acme\n",
			`cfg.yaml:1: public_url: SAML needs scimbridge at the root of its host, without the path "/scim"`},
		{"app saml without the top-level settings", "apps:\n  - name: six\n    profile: sixsense\n    saml:\n      sp_metadata_file: a.xml\n",
			`cfg.yaml:5: app "six": saml needs the top-level saml settings`},
		{"app saml without metadata", samlKeys + "apps:\n  - name: six\n    profile: sixsense\n    saml:\n      name_id: email\n",
			`app "six": saml.sp_metadata_file is required`},
		{"bad name_id", samlKeys + "apps:\n  - name: six\n    profile: sixsense\n    saml:\n      sp_metadata_file: a.xml\n      name_id: uid\n",
			`cfg.yaml:12: app "six": saml.name_id: "uid" is neither email nor userName`},
		{"simulated logins without saml", "apps:\n  - name: six\n    profile: sixsense\n    simulate_login: true\n",
			`cfg.yaml:4: app "six": simulate_login needs the app's saml settings`},
		{"simulated logins of a manual app", "apps:\n  - name: acme\n    simulate_login: true\n",
			`simulate_login: only a just-in-time app`},
		{"hook with two secrets", "okta_hook:\n  secret_env: A\n  secret_file: b\napps:\n  - name: six\n    okta_app: 0oa1\n",
			`cfg.yaml:2: okta_hook: give exactly one of secret_file or secret_env`},
		{"hook without a secret", "okta_hook: {}\napps:\n  - name: six\n    okta_app: 0oa1\n", `okta_hook: give exactly one`},
		{"hook without apps", "okta_hook:\n  secret_env: A\napps:\n  - name: six\n", `cfg.yaml:2: okta_hook: no app has okta_app`},
		{"okta_app without the hook", "apps:\n  - name: six\n    okta_app: 0oa1\n", `cfg.yaml:3: app "six": okta_app needs the top-level okta_hook`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestSSOSettings(t *testing.T) {
	dir := t.TempDir()
	yaml := "public_url: https://sso.example.com/\n" + samlKeys + `okta_hook:
  secret_file: hook.secret
apps:
  - name: six
    profile: sixsense
    simulate_login: true
    okta_app: 0oa1b2c3
    seats:
      - {module: SI, limit: 3}
    saml:
      sp_metadata_file: /etc/six.xml
      name_id: userName
      role_attribute: role
`
	path := filepath.Join(dir, "scimbridge.yaml")
	c, err := Parse(path, []byte(yaml), profiles)
	if err != nil {
		t.Fatal(err)
	}
	a := c.Apps[0]
	if a.SAML.NameID != "userName" || a.SAML.RoleAttribute != "role" || a.OktaApp != "0oa1b2c3" || !a.Profile.SimulateLogin {
		t.Errorf("app: %+v %+v", a, a.SAML)
	}
	if got := c.File(c.SAML.SPKeyFile); got != filepath.Join(dir, "k/sp.key") {
		t.Errorf("relative file: %s", got)
	}
	if got := c.File(a.SAML.SPMetadataFile); got != "/etc/six.xml" {
		t.Errorf("absolute file: %s", got)
	}
	// The hook's secret is read when the server starts.
	if _, err := c.ReadOktaHookSecret(nil); err == nil || !strings.Contains(err.Error(), "hook.secret") {
		t.Errorf("a missing secret file: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte("  s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, err := c.ReadOktaHookSecret(nil); err != nil || s != "s3cret" {
		t.Errorf("secret %q, %v", s, err)
	}
	c.OktaHook = &OktaHook{SecretEnv: "HOOK"}
	if _, err := c.ReadOktaHookSecret(func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "HOOK is not set") {
		t.Errorf("an empty variable: %v", err)
	}
}

func TestRESTSettings(t *testing.T) {
	good := `apps:
  - name: grc
    profile: sixclicks
    rest:
      base_url: https://api.example.com
      rate_per_minute: 100
      timeout: 10s
      secrets:
        token: {env: GRC_TOKEN}
      actions:
        deactivate:
          method: POST
          url: "{{.Base}}/users/{{.Account.AppUserID}}/deactivate"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
`
	c, err := Parse("cfg.yaml", []byte(good), profiles)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Apps[0].REST
	if r.RatePerMinute != 100 || r.TimeoutValue.Seconds() != 10 || r.Actions["deactivate"].Method != "POST" {
		t.Errorf("rest: %+v", r)
	}
	if s, err := c.ReadRESTSecrets(c.Apps[0], func(k string) string { return map[string]string{"GRC_TOKEN": "t0k"}[k] }); err != nil || s["token"] != "t0k" {
		t.Errorf("secrets: %v, %v", s, err)
	}
	if _, err := c.ReadRESTSecrets(c.Apps[0], func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "GRC_TOKEN is not set") {
		t.Errorf("a missing secret: %v", err)
	}
	for _, bad := range []struct{ from, to, want string }{
		{"https://api.example.com", "ftp://x", `rest.base_url: "ftp://x" is not an http(s) URL`},
		{"rate_per_minute: 100", "rate_per_minute: -1", "rest.rate_per_minute must not be negative"},
		{"timeout: 10s", "timeout: soon", `rest.timeout: "soon" is not a positive duration`},
		{"deactivate:", "deactivat:", `rest.actions: unknown action kind "deactivat"`},
		{"{env: GRC_TOKEN}", "{env: A, file: b}", "rest.secrets.token: give exactly one of env or file"},
	} {
		_, err := Parse("cfg.yaml", []byte(strings.Replace(good, bad.from, bad.to, 1)), profiles)
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s → %s: %v, want %q", bad.from, bad.to, err, bad.want)
		}
	}
}

func TestConsoleSettings(t *testing.T) {
	ok := samlKeys + "console:\n  admin_group: it-admins\n  approver_group: it-leads\napps:\n  - name: acme\n"
	c, err := Parse("cfg.yaml", []byte(ok), profiles)
	if err != nil || c.Console.AdminGroup != "it-admins" || c.Console.ApproverGroup != "it-leads" {
		t.Fatalf("console: %+v, %v", c, err)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"console:\n  admin_group: x\napps:\n  - name: acme\n", "console: the groups apply to sign-in through the company IdP"},
		{samlKeys + "console:\n  approver_group: x\napps:\n  - name: acme\n", "console.admin_group is required"},
	} {
		if _, err := Parse("cfg.yaml", []byte(bad.yaml), profiles); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: %v, want %q", bad.yaml, err, bad.want)
		}
	}
}
