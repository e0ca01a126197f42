package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTasksServed runs the server in-process with a People.ai app, pushes
// users over SCIM, and works the tasks the engine queues with the tasks
// and accounts commands, as an admin would.
func TestTasksServed(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: peopleai
    profile: peopleai
    role_rules:
      domains:
        - {domain: admins.example.com, role: Admin}
`, addr))
	environ := map[string]string{"GOGC": "100", "SCIMBRIDGE_ACTOR": "ann"}
	code, stdout, stderr := runCLI(t, environ, "token", "create", "-config", cfg, "-app", "peopleai")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	token := strings.TrimSpace(stdout)

	srv := serveInProcess(t, cfg, addr, environ)
	base := srv.base
	for _, name := range []string{"jane@example.com", "boss@admins.example.com"} {
		req, _ := http.NewRequest("POST", base+"/apps/peopleai/scim/v2/Users", strings.NewReader(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("create %s: status %d", name, res.StatusCode)
		}
	}

	// The engine queues a task per user within a moment.
	var list []map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for len(list) < 2 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		_, stdout, _ := runCLI(t, environ, "tasks", "list", "-config", cfg, "-json")
		list = nil
		json.Unmarshal([]byte(stdout), &list)
	}
	if len(list) != 2 {
		t.Fatalf("tasks after two creates: %v\n%s", list, srv.logs.String())
	}
	byUser := map[string]map[string]any{}
	for _, tk := range list {
		for _, k := range []string{"id", "app", "kind", "status", "userName", "due"} {
			if _, ok := tk[k]; !ok {
				t.Errorf("task JSON lacks %q: %v", k, tk)
			}
		}
		byUser[tk["userName"].(string)] = tk
	}
	jane, boss := byUser["jane@example.com"], byUser["boss@admins.example.com"]
	if jane["kind"] != "create" || jane["status"] != "open" || jane["role"] != "User (Standard)" || jane["due"] == nil {
		t.Errorf("jane's task: %v", jane)
	}
	if boss["status"] != "awaiting_approval" || boss["role"] != "Admin" {
		t.Errorf("boss's task: %v", boss)
	}
	janeID := fmt.Sprint(jane["id"])
	bossID := fmt.Sprint(boss["id"])

	steps := []struct {
		args     []string
		code     int
		contains string
	}{
		{[]string{"tasks", "done", "-config", cfg, janeID}, 2, "-note is required"},
		{[]string{"tasks", "claim", "-config", cfg, janeID}, 0, "task " + janeID + " is claimed"},
		{[]string{"tasks", "unclaim", "-config", cfg, "-as", "someone.else", janeID}, 0, "task " + janeID + " is open"},
		{[]string{"tasks", "unclaim", "-config", cfg, janeID}, 1, "cannot become open"},
		{[]string{"tasks", "claim", "-config", cfg, janeID}, 0, "task " + janeID + " is claimed"},
		{[]string{"tasks", "done", "-config", cfg, "-note", "added in the console", "-evidence", "ticket 42", janeID}, 0, "is done"},
		{[]string{"tasks", "done", "-config", cfg, "-note", "again", janeID}, 1, "cannot become done"},
		{[]string{"tasks", "approve", "-config", cfg, "-as", "scimbridge", bossID}, 1, "cannot be approved or rejected by the person who made it"},
		{[]string{"tasks", "approve", "-config", cfg, bossID}, 0, "is open"},
		{[]string{"tasks", "show", "-config", cfg, janeID}, 0, "ticket 42"},
		{[]string{"tasks", "show", "-config", cfg, "nope"}, 2, "not a task id"},
		{[]string{"tasks", "list", "-config", cfg, "-status", "bogus"}, 2, "not a task status"},
		{[]string{"tasks", "list", "-config", cfg, "-status", "pending"}, 0, "boss@admins.example.com"},
		{[]string{"accounts", "list", "-config", cfg, "-app", "peopleai"}, 0, "active   active (User (Standard))"},
	}
	for _, st := range steps {
		code, stdout, stderr := runCLI(t, environ, st.args...)
		if code != st.code || !strings.Contains(stdout+stderr, st.contains) {
			t.Errorf("%s: exit %d, want %d with %q\nstdout: %s\nstderr: %s", strings.Join(st.args, " "), code, st.code, st.contains, stdout, stderr)
		}
	}
	_, stdout, _ = runCLI(t, environ, "tasks", "show", "-config", cfg, janeID)
	for _, want := range []string{"Steps:", "jane@example.com", "History:", "ann", "open -> claimed", "claimed -> done"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("tasks show lacks %q:\n%s", want, stdout)
		}
	}

	srv.stop()
}
