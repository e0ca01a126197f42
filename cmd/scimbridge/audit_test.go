package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/notify"
)

// hookReceiver is a webhook endpoint that keeps what it gets.
type hookReceiver struct {
	mu  sync.Mutex
	got []hookRequest
}

type hookRequest struct {
	event, delivery, signature string
	body                       []byte
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.got = append(h.got, hookRequest{r.Header.Get(notify.EventHeader), r.Header.Get(notify.DeliveryHeader),
		r.Header.Get(notify.SignatureHeader), b})
}

// wait returns the requests once one of event has come.
func (h *hookReceiver) wait(t *testing.T, event string, logs *lockedBuffer) []hookRequest {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		h.mu.Lock()
		got := append([]hookRequest(nil), h.got...)
		h.mu.Unlock()
		for _, r := range got {
			if r.event == event {
				return got
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %s webhook within 15s\n%s", event, logs.String())
	return nil
}

// TestWebhooksAndAudit serves a People.ai app with a webhook, pushes a
// user, fails its task, and reads what the receiver got and what the
// audit trail says.
func TestWebhooksAndAudit(t *testing.T) {
	hooks := &hookReceiver{}
	receiver := httptest.NewServer(hooks)
	defer receiver.Close()
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: peopleai
    profile: peopleai
webhooks:
  - url: %s/hooks/scimbridge
    secret_env: WEBHOOK_SECRET
    apps: [peopleai]
`, addr, receiver.URL))
	secret := "test-webhook-secret"
	environ := map[string]string{"GOGC": "100", "SCIMBRIDGE_ACTOR": "ann", "WEBHOOK_SECRET": secret}
	code, stdout, stderr := runCLI(t, environ, "token", "create", "-config", cfg, "-app", "peopleai")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	token := strings.TrimSpace(stdout)

	srv := serveInProcess(t, cfg, addr, environ)
	base := srv.base
	req, _ := http.NewRequest("POST", base+"/apps/peopleai/scim/v2/Users", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jane@example.com","active":true}`))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("create: status %d", res.StatusCode)
	}

	got := hooks.wait(t, "task.opened", srv.logs)
	opened := got[0]
	if !notify.Verify([]byte(secret), opened.body, opened.signature) || opened.delivery == "" {
		t.Errorf("task.opened request: signature %q, delivery %q", opened.signature, opened.delivery)
	}
	var env struct {
		Event string
		App   string
		Task  struct {
			ID       int64
			Kind     string
			UserName string
			Role     string
		}
	}
	if err := json.Unmarshal(opened.body, &env); err != nil {
		t.Fatal(err)
	}
	if env.Event != "task.opened" || env.App != "peopleai" || env.Task.Kind != "create" || env.Task.UserName != "jane@example.com" {
		t.Errorf("task.opened body: %s", opened.body)
	}
	id := fmt.Sprint(env.Task.ID)
	if code, _, stderr := runCLI(t, environ, "tasks", "fail", "-config", cfg, "-note", "no licence left", id); code != 0 {
		t.Fatalf("tasks fail: exit %d: %s", code, stderr)
	}
	got = hooks.wait(t, "task.failed", srv.logs)
	for _, r := range got {
		if r.event == "task.failed" && !strings.Contains(string(r.body), `"note":"no licence left"`) {
			t.Errorf("task.failed body: %s", r.body)
		}
	}
	if strings.Contains(srv.logs.String(), secret) {
		t.Error("the webhook secret is in the server log")
	}
	srv.stop()

	code, stdout, stderr = runCLI(t, environ, "audit", "-config", cfg, "-user", "JANE@example.com")
	if code != 0 {
		t.Fatalf("audit: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		"TIME", "ACTOR", "REASON",
		"scimbridge  peopleai  jane@example.com  " + id + "     task create  - -> open",
		"ann         peopleai  jane@example.com  " + id + "     task create  open -> failed",
		"failed: no licence left",
		"account      - -> pending",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("audit lacks %q:\n%s", want, stdout)
		}
	}
	code, stdout, _ = runCLI(t, environ, "audit", "-config", cfg, "-app", "peopleai", "-json")
	var entries []map[string]any
	if err := json.Unmarshal([]byte(stdout), &entries); err != nil || code != 0 || len(entries) < 4 {
		t.Fatalf("audit -json: exit %d, %v, %d entries:\n%s", code, err, len(entries), stdout)
	}
	for _, k := range []string{"seq", "time", "actor", "app", "userId", "userName", "what", "from", "to", "reason"} {
		if _, ok := entries[0][k]; !ok {
			t.Errorf("audit JSON lacks %q: %v", k, entries[0])
		}
	}
	if code, stdout, _ := runCLI(t, environ, "audit", "-config", cfg, "-user", "nobody", "-json"); code != 0 || strings.TrimSpace(stdout) != "[]" {
		t.Errorf("audit of nobody: exit %d, %q", code, stdout)
	}
}

func TestAuditUsage(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "apps:\n  - name: acme\n")
	cases := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"audit", "-help"}, 0, "Usage: scimbridge audit"},
		{[]string{"help", "audit"}, 0, "append-only"},
		{[]string{"audit", "-config", cfg, "-app", "nope"}, 2, `no app "nope"`},
		{[]string{"audit", "-config", cfg, "extra"}, 2, `unexpected argument "extra"`},
		{[]string{"audit", "-config", cfg}, 0, "TIME"},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			code, stdout, stderr := runCLI(t, nil, c.args...)
			if code != c.code || !strings.Contains(stdout+stderr, c.contains) {
				t.Errorf("exit %d, want %d with %q\nstdout: %s\nstderr: %s", code, c.code, c.contains, stdout, stderr)
			}
		})
	}
}
