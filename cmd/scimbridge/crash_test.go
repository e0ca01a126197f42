package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// TestDispatchSurvivesSIGKILL pushes a burst of users while killing the
// real server with SIGKILL again and again, so that kills land in the
// middle of SCIM writes and of the engine's dispatching. Afterwards every
// acknowledged user is present and every user has exactly one task: none
// lost, none twice.
func TestDispatchSurvivesSIGKILL(t *testing.T) {
	const (
		users = 2000
		kills = 8
	)
	k := newKillable(t)
	token, base := k.token, k.base

	// The burst: 8 clients; a create that gets no answer is sent again
	// until it gets 201 or 409 (it committed before the kill).
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked = map[string]bool{}
		odd   []string
	)
	pushed := make(chan struct{})
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < users; i += 8 {
				name := fmt.Sprintf("user%04d@example.com", i)
				for attempt := 0; ; attempt++ {
					if attempt == 600 {
						mu.Lock()
						odd = append(odd, name+": no answer")
						mu.Unlock()
						break
					}
					req, _ := http.NewRequest("POST", base+"/apps/acme/scim/v2/Users", strings.NewReader(
						`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`))
					req.Header.Set("Authorization", "Bearer "+token)
					req.Header.Set("Content-Type", "application/scim+json")
					res, err := client.Do(req)
					if err != nil {
						time.Sleep(20 * time.Millisecond)
						continue
					}
					res.Body.Close()
					mu.Lock()
					switch res.StatusCode {
					case http.StatusCreated:
						acked[name] = true
					case http.StatusConflict:
					default:
						odd = append(odd, name+": "+res.Status)
					}
					mu.Unlock()
					break
				}
			}
		})
	}
	go func() { wg.Wait(); close(pushed) }()

	db := k.db
	for n := range kills {
		time.Sleep(time.Duration(30+rand.IntN(200)) * time.Millisecond)
		k.kill()
		t.Logf("kill %d: %d tasks queued", n+1, countTasks(t, db))
		k.start()
	}
	select {
	case <-pushed:
	case <-time.After(120 * time.Second):
		t.Fatal("the burst did not finish")
	}
	if len(odd) > 0 {
		t.Fatalf("unexpected answers: %v", odd[:min(len(odd), 5)])
	}

	// Let the last run finish the outbox, then stop it cleanly.
	deadline := time.Now().Add(60 * time.Second)
	for countTasks(t, db) < users && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	k.stop()

	code, stdout, stderr := runCLI(t, nil, "tasks", "list", "-config", k.cfg, "-json")
	if code != 0 {
		t.Fatalf("tasks list: exit %d: %s", code, stderr)
	}
	var tasks []struct {
		UserName, Kind, Status string
	}
	if err := json.Unmarshal([]byte(stdout), &tasks); err != nil {
		t.Fatal(err)
	}
	perUser := map[string]int{}
	for _, tk := range tasks {
		if tk.Kind != "create" || tk.Status != "open" {
			t.Errorf("unexpected task %+v", tk)
		}
		perUser[tk.UserName]++
	}
	for name := range acked {
		if perUser[name] == 0 {
			t.Errorf("acknowledged %s has no task", name)
		}
	}
	for name, n := range perUser {
		if n != 1 {
			t.Errorf("%s has %d create tasks, want 1", name, n)
		}
	}

	conn, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var present int
	conn.QueryRow("SELECT count(*) FROM scim_users").Scan(&present)
	if present != users || len(perUser) != users {
		t.Errorf("%d users stored and %d with a task, want %d (%d acknowledged)", present, len(perUser), users, len(acked))
	}
	var check string
	if err := conn.QueryRowContext(context.Background(), "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Errorf("integrity_check: %q, %v", check, err)
	}
	var cursor, last int64
	conn.QueryRow("SELECT seq FROM scim_event_cursors WHERE consumer = 'engine'").Scan(&cursor)
	conn.QueryRow("SELECT max(seq) FROM scim_events").Scan(&last)
	if cursor != last {
		t.Errorf("engine cursor at %d, last event %d", cursor, last)
	}
}

// killable is the real binary serving app acme, whose changes are all
// tasks, in a temporary directory, for tests that kill it.
type killable struct {
	t                         *testing.T
	bin, cfg, db, base, token string
	logs                      lockedBuffer
	srv                       *exec.Cmd
	exited                    chan error
}

// newKillable writes the config, creates a SCIM token and starts serve.
func newKillable(t *testing.T) *killable {
	t.Helper()
	dir := t.TempDir()
	addr := freeAddr(t)
	k := &killable{t: t, bin: buildBinary(t), cfg: filepath.Join(dir, "scimbridge.yaml"), db: filepath.Join(dir, "data.db"), base: "http://" + addr}
	config := fmt.Sprintf("listen: %s\ndatabase: data.db\nlog:\n  format: json\napps:\n  - name: acme\n    profile: manual\n", addr)
	if err := os.WriteFile(k.cfg, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(k.bin, "token", "create", "-config", k.cfg, "-app", "acme").Output()
	if err != nil {
		t.Fatal(err)
	}
	k.token = strings.TrimSpace(string(out))
	k.start()
	t.Cleanup(func() { k.srv.Process.Kill() })
	return k
}

// start starts serve and waits until it is healthy.
func (k *killable) start() {
	k.t.Helper()
	k.srv = exec.Command(k.bin, "serve", "-config", k.cfg)
	k.srv.Stderr = &k.logs
	if err := k.srv.Start(); err != nil {
		k.t.Fatal(err)
	}
	exited, srv := make(chan error, 1), k.srv
	go func() { exited <- srv.Wait() }()
	k.exited = exited
	waitHealthy(k.t, k.base, exited, &k.logs)
}

// kill sends SIGKILL and waits for the process to end.
func (k *killable) kill() {
	k.srv.Process.Kill()
	<-k.exited
}

// stop asks serve to stop, as systemd does, and waits for it.
func (k *killable) stop() {
	k.t.Helper()
	k.srv.Process.Signal(os.Interrupt)
	select {
	case <-k.exited:
	case <-time.After(20 * time.Second):
		k.t.Fatal("serve did not stop")
	}
}

// countTasks counts the tasks in the database file, read-only, while the
// server may run.
func countTasks(t *testing.T, path string) int {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int
	if err := conn.QueryRow("SELECT count(*) FROM adapter_tasks").Scan(&n); err != nil {
		return 0 // not created yet
	}
	return n
}
