package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestOktaHookServed: Okta's event hook reaches serve at /hooks/okta, and
// an SSO login into the mapped app makes the waiting account exist; an
// admin confirms another user's login from the command line.
func TestOktaHookServed(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann.admin", "HOOK_SECRET": "hook-s3cret"}
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
okta_hook:
  secret_env: HOOK_SECRET
apps:
  - name: sixsense
    profile: sixsense
    okta_app: 6sense
    role_rules:
      groups:
        - {group: Sellers, role: Sales AE / SDR}
`, addr))
	_, stdout, _ := runCLI(t, environ, "token", "create", "-config", cfg, "-app", "sixsense")
	token := strings.TrimSpace(stdout)
	srv := serveInProcess(t, cfg, addr, environ)
	for _, n := range []string{"ada", "bea"} {
		req, _ := http.NewRequest("POST", srv.base+"/apps/sixsense/scim/v2/Users", strings.NewReader(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+n+`@example.com","active":true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	states := func() map[string]string {
		_, out, _ := runCLI(t, environ, "accounts", "list", "-config", cfg, "-app", "sixsense", "-json")
		var list []map[string]any
		json.Unmarshal([]byte(out), &list)
		m := map[string]string{}
		for _, a := range list {
			m[a["userName"].(string)] = a["state"].(string)
		}
		return m
	}
	waitUntil(t, srv, "accounts awaiting their login", func() bool {
		s := states()
		return s["ada@example.com"] == "awaiting_login" && s["bea@example.com"] == "awaiting_login"
	})

	hook := func(secret, body string) int {
		req, _ := http.NewRequest("POST", srv.base+"/hooks/okta", strings.NewReader(body))
		req.Header.Set("Authorization", secret)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	delivery := `{"eventType":"com.okta.event_hook","eventId":"d1","data":{"events":[{"uuid":"e1",
		"published":"2026-11-30T09:15:42.118Z","eventType":"user.authentication.sso","outcome":{"result":"SUCCESS"},
		"actor":{"id":"00u1","type":"User","alternateId":"ada@example.com","displayName":"Ada"},
		"target":[{"id":"0oa1","type":"AppInstance","alternateId":"6sense","displayName":"6sense"}]}]}}`
	if code := hook("wrong", delivery); code != http.StatusUnauthorized {
		t.Errorf("a wrong secret: %d", code)
	}
	if code := hook("hook-s3cret", delivery); code != http.StatusOK {
		t.Fatalf("delivery: %d\n%s", code, srv.logs.String())
	}
	if s := states()["ada@example.com"]; s != "active" {
		t.Errorf("ada after her Okta login: %s", s)
	}
	if code, out, stderr := runCLI(t, environ, "accounts", "login", "-config", cfg, "-app", "sixsense", "bea@example.com"); code != 0 || !strings.Contains(out, "bea@example.com: active") {
		t.Errorf("accounts login: %d %q %s", code, out, stderr)
	}
	if code, _, stderr := runCLI(t, environ, "accounts", "login", "-config", cfg, "-app", "sixsense", "nobody@example.com"); code == 0 || !strings.Contains(stderr, `sixsense has no account of "nobody@example.com"`) {
		t.Errorf("login of an unknown user: %d %s", code, stderr)
	}
	if strings.Contains(srv.logs.String(), "ada@example.com") {
		t.Errorf("a login name reached the logs")
	}
}
