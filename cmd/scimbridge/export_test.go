package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
)

func TestExportSixclicksImport(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann.admin"}
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: grc
    profile: sixclicks
    reassign:
      default: grc-team@example.com
    role_rules:
      domains:
        - {domain: partner.example.com, role: Respondent}
`, addr))
	_, stdout, _ := runCLI(t, environ, "token", "create", "-config", cfg, "-app", "grc")
	token := strings.TrimSpace(stdout)
	srv := serveInProcess(t, cfg, addr, environ)
	post := func(path, body string) map[string]any {
		req, _ := http.NewRequest("POST", srv.base+"/apps/grc/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, res.StatusCode, m)
		}
		return m
	}
	jo := post("/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"jo@example.com","active":true,
		"name":{"givenName":"Jo","familyName":"Park"}}`)["id"].(string)
	post("/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"vendor@partner.example.com","active":true,
		"name":{"givenName":"=HYPERLINK(\"x\")","familyName":"Vendor"}}`)
	post("/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Risk, Audit","members":[{"value":"`+jo+`"}]}`)
	export := func(args ...string) [][]string {
		t.Helper()
		code, out, stderr := runCLI(t, environ, append([]string{"export", "-config", cfg, "-app", "grc", "-format", "sixclicks-import"}, args...)...)
		if code != 0 {
			t.Fatalf("export: %s", stderr)
		}
		rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		if err != nil {
			t.Fatalf("export is not CSV: %v\n%s", err, out)
		}
		return rows
	}
	waitUntil(t, srv, "create tasks", func() bool { return len(export()) == 3 })
	rows := export()
	want := [][]string{
		{"Email Address", "First Name", "Last Name", "Roles", "Groups", "Active"},
		{"jo@example.com", "Jo", "Park", "User", "Risk, Audit", "Yes"},
		{"vendor@partner.example.com", `'=HYPERLINK("x")`, "Vendor", "Respondent", "", "Yes"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(want) {
		t.Errorf("export:\n got  %q\n want %q", rows, want)
	}
	// Once jo's account is created, only the vendor waits; -all has both.
	_, out, _ := runCLI(t, environ, "tasks", "list", "-config", cfg, "-json")
	var tasks []map[string]any
	json.Unmarshal([]byte(out), &tasks)
	for _, tk := range tasks {
		if tk["userName"] == "jo@example.com" {
			runCLI(t, environ, "tasks", "done", "-config", cfg, fmt.Sprint(tk["id"]), "-note", "imported")
		}
	}
	if rows := export(); len(rows) != 2 || rows[1][0] != "vendor@partner.example.com" {
		t.Errorf("after jo was created: %q", rows)
	}
	if rows := export("-all"); len(rows) != 3 {
		t.Errorf("-all: %q", rows)
	}
	if code, _, stderr := runCLI(t, environ, "export", "-config", cfg, "-app", "grc", "-format", "xlsx"); code == 0 || !strings.Contains(stderr, "sixclicks-import") {
		t.Errorf("a bad format: %d %s", code, stderr)
	}
}
