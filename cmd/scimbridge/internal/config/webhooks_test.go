package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const twoApps = "apps:\n  - name: peopleai\n    profile: peopleai\n  - name: acme\n"

func TestWebhooks(t *testing.T) {
	yaml := twoApps + `webhooks:
  - url: https://hooks.example.com/scimbridge
    secret_file: webhook.secret
    events: [task.opened, task.overdue]
    apps: [peopleai]
  - url: https://hooks.slack.com/services/T0/B0/X
    secret_env: SLACK_HOOK_SECRET
    format: slack
`
	c, err := Parse("/etc/scimbridge/scimbridge.yaml", []byte(yaml), profiles)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Webhooks) != 2 {
		t.Fatalf("%d webhooks", len(c.Webhooks))
	}
	a, b := c.Webhooks[0], c.Webhooks[1]
	if a.Format != "json" || !slices.Equal(a.Events, []string{"task.opened", "task.overdue"}) || !slices.Equal(a.Apps, []string{"peopleai"}) || a.Line != 6 {
		t.Errorf("first webhook %+v", a)
	}
	if b.Format != "slack" || len(b.Events) != 0 || len(b.Apps) != 0 || b.SecretEnv != "SLACK_HOOK_SECRET" {
		t.Errorf("second webhook %+v", b)
	}
	if c, err := Parse("cfg.yaml", []byte(twoApps), profiles); err != nil || len(c.Webhooks) != 0 {
		t.Errorf("no webhooks: %v, %v", c, err)
	}
}

func TestWebhookErrors(t *testing.T) {
	hook := func(lines ...string) string {
		return twoApps + "webhooks:\n  - " + strings.Join(lines, "\n    ") + "\n"
	}
	// The webhook list starts on line 6; its first key is on line 6.
	cases := []struct {
		name, yaml, want string
	}{
		{"secret in the file", hook("url: https://h.example.com/x", "secret: hunter2"),
			`cfg.yaml:7: webhook 1: secret: do not put the secret in the configuration`},
		{"no secret", hook("url: https://h.example.com/x"), `cfg.yaml:6: webhook 1: give its signing secret with secret_file or secret_env`},
		{"two secrets", hook("url: https://h.example.com/x", "secret_file: s", "secret_env: S"),
			`cfg.yaml:8: webhook 1: give secret_file or secret_env, not both`},
		{"not http", hook("url: ftp://h.example.com/x", "secret_env: S"), `cfg.yaml:6: webhook 1: url: not an http(s) URL`},
		{"no url", hook("secret_env: S"), `cfg.yaml:6: webhook 1: url: not an http(s) URL`},
		{"fragment", hook("url: https://h.example.com/x#y", "secret_env: S"), `cfg.yaml:6: webhook 1: url: must not have a fragment`},
		{"unknown event", hook("url: https://h.example.com/x", "secret_env: S", "events:", "  - task.opened", "  - task.exploded"),
			`cfg.yaml:10: webhook 1: events: unknown event "task.exploded" (known: task.opened, task.overdue, task.failed, drift.found, seats.over, items.reassigned)`},
		{"unknown app", hook("url: https://h.example.com/x", "secret_env: S", "apps: [acme, nope]"),
			`cfg.yaml:8: webhook 1: apps: no app "nope" is configured (apps: peopleai, acme)`},
		{"unknown format", hook("url: https://h.example.com/x", "secret_env: S", "format: teams"),
			`cfg.yaml:8: webhook 1: format: "teams" is not one of json, slack`},
		{"unknown key", hook("url: https://h.example.com/x", "secret_env: S", "event: [task.opened]"), `cfg.yaml:8: unknown key "event"`},
		{"twice", twoApps + "webhooks:\n  - url: https://h.example.com/x\n    secret_env: S\n  - url: https://h.example.com/x\n    secret_env: T\n",
			`cfg.yaml:8: webhook 2: the same url and format as the webhook on line 6`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v\nwant it to contain %q", err, c.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error repeats the secret: %v", err)
			}
		})
	}
}

func TestReadWebhookSecrets(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.secret"), []byte("file-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty.secret"), []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOK_SECRET": "env-secret"}
	getenv := func(k string) string { return env[k] }
	cases := []struct {
		name, hooks string
		want        []string // the secrets, or
		err         string   // the error
	}{
		{"file and env", "  - url: https://a.example.com/\n    secret_file: hook.secret\n  - url: https://b.example.com/\n    secret_env: HOOK_SECRET\n",
			[]string{"file-secret", "env-secret"}, ""},
		{"missing file", "  - url: https://a.example.com/\n    secret_file: nope.secret\n", nil, "cfg.yaml:7: webhook 1: secret_file: open "},
		{"empty file", "  - url: https://a.example.com/\n    secret_file: empty.secret\n", nil, "cfg.yaml:7: webhook 1: secret_file " + filepath.Join(dir, "empty.secret") + " is empty"},
		{"unset env", "  - url: https://a.example.com/\n    secret_env: UNSET\n", nil, "cfg.yaml:7: webhook 1: the environment variable UNSET is not set or empty"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := Parse(filepath.Join(dir, "cfg.yaml"), []byte(twoApps+"webhooks:\n"+c.hooks), profiles)
			if err != nil {
				t.Fatal(err)
			}
			got, err := cfg.ReadWebhookSecrets(getenv)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var s []string
			for _, b := range got {
				s = append(s, string(b))
			}
			if !slices.Equal(s, c.want) {
				t.Errorf("secrets %q, want %q", s, c.want)
			}
		})
	}
}
