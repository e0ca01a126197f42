package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestDisableRulesServed runs the server in-process with one app that
// switches a normalisation rule off and one that keeps them all, and
// reads the outbox with "events tail" while it runs.
func TestDisableRulesServed(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: strict
    disable_rules: [missing-user-agent]
  - name: lenient
`, addr))
	// GOGC keeps serve from retuning the garbage collector of the test
	// process.
	environ := map[string]string{"GOGC": "100"}
	tokens := map[string]string{}
	for _, app := range []string{"strict", "lenient"} {
		code, stdout, stderr := runCLI(t, environ, "token", "create", "-config", cfg, "-app", app)
		if code != 0 {
			t.Fatalf("token create %s: exit %d: %s", app, code, stderr)
		}
		tokens[app] = strings.TrimSpace(stdout)
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var logs lockedBuffer
	exited := make(chan error, 1)
	go func() {
		e := &env{stdout: io.Discard, stderr: &logs, getenv: func(k string) string { return environ[k] }}
		if code := run(ctx, e, []string{"serve", "-config", cfg}); code != 0 {
			exited <- fmt.Errorf("exit %d", code)
			return
		}
		exited <- nil
	}()
	base := "http://" + addr
	waitHealthy(t, base, exited, &logs)

	client := &http.Client{Timeout: 10 * time.Second}
	call := func(app, method, path, body, userAgent string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+"/apps/"+app+"/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+tokens[app])
		req.Header.Set("Content-Type", "application/scim+json")
		// An empty value makes the client send no User-Agent at all.
		req.Header.Set("User-Agent", userAgent)
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		if err := json.NewDecoder(res.Body).Decode(&m); err != nil && err != io.EOF {
			t.Fatalf("%s %s: body is not JSON: %v", method, path, err)
		}
		return res.StatusCode, m
	}

	cases := []struct {
		app, userAgent string
		want           int
	}{
		{"strict", "", http.StatusBadRequest},
		{"strict", "Okta SCIM Client 1.0.0", http.StatusOK},
		{"lenient", "", http.StatusOK},
		{"lenient", "Okta SCIM Client 1.0.0", http.StatusOK},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s user-agent=%q", c.app, c.userAgent), func(t *testing.T) {
			status, body := call(c.app, "GET", "/Users", "", c.userAgent)
			if status != c.want {
				t.Fatalf("status %d, want %d: %v", status, c.want, body)
			}
			if detail, _ := body["detail"].(string); c.want == http.StatusBadRequest && !strings.Contains(detail, "User-Agent") {
				t.Errorf("the refusal does not say why: %v", body)
			}
		})
	}

	status, u := call("lenient", "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane.doe@example.com"}`, "")
	if status != http.StatusCreated {
		t.Fatalf("create: status %d: %v", status, u)
	}
	id, _ := u["id"].(string)
	code, stdout, stderr := runCLI(t, environ, "events", "tail", "-config", cfg, "-app", "lenient")
	want := regexp.MustCompile(`^1 +\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  user\.created +User/` + regexp.QuoteMeta(id) + "\n$")
	if code != 0 || !want.MatchString(stdout) {
		t.Errorf("events tail while serving: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stdout, "jane") {
		t.Error("events tail shows an attribute value")
	}

	cancel()
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("serve: %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), `"disabled_rules":["missing-user-agent"]`) {
		t.Errorf("the log does not say which rules are off:\n%s", logs.String())
	}
}
