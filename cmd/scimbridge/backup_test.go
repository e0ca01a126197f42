package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	_ "modernc.org/sqlite"
)

// scimPost creates a user through the SCIM endpoint and reports the status.
func scimPost(client *http.Client, base, token, userName string) (int, error) {
	req, err := http.NewRequest("POST", base+"/apps/acme/scim/v2/Users", strings.NewReader(
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+userName+`","active":true}`))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

// userNames reads the user names in the database file at path.
func userNames(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var check string
	if err := db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of %s: %q, %v", path, check, err)
	}
	rows, err := db.Query("SELECT user_name FROM scim_users")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	names := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		names[n] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return names
}

// TestBackupWhileServing backs up the database of a running server while
// clients keep creating users. The copy passes the integrity check, holds
// every user acknowledged before the backup began, and a server started
// on it serves them and takes new writes.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	cfg := writeConfig(t, dir, fmt.Sprintf("listen: %s\ndatabase: data.db\nlog:\n  format: json\napps:\n  - name: acme\n    profile: manual\n", addr))
	code, stdout, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-app", "acme")
	if code != 0 {
		t.Fatalf("token create: %s", stderr)
	}
	token := strings.TrimSpace(stdout)
	srv := serveInProcess(t, cfg, addr, nil)

	// Four clients create up to 150 users each until told to stop.
	client := &http.Client{Timeout: 10 * time.Second}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked []string
		odd   []string
	)
	stop := make(chan struct{})
	for w := range 4 {
		wg.Go(func() {
			for i := range 150 {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("user%d-%03d@example.com", w, i)
				status, err := scimPost(client, srv.base, token, name)
				mu.Lock()
				if err == nil && status == http.StatusCreated {
					acked = append(acked, name)
				} else {
					odd = append(odd, fmt.Sprintf("%s: %d %v", name, status, err))
				}
				mu.Unlock()
			}
		})
	}
	ackedSoFar := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), acked...)
	}
	for deadline := time.Now().Add(30 * time.Second); len(ackedSoFar()) < 60; {
		if time.Now().After(deadline) {
			t.Fatalf("the clients made only %d users\n%s", len(ackedSoFar()), srv.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	out := filepath.Join(dir, "backups", "scimbridge-1.db")
	if err := os.Mkdir(filepath.Dir(out), 0o700); err != nil {
		t.Fatal(err)
	}
	before := ackedSoFar()
	code, stdout, stderr = runCLI(t, nil, "backup", "-config", cfg, out)
	during := len(ackedSoFar()) - len(before)
	close(stop)
	wg.Wait()
	if code != 0 {
		t.Fatalf("backup: exit %d: %s", code, stderr)
	}
	if len(odd) > 0 {
		t.Errorf("writes failed during the backup: %v", odd)
	}
	t.Logf("%d users acknowledged before the backup, %d during it", len(before), during)

	copied := userNames(t, out)
	for _, n := range before {
		if !copied[n] {
			t.Errorf("%s was acknowledged before the backup began but is not in it", n)
		}
	}
	summary := regexp.MustCompile(`^backup of .+ written to .+: [0-9.]+ KiB, integrity ok, (\d+) users, 0 groups, (\d+) tasks\n$`)
	if m := summary.FindStringSubmatch(stdout); m == nil || m[1] != fmt.Sprint(len(copied)) {
		t.Errorf("summary %q; want one line counting the %d users in the copy", stdout, len(copied))
	}
	fi, err := os.Stat(out)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the backup's mode is %v (%v), want 0600", fi.Mode().Perm(), err)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Errorf("the backup directory holds %d files, want the backup alone: %v", len(entries), entries)
	}

	// The same OUT again: refused, and the backup stays as it was.
	first, _ := os.ReadFile(out)
	code, _, stderr = runCLI(t, nil, "backup", "-config", cfg, out)
	if code != 1 || !strings.Contains(stderr, "exists; add -force") {
		t.Errorf("backup onto an existing file: exit %d %q", code, stderr)
	}
	if again, _ := os.ReadFile(out); !bytes.Equal(first, again) {
		t.Error("a refused backup changed the existing file")
	}
	if code, _, stderr = runCLI(t, nil, "backup", "-config", cfg, "-force", out); code != 0 {
		t.Errorf("backup -force: exit %d %q", code, stderr)
	}
	if code, _, stderr = runCLI(t, nil, "backup", "-config", cfg, "-force", filepath.Join(dir, "data.db")); code != 1 || !strings.Contains(stderr, "is the database itself") {
		t.Errorf("backup -force onto the database: exit %d %q", code, stderr)
	}
	srv.stop()

	// Restore to a new path and point a config at it.
	restored := filepath.Join(dir, "restored", "scimbridge.db")
	if err := os.Mkdir(filepath.Dir(restored), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, first, 0o600); err != nil {
		t.Fatal(err)
	}
	addr2 := freeAddr(t)
	cfg2 := writeConfig(t, filepath.Dir(restored), fmt.Sprintf("listen: %s\ndatabase: scimbridge.db\nlog:\n  format: json\napps:\n  - name: acme\n    profile: manual\n", addr2))
	srv2 := serveInProcess(t, cfg2, addr2, nil)
	req, _ := http.NewRequest("GET", srv2.base+"/apps/acme/scim/v2/Users?count=0", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var list struct{ TotalResults int }
	json.NewDecoder(res.Body).Decode(&list)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || list.TotalResults != len(copied) {
		t.Errorf("the restored server: status %d, %d users; want 200 and %d", res.StatusCode, list.TotalResults, len(copied))
	}
	if status, err := scimPost(client, srv2.base, token, "after-restore@example.com"); err != nil || status != http.StatusCreated {
		t.Errorf("a write after the restore: %d %v", status, err)
	}
	srv2.stop()
}

// TestBackupErrors: mistakes in the call and the config say what is wrong,
// and a missing database is never created by a backup.
func TestBackupErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "database: missing.db\napps:\n  - name: acme\n")
	out := filepath.Join(dir, "out.db")
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no OUT", []string{"backup", "-config", cfg}, 2, "exactly one OUT"},
		{"two OUTs", []string{"backup", "-config", cfg, out, out + "2"}, 2, "exactly one OUT"},
		{"unknown flag", []string{"backup", "-config", cfg, "-overwrite", out}, 2, "-overwrite"},
		{"missing config", []string{"backup", "-config", filepath.Join(dir, "nope.yaml"), out}, 1, "nope.yaml"},
		{"no database", []string{"backup", "-config", cfg, out}, 1, "there is no database at " + filepath.Join(dir, "missing.db")},
		{"OUT in a missing directory", []string{"backup", "-config", writeFile(t, dir, "ok.yaml", "database: ok.db\napps:\n  - name: acme\n"),
			filepath.Join(dir, "no", "such", "dir", "out.db")}, 1, "no such file or directory"},
	}
	// A database for the last case.
	if code, _, stderr := runCLI(t, nil, "token", "create", "-config", filepath.Join(dir, "ok.yaml"), "-app", "acme"); code != 0 {
		t.Fatal(stderr)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, nil, c.args...)
			if code != c.code || !strings.Contains(stderr, c.want) {
				t.Errorf("exit %d %q; want exit %d and %q", code, stderr, c.code, c.want)
			}
		})
	}
	for _, p := range []string{filepath.Join(dir, "missing.db"), out} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s was created", p)
		}
	}
	code, stdout, _ := runCLI(t, nil, "backup", "-help")
	if code != 0 || !strings.Contains(stdout, "-force") || !strings.Contains(stdout, "Backup and") {
		t.Errorf("backup -help: exit %d\n%s", code, stdout)
	}
}
