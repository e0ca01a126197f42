package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHangingAppNeverStallsSCIM: the API of an app takes calls and never
// answers. While scimbridge's calls to it hang, the IdP's SCIM writes and
// reads are answered at once, and the server still stops cleanly.
func TestHangingAppNeverStallsSCIM(t *testing.T) {
	release := make(chan struct{})
	calls := make(chan string, 64)
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case calls <- r.Method + " " + r.URL.Path:
		default:
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(api.Close)
	t.Cleanup(func() { close(release) }) // runs first: no handler outlives the test

	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: crm
    profile: manual
    rest:
      base_url: %s
      timeout: 60s
      actions:
        create:
          method: POST
          url: "{{.Base}}/users"
          body: '{"email": {{.Account.Email}}}'
        deactivate:
          method: POST
          url: "{{.Base}}/users/{{.Account.AppUserID}}/deactivate"
`, addr, api.URL))
	code, stdout, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-app", "crm")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	token := strings.TrimSpace(stdout)
	srv := serveInProcess(t, cfg, addr, nil)

	client := &http.Client{Timeout: 10 * time.Second}
	send := func(method, path, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, srv.base+"/apps/crm/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		start := time.Now()
		res, err := client.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer res.Body.Close()
		var out struct{ ID string }
		if res.StatusCode == http.StatusCreated {
			if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
				t.Fatalf("%s %s: %v", method, path, err)
			}
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("%s %s took %v while the app hangs", method, path, took)
		}
		if res.StatusCode != want {
			t.Fatalf("%s %s: status %d, want %d", method, path, res.StatusCode, want)
		}
		return out.ID
	}
	user := func(i int) string {
		return fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"user%02d@example.com",
			"emails":[{"value":"user%02d@example.com","primary":true}],"active":true}`, i, i)
	}

	ids := []string{send("POST", "/Users", user(0), http.StatusCreated)}
	select {
	case c := <-calls:
		t.Logf("the app took %s and hangs", c)
	case <-time.After(20 * time.Second):
		t.Fatalf("the app's API was never called\n%s", srv.logs.String())
	}
	for i := 1; i <= 10; i++ {
		ids = append(ids, send("POST", "/Users", user(i), http.StatusCreated))
		send("PATCH", "/Users/"+ids[i-1], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":false}]}`, http.StatusOK)
		send("GET", "/Users/"+ids[i], "", http.StatusOK)
	}
	srv.stop()
}
