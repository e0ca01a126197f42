package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
)

// pushUsers creates users in app over the real SCIM handler on the
// config's database and lets the engine plan them, as serve would.
func pushUsers(t *testing.T, cfg, app string, names ...string) {
	t.Helper()
	ctx := context.Background()
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
	_, db, eng, err := openEngine(ctx, e, cfg, app)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	s, err := scim.NewServer(scim.Config{Store: db, Apps: []string{app}, BaseURL: "https://scim.example.test",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	token, _, err := scim.IssueToken(ctx, db, app, "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range names {
		req, _ := http.NewRequest("POST", srv.URL+"/apps/"+app+"/scim/v2/Users", strings.NewReader(
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
	for {
		n, err := eng.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// taskStatuses returns "user kind status" per task of the config's apps.
func taskStatuses(t *testing.T, environ map[string]string, cfg string) []string {
	t.Helper()
	code, stdout, stderr := runCLI(t, environ, "tasks", "list", "-config", cfg, "-json")
	if code != 0 {
		t.Fatalf("tasks list: exit %d: %s", code, stderr)
	}
	var list []struct {
		ID       int64  `json:"id"`
		UserName string `json:"userName"`
		Kind     string `json:"kind"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, tk := range list {
		out = append(out, fmt.Sprintf("%d %s %s %s", tk.ID, tk.UserName, tk.Kind, tk.Status))
	}
	return out
}

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestImportCommand imports People.ai user exports with the CLI: a dry run
// changes nothing, -apply verifies, drift is listed, and mistakes are
// reported with the right exit code.
func TestImportCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `database: data.db
apps:
  - name: peopleai
    profile: peopleai
    import:
      email: Email Address
      status: Account Status
`)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann"}
	pushUsers(t, cfg, "peopleai", "jane@example.com", "joe@example.com")
	for _, tk := range taskStatuses(t, environ, cfg) {
		id := strings.Fields(tk)[0]
		if code, _, stderr := runCLI(t, environ, "tasks", "done", "-config", cfg, "-note", "added in the console", id); code != 0 {
			t.Fatalf("tasks done %s: exit %d: %s", id, code, stderr)
		}
	}
	done := []string{"1 jane@example.com create done", "2 joe@example.com create done"}
	if got := taskStatuses(t, environ, cfg); !slices.Equal(got, done) {
		t.Fatalf("tasks %q", got)
	}
	export := writeFile(t, dir, "users.csv", "\ufeffName,Email Address,Account Status,Role\r\n"+
		"Jane,jane@example.com,Active,User (Standard)\r\n"+
		"Joe,JOE@example.com,enabled,User (Standard)\r\n"+
		"Mal,mal@example.com,active,Admin\r\n")

	// A dry run shows the diff and changes nothing.
	code, stdout, stderr := runCLI(t, environ, "import", "-config", cfg, "-app", "peopleai", "-mode", "snapshot", export)
	if code != 0 {
		t.Fatalf("dry run: exit %d: %s", code, stderr)
	}
	for _, want := range []string{
		`peopleai: snapshot of users.csv, 3 rows (columns: email "Email Address", status "Account Status", role "Role"), grace period 24h`,
		"FINDING  USER              ROW  TASK      DETAIL\n",
		"verify   jane@example.com  2    1 create  export: listed, active, role User (Standard)\n",
		"orphan   mal@example.com   4    -         in the app, but the IdP did not assign it; listed, active, role Admin\n",
		"2 to verify, 0 to reopen, 0 accounts to update, 1 orphan\nnothing changed; run again with -apply to commit\n",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, stdout)
		}
	}
	if got := taskStatuses(t, environ, cfg); !slices.Equal(got, done) {
		t.Errorf("a dry run changed the tasks: %q", got)
	}
	if _, stdout, _ := runCLI(t, environ, "drift", "list", "-config", cfg, "-app", "peopleai"); !strings.Contains(stdout, "no drift in peopleai") {
		t.Errorf("a dry run recorded drift:\n%s", stdout)
	}

	// The same as JSON, with the flags after the file.
	code, stdout, stderr = runCLI(t, environ, "import", export, "-config", cfg, "-app", "peopleai", "-mode", "snapshot", "-json")
	var dry struct {
		App      string         `json:"app"`
		Mode     string         `json:"mode"`
		Applied  bool           `json:"applied"`
		Summary  map[string]int `json:"summary"`
		Findings []struct {
			Kind   string `json:"kind"`
			Email  string `json:"email"`
			TaskID int64  `json:"taskId"`
		} `json:"findings"`
	}
	if err := json.Unmarshal([]byte(stdout), &dry); code != 0 || err != nil {
		t.Fatalf("-json: exit %d, %v: %s %s", code, err, stdout, stderr)
	}
	if dry.App != "peopleai" || dry.Mode != "snapshot" || dry.Applied || dry.Summary["verify"] != 2 || dry.Summary["orphan"] != 1 ||
		len(dry.Findings) != 3 || dry.Findings[0].TaskID != 1 || !strings.Contains(stderr, "nothing changed") {
		t.Errorf("-json: %+v; stderr %q", dry, stderr)
	}

	// -apply commits it.
	code, stdout, stderr = runCLI(t, environ, "import", "-config", cfg, "-app", "peopleai", "-mode", "snapshot", "-apply", export)
	if code != 0 || !strings.Contains(stdout, "committed: 2 verified, 0 reopened, 0 accounts updated, 1 orphan recorded\n") {
		t.Fatalf("-apply: exit %d\n%s%s", code, stdout, stderr)
	}
	if got := taskStatuses(t, environ, cfg); !slices.Equal(got, []string{"1 jane@example.com create verified", "2 joe@example.com create verified"}) {
		t.Errorf("tasks after -apply: %q", got)
	}
	code, stdout, _ = runCLI(t, environ, "tasks", "show", "-config", cfg, "1")
	if code != 0 || !strings.Contains(stdout, "done -> verified  verified by import: export: listed, active") || !strings.Contains(stdout, "ann") {
		t.Errorf("tasks show after -apply:\n%s", stdout)
	}
	code, stdout, _ = runCLI(t, environ, "drift", "list", "-config", cfg, "-app", "peopleai")
	if code != 0 || !strings.Contains(stdout, "orphan  mal@example.com") {
		t.Errorf("drift list:\n%s", stdout)
	}

	// Standard input, in delta mode: an account left out is not missing.
	code, stdout, stderr = runCLIStdin(t, environ, strings.NewReader("Email Address\njane@example.com\n"),
		"import", "-config", cfg, "-app", "peopleai", "-mode", "delta", "-")
	if code != 0 || !strings.Contains(stdout, `delta of standard input, 1 rows (columns: email "Email Address")`) || !strings.Contains(stdout, "no differences") {
		t.Errorf("import -: exit %d\n%s%s", code, stdout, stderr)
	}

	bad := writeFile(t, dir, "bad.csv", "Email Address,Account Status\njane@example.com,active\njoe@example.com,on leave\n")
	short := writeFile(t, dir, "short.csv", "Email Address,Account Status\njane@example.com\n")
	noEmail := writeFile(t, dir, "noemail.csv", "Email,Account Status\njane@example.com,active\n")
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-app", "peopleai", export}, 2, "-mode is required"},
		{[]string{"-app", "peopleai", "-mode", "full", export}, 2, `-mode "full" is not an import mode`},
		{[]string{"-mode", "delta", export}, 2, "-app is required"},
		{[]string{"-app", "peopleai", "-mode", "delta"}, 2, "give exactly one file"},
		{[]string{"-app", "nope", "-mode", "delta", export}, 2, `no app "nope"`},
		{[]string{"-app", "peopleai", "-mode", "delta", bad}, 1, `bad.csv: row 3, column "Account Status": unknown status "on leave"`},
		{[]string{"-app", "peopleai", "-mode", "delta", short}, 1, "short.csv: row 2: 1 fields, but the header has 2"},
		{[]string{"-app", "peopleai", "-mode", "delta", noEmail}, 1, `row 1: no column "Email Address" for email`},
		{[]string{"-app", "peopleai", "-mode", "delta", filepath.Join(dir, "absent.csv")}, 1, "no such file"},
	} {
		args := append([]string{"import", "-config", cfg}, c.args...)
		code, _, stderr := runCLI(t, environ, args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q, want exit %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if got := taskStatuses(t, environ, cfg); !slices.Equal(got, []string{"1 jane@example.com create verified", "2 joe@example.com create verified"}) {
		t.Errorf("tasks after failed imports: %q", got)
	}
}

func TestImportHelp(t *testing.T) {
	for _, args := range [][]string{{"import", "-help"}, {"drift", "-help"}, {"drift", "list", "-h"}, {"help", "import"}} {
		code, stdout, stderr := runCLI(t, nil, args...)
		if code != 0 || strings.Count(stdout, "Usage") != 1 || stderr != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, stdout, stderr)
		}
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"drift"}, "which drift command"},
		{[]string{"drift", "fix"}, `unknown drift command "fix"`},
		{[]string{"drift", "list"}, "-app is required"},
	} {
		if code, _, stderr := runCLI(t, nil, c.args...); code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %q, want exit 2 and %q", c.args, code, stderr, c.want)
		}
	}
}
