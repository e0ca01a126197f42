package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// runCLI runs the command line in-process.
func runCLI(t *testing.T, environ map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runCLIStdin(t, environ, nil, args...)
}

// runCLIStdin is runCLI with a standard input.
func runCLIStdin(t *testing.T, environ map[string]string, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdin: stdin, stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] }}
	code = run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "scimbridge.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, args := range [][]string{
		{"help"}, {"-h"}, {"--help"},
		{"serve", "-help"}, {"serve", "--help"}, {"help", "serve"},
		{"token", "-help"}, {"token", "create", "-help"}, {"token", "list", "--help"}, {"token", "revoke", "-h"},
		{"version", "-help"},
		{"tasks", "-help"}, {"tasks", "list", "-help"}, {"tasks", "show", "-h"}, {"tasks", "done", "-help"},
		{"tasks", "approve", "-help"}, {"accounts", "-help"}, {"accounts", "list", "-help"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, args...)
			if code != 0 || !strings.Contains(stdout, "Usage") || stderr != "" {
				t.Errorf("exit %d, stdout %q, stderr %q", code, stdout, stderr)
			}
			if n := strings.Count(stdout, "Usage"); n != 1 {
				t.Errorf("usage printed %d times:\n%s", n, stdout)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "apps:\n  - name: acme\n")
	cases := []struct {
		args []string
		want string
	}{
		{nil, "Usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"serve", "-config", cfg, "extra"}, `unexpected argument "extra"`},
		{[]string{"serve", "-port", "1"}, "flag provided but not defined: -port"},
		{[]string{"token"}, "which token command"},
		{[]string{"token", "mint"}, `unknown token command "mint"`},
		{[]string{"token", "create", "-config", cfg}, "-app is required"},
		{[]string{"token", "revoke", "-config", cfg}, "exactly one token id"},
		{[]string{"version", "now"}, `unexpected argument "now"`},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, c.args...)
			if code != 2 || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, c.want)
			}
		})
	}
}

var tokenShape = regexp.MustCompile(`^sbt_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$`)

