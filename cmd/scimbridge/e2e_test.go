package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildBinary compiles this command into a temp dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "scimbridge")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestBinaryEndToEnd drives the real binary as an operator and an IdP
// would: create a token, start the server, provision a user through its
// life, rotate tokens while it runs, and stop it with SIGTERM.
func TestBinaryEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := filepath.Join(dir, "scimbridge.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf("listen: %s\ndatabase: data.db\nlog:\n  format: json\napps:\n  - name: acme\n    profile: manual\n", addr)), 0o600); err != nil {
		t.Fatal(err)
	}
	cli := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, args...).Output()
		if err != nil {
			var stderr []byte
			if ee, ok := err.(*exec.ExitError); ok {
				stderr = ee.Stderr
			}
			t.Fatalf("scimbridge %v: %v\n%s", args, err, stderr)
		}
		return strings.TrimSpace(string(out))
	}
	token := cli("token", "create", "-config", cfg, "-app", "acme")

	var logs lockedBuffer
	srv := exec.Command(bin, "serve", "-config", cfg)
	srv.Stderr = &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		srv.Process.Kill()
		<-exited
	})
	base := "http://" + addr
	waitHealthy(t, base, exited, &logs)

	client := &http.Client{Timeout: 10 * time.Second}
	call := func(tok, method, path, body string) (int, map[string]any) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+"/apps/acme/scim/v2"+path, rd)
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		raw, _ := io.ReadAll(res.Body)
		if len(raw) > 0 {
			if err := json.Unmarshal(raw, &m); err != nil {
				t.Fatalf("%s %s: body is not JSON: %s", method, path, raw)
			}
		}
		return res.StatusCode, m
	}
	expect := func(got, want int, what string, body map[string]any) {
		t.Helper()
		if got != want {
			t.Fatalf("%s: status %d, want %d: %v", what, got, want, body)
		}
	}

	status, u := call(token, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"jane.doe@example.com","name":{"givenName":"Jane","familyName":"Doe"},
		"emails":[{"value":"jane.doe@example.com","type":"work","primary":true}],"active":true}`)
	expect(status, 201, "create", u)
	id, _ := u["id"].(string)

	status, lr := call(token, "GET", "/Users?filter="+url.QueryEscape(`userName eq "JANE.DOE@example.com"`), "")
	expect(status, 200, "filter", lr)
	if lr["totalResults"] != float64(1) {
		t.Fatalf("filter found %v users", lr["totalResults"])
	}

	status, put := call(token, "PUT", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"jane.doe@example.com","name":{"givenName":"Jane","familyName":"Smith"},"active":false}`)
	expect(status, 200, "put", put)
	if put["active"] != false || put["name"].(map[string]any)["familyName"] != "Smith" {
		t.Fatalf("put result %v", put)
	}

	// A token created while the server runs works at once; a revoked one
	// stops within a second.
	second := cli("token", "create", "-config", cfg, "-app", "acme")
	status, _ = call(second, "GET", "/Users/"+id, "")
	expect(status, 200, "new token", nil)
	cli("token", "revoke", "-config", cfg, token[4:20])
	var body map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		status, body = call(token, "GET", "/Users/"+id, "")
		if status != 200 || time.Now().After(deadline) {
			break
		}
	}
	expect(status, 401, "revoked token", body)

	status, body = call(second, "DELETE", "/Users/"+id, "")
	expect(status, 204, "delete", body)
	status, body = call(second, "GET", "/Users/"+id, "")
	expect(status, 404, "get after delete", body)

	if list := cli("token", "list", "-config", cfg); !strings.Contains(list, second[4:20]) || !strings.Contains(list, "revoked") {
		t.Errorf("token list:\n%s", list)
	}

	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		exited <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve exited with %v\n%s", err, logs.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM\n%s", logs.String())
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("no clean stop in the log:\n%s", out)
	}
	for _, pii := range []string{"jane", "Jane", "Doe", "Smith", token[21:], second[21:]} {
		if strings.Contains(out, pii) {
			t.Errorf("%q is in the server log", pii)
		}
	}
}

func waitHealthy(t *testing.T, base string, exited chan error, logs *lockedBuffer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("serve exited early (%v):\n%s", err, logs.String())
		default:
		}
		res, err := http.Get(base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("serve not healthy after 15s:\n%s", logs.String())
}