func TestTokenCommands(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "database: sb.db\napps:\n  - name: acme\n  - name: beta\n")

	code, stdout, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-app", "acme", "-description", "Okta prod")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, stderr)
	}
	tok := strings.TrimSuffix(stdout, "\n")
	if !tokenShape.MatchString(tok) || strings.Count(stdout, "\n") != 1 {
		t.Fatalf("create printed %q, want the token alone on one line", stdout)
	}
	id := tok[4:20]
	if !strings.Contains(stderr, id) {
		t.Errorf("stderr %q does not name the token id", stderr)
	}
	if code, _, _ := runCLI(t, nil, "token", "create", "-config", cfg, "-app", "beta"); code != 0 {
		t.Fatal("create for beta failed")
	}

	code, stdout, _ = runCLI(t, nil, "token", "list", "-config", cfg)
	if code != 0 || !strings.Contains(stdout, id) || !strings.Contains(stdout, "Okta prod") || !strings.Contains(stdout, "active") {
		t.Errorf("list: exit %d\n%s", code, stdout)
	}
	if strings.Contains(stdout, tok[21:]) {
		t.Error("list shows the secret")
	}

	code, stdout, _ = runCLI(t, nil, "token", "list", "-config", cfg, "-app", "acme", "-json")
	var rows []map[string]any
	if err := json.Unmarshal([]byte(stdout), &rows); code != 0 || err != nil {
		t.Fatalf("list -json: exit %d, %v: %s", code, err, stdout)
	}
	if len(rows) != 1 || rows[0]["id"] != id || rows[0]["app"] != "acme" || rows[0]["revoked"] != nil {
		t.Errorf("list -json -app acme = %v", rows)
	}

	// Flags may come after the id.
	if code, stdout, stderr := runCLI(t, nil, "token", "revoke", id, "-config", cfg); code != 0 || !strings.Contains(stdout, "revoked token "+id) {
		t.Fatalf("revoke: exit %d %q %q", code, stdout, stderr)
	}
	_, stdout, _ = runCLI(t, nil, "token", "list", "-config", cfg, "-app", "acme")
	if !strings.Contains(stdout, "revoked") {
		t.Errorf("list after revoke:\n%s", stdout)
	}
	if code, _, stderr := runCLI(t, nil, "token", "revoke", "-config", cfg, "0000000000000000"); code != 1 || !strings.Contains(stderr, "no token with id") {
		t.Errorf("revoke unknown: exit %d %q", code, stderr)
	}
	if code, _, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-app", "gamma"); code != 2 || !strings.Contains(stderr, `no app "gamma"`) || !strings.Contains(stderr, "acme, beta") {
		t.Errorf("create for unknown app: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "sb.db")); err != nil {
		t.Errorf("database not beside the config: %v", err)
	}

	// Admin tokens: for the admin API, acting as their name.
	code, stdout, stderr = runCLI(t, nil, "token", "create", "-config", cfg, "-admin", "-name", "alice@example.com", "-description", "laptop")
	if code != 0 {
		t.Fatalf("create -admin: exit %d: %s", code, stderr)
	}
	admin := strings.TrimSuffix(stdout, "\n")
	if !tokenShape.MatchString(admin) || !strings.Contains(stderr, admin[4:20]) || !strings.Contains(stderr, "alice@example.com") {
		t.Fatalf("create -admin printed %q, %q", stdout, stderr)
	}
	adminID := admin[4:20]
	_, stdout, _ = runCLI(t, nil, "token", "list", "-config", cfg)
	if !regexp.MustCompile(adminID+`\s+admin\s+-\s+alice@example\.com\s`).MatchString(stdout) ||
		!regexp.MustCompile(id+`\s+scim\s+acme\s+-\s`).MatchString(stdout) || !strings.Contains(stdout, "KIND") {
		t.Errorf("list does not show the kinds:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, nil, "token", "list", "-config", cfg, "-admin", "-json")
	rows = nil
	if err := json.Unmarshal([]byte(stdout), &rows); code != 0 || err != nil {
		t.Fatalf("list -admin -json: exit %d, %v: %s", code, err, stdout)
	}
	if len(rows) != 1 || rows[0]["id"] != adminID || rows[0]["kind"] != "admin" || rows[0]["name"] != "alice@example.com" || rows[0]["app"] != nil {
		t.Errorf("list -admin -json = %v", rows)
	}
	if code, stdout, stderr := runCLI(t, nil, "token", "revoke", "-config", cfg, adminID); code != 0 || !strings.Contains(stdout, "revoked token "+adminID) {
		t.Fatalf("revoke admin: exit %d %q %q", code, stdout, stderr)
	}
	if _, stdout, _ := runCLI(t, nil, "token", "list", "-config", cfg, "-admin"); !strings.Contains(stdout, "revoked") {
		t.Errorf("list -admin after revoke:\n%s", stdout)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"create", "-admin", "-app", "acme", "-name", "bob"}, "-admin and -app exclude each other"},
		{[]string{"create", "-admin"}, "-admin needs -name"},
		{[]string{"create", "-app", "acme", "-name", "bob"}, "add -admin"},
		{[]string{"create", "-admin", "-name", " bob"}, "spaces"},
		{[]string{"create", "-admin", "-name", "scimbridge"}, "what scimbridge itself acts as"},
		{[]string{"list", "-admin", "-app", "acme"}, "exclude each other"},
	} {
		args := append([]string{"token"}, c.args...)
		if code, _, stderr := runCLI(t, nil, append(args, "-config", cfg)...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q, want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}

func TestConfigFallbacks(t *testing.T) {
	envDir, cwdDir := t.TempDir(), t.TempDir()
	envCfg := writeConfig(t, envDir, "apps:\n  - name: fromenv\n")
	writeConfig(t, cwdDir, "apps:\n  - name: fromcwd\n")
	t.Chdir(cwdDir)

	code, _, stderr := runCLI(t, map[string]string{"SCIMBRIDGE_CONFIG": envCfg}, "token", "create", "-app", "fromenv")
	if code != 0 {
		t.Errorf("SCIMBRIDGE_CONFIG not used: %s", stderr)
	}
	code, _, stderr = runCLI(t, nil, "token", "create", "-app", "fromcwd")
	if code != 0 {
		t.Errorf("./scimbridge.yaml not used: %s", stderr)
	}
	// -config wins over the environment.
	code, _, stderr = runCLI(t, map[string]string{"SCIMBRIDGE_CONFIG": envCfg}, "token", "create", "-config", "scimbridge.yaml", "-app", "fromcwd")
	if code != 0 {
		t.Errorf("-config did not win: %s", stderr)
	}
}

func TestVersion(t *testing.T) {
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, stdout, _ := runCLI(t, nil, args...)
		if code != 0 || !strings.HasPrefix(stdout, "scimbridge ") || !strings.Contains(stdout, "go1.") {
			t.Errorf("%v: exit %d %q", args, code, stdout)
		}
	}
}

// served is "scimbridge serve" running in-process on a test's config.
type served struct {
	base string
	logs *lockedBuffer
	stop func() // cancels the server and fails the test unless it exits cleanly
}

// serveInProcess runs serve with cfg, listening on addr, until stop or the
// end of the test, and waits until it is healthy.
func serveInProcess(t *testing.T, cfg, addr string, environ map[string]string) served {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	logs := &lockedBuffer{}
	exited := make(chan error, 1)
	go func() {
		e := &env{stdout: io.Discard, stderr: logs, getenv: func(k string) string { return environ[k] }}
		if code := run(ctx, e, []string{"serve", "-config", cfg}); code != 0 {
			exited <- fmt.Errorf("exit %d", code)
			return
		}
		exited <- nil
	}()
	t.Cleanup(cancel)
	s := served{base: "http://" + addr, logs: logs}
	waitHealthy(t, s.base, exited, logs)
	s.stop = func() {
		t.Helper()
		cancel()
		select {
		case err := <-exited:
			if err != nil {
				t.Fatalf("serve: %v\n%s", err, logs.String())
			}
		case <-time.After(15 * time.Second):
			t.Fatalf("serve did not stop\n%s", logs.String())
		}
	}
	return s
}
