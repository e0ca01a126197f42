package sqlite_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
	"github.com/scimbridge/scimbridge/scim/store/storetest"
)

// quiet drops the panic reports the conformance suite provokes.
var quiet = sqlite.Options{Logger: slog.New(slog.DiscardHandler)}

func openAt(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), path, quiet)
	if err != nil {
		t.Fatalf("Open(%s): %v", path, err)
	}
	return db
}

// openTemp opens a database in a new file and closes it after the test.
func openTemp(t *testing.T) *sqlite.DB {
	t.Helper()
	db := openAt(t, filepath.Join(t.TempDir(), "scim.db"))
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openAt(t, filepath.Join(t.TempDir(), "scim.db"))
	})
}

func createUser(t *testing.T, db *sqlite.DB, id, userName string) {
	t.Helper()
	u := &store.User{ID: id, UserName: userName, Attributes: []byte(`{"userName":"` + userName + `"}`)}
	if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.CreateUser(t.Context(), "acme", u) }); err != nil {
		t.Fatal(err)
	}
}

func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	db := openAt(t, path)
	createUser(t, db, "u1", "alice")
	if err := db.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for i := range 2 {
		db := openAt(t, path)
		version, err := db.QueryInt(t.Context(), `SELECT version FROM schema_migrations WHERE component = 'scim'`)
		if err != nil || version != len(sqlite.Migrations) {
			t.Errorf("reopen %d: schema version %d (%v), want %d", i, version, err, len(sqlite.Migrations))
		}
		if n, err := db.QueryInt(t.Context(), `SELECT count(*) FROM schema_migrations`); err != nil || n != 1 {
			t.Errorf("reopen %d: %d migration rows (%v), want 1", i, n, err)
		}
		u, err := db.GetUser(t.Context(), "acme", "u1", store.Load{})
		if err != nil || u.UserName != "alice" {
			t.Errorf("reopen %d: GetUser = %+v, %v", i, u, err)
		}
		// Still writable, and the unique indexes are still there.
		createUser(t, db, fmt.Sprint("new", i), fmt.Sprint("new", i))
		err = db.Update(t.Context(), func(tx store.Tx) error {
			return tx.CreateUser(t.Context(), "acme", &store.User{ID: "dup", UserName: "ALICE"})
		})
		var ce *store.ConflictError
		if !errors.As(err, &ce) {
			t.Errorf("reopen %d: duplicate userName gave %v, want a ConflictError", i, err)
		}
		if err := db.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "scim.db")
	db := openAt(t, path)
	if err := db.ExecWrite(t.Context(), `UPDATE schema_migrations SET version = 99 WHERE component = 'scim'`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	db, err := sqlite.Open(t.Context(), path, quiet)
	if err == nil {
		db.Close()
		t.Fatal("Open accepted a database from a newer scimbridge")
	}
	if !strings.Contains(err.Error(), "newer") {
		t.Errorf("error %q does not say the database is newer", err)
	}
}

func TestClosed(t *testing.T) {
	db := openAt(t, filepath.Join(t.TempDir(), "scim.db"))
	db.Close()
	err := db.Update(t.Context(), func(store.Tx) error { return nil })
	if !errors.Is(err, sqlite.ErrClosed) {
		t.Errorf("Update after Close: %v, want ErrClosed", err)
	}
}

var cat = catalog.New()

func resourceOf(name string) *catalog.Resource {
	if name == "Group" {
		return cat.Group
	}
	return cat.User
}

func parse(t *testing.T, resource, filter string) query.Expr {
	t.Helper()
	f, err := query.ParseFilter(resourceOf(resource), filter)
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", filter, err)
	}
	return f
}

// fullScan matches a plan line that reads a whole stored table, or every
// row of the app, which in a single-app database is the same. (json_each
// over one document is fine.)
var fullScan = regexp.MustCompile(`^SCAN (\w+)( USING (COVERING )?INDEX \w+)?$|^SEARCH (\w+) USING (COVERING )?INDEX \w+ \(app=\?\)$`)

func TestIndexedLookups(t *testing.T) {
	db := openTemp(t)
	cases := []struct {
		resource, filter string
		index            string // must appear in the plan
	}{
		{"User", `userName eq "alice@example.com"`, "scim_users_user_name"},
		{"User", `externalId eq "EXT-1"`, "scim_users_external_id"},
		{"User", `emails.value eq "alice@example.com"`, "scim_user_emails_value"},
		{"User", `emails eq "alice@example.com"`, "scim_user_emails_value"},
		{"User", `emails[value eq "alice@example.com"]`, "scim_user_emails_value"},
		{"User", `groups.value eq "g1"`, "scim_groups_id"},
		{"User", `id eq "u1"`, "scim_users_id"},
		{"Group", `displayName eq "Admins"`, "scim_groups_display_name"},
		{"Group", `members eq "u1"`, "scim_members_user"},
		{"Group", `members[value eq "u1"]`, "scim_members_user"},
		{"Group", `id eq "g1" and members eq "u1"`, "scim_groups_id"},
		{"Group", `externalId eq "G-1"`, "scim_groups_external_id"},
	}
	for _, c := range cases {
		t.Run(c.resource+" "+c.filter, func(t *testing.T) {
			list, count, args, err := sqlite.ListSQL(c.resource, "acme", parse(t, c.resource, c.filter), nil, store.Load{Groups: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []struct {
				sql  string
				args []any
			}{{list, append(args, 100, 0)}, {count, args}} {
				plan, err := db.QueryPlan(t.Context(), q.sql, q.args...)
				if err != nil {
					t.Fatalf("%v\n%s", err, q.sql)
				}
				text := strings.Join(plan, "\n")
				for _, line := range plan {
					if fullScan.MatchString(line) {
						t.Errorf("full scan (%s) in the plan of\n%s\nplan:\n%s", line, q.sql, text)
					}
				}
				if !strings.Contains(text, c.index) {
					t.Errorf("index %s unused in the plan of\n%s\nplan:\n%s", c.index, q.sql, text)
				}
			}
		})
	}
}

// TestMemberChangesDoNotScanTheGroup holds PATCH of a large group to a
// cost in the members named.
func TestMemberChangesDoNotScanTheGroup(t *testing.T) {
	db := openTemp(t)
	for _, st := range sqlite.MemberStatements {
		plan, err := db.QueryPlan(t.Context(), st.SQL, st.Args...)
		if err != nil {
			t.Fatalf("%v\n%s", err, st.SQL)
		}
		for _, line := range plan {
			if fullScan.MatchString(line) || strings.Contains(line, "SCAN scim_members") {
				t.Errorf("scan (%s) in the plan of\n%s\nplan:\n%s", line, st.SQL, strings.Join(plan, "\n"))
			}
		}
	}
}

func TestFilterValuesAreParameters(t *testing.T) {
	const emp = catalog.EnterpriseUserSchema + ":"
	cases := []struct {
		resource, filter, value string
	}{
		{"User", `userName eq "Marker'); DROP TABLE scim_users; --"`, "DROP TABLE"},
		{"User", `userName co "marker1"`, "marker1"},
		{"User", `userName sw "marker2"`, "marker2"},
		{"User", `title ew "marker3"`, "marker3"},
		{"User", `externalId gt "marker4"`, "marker4"},
		{"User", `emails[type eq "marker5" and value co "marker6"]`, "marker"},
		{"User", `emails[type eq "work"].value eq "marker7"`, "marker7"},
		{"User", `phoneNumbers[type eq "marker8"]`, "marker8"},
		{"User", emp + `employeeNumber eq "marker9"`, "marker9"},
		{"User", emp + `manager.value eq "marker10"`, "marker10"},
		{"User", `groups.value eq "marker11"`, "marker11"},
		{"User", `urn:scimbridge:params:scim:schemas:extension:2.0:User:pendingActions gt 987654`, "987654"},
		{"User", `meta.created gt "2031-02-03T04:05:06Z"`, "2031"},
		{"User", `name.givenName eq "it's"`, "it's"},
		{"Group", `members eq "marker12"`, "marker12"},
		{"Group", `displayName ne "marker13"`, "marker13"},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			list, count, args, err := sqlite.ListSQL(c.resource, "app-marker", parse(t, c.resource, c.filter), nil, store.Load{Groups: true})
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{list, count} {
				lower := strings.ToLower(q)
				if strings.Contains(lower, strings.ToLower(c.value)) || strings.Contains(lower, "app-marker") {
					t.Errorf("a filter value is in the SQL text:\n%s", q)
				}
			}
			if !strings.Contains(strings.ToLower(fmt.Sprint(args...)), strings.ToLower(c.value)) {
				t.Errorf("the value %q is not among the parameters %v", c.value, args)
			}
			if n := strings.Count(count, "?"); n != len(args) {
				t.Errorf("%d placeholders for %d parameters in\n%s", n, len(args), count)
			}
		})
	}
}

// TestUnfilteredPagesNeedNoSort checks that paging through an app in the
// default order reads the rows in index order instead of sorting them all
// for every page.
func TestUnfilteredPagesNeedNoSort(t *testing.T) {
	db := openTemp(t)
	for _, resource := range []string{"User", "Group"} {
		// Without the groups column: it sorts each user's few groups.
		list, _, args, err := sqlite.ListSQL(resource, "acme", nil, nil, store.Load{})
		if err != nil {
			t.Fatal(err)
		}
		plan, err := db.QueryPlan(t.Context(), list, append(args, 100, 1000)...)
		if err != nil {
			t.Fatal(err)
		}
		if text := strings.Join(plan, "\n"); strings.Contains(text, "TEMP B-TREE") {
			t.Errorf("%s pages are sorted:\n%s", resource, text)
		}
	}
}

// TestCheckpointsRunInTheBackground writes more than SQLite's automatic
// checkpoint threshold and checks that the writes themselves copied
// nothing into the database file, and that the checkpointer then did.
func TestCheckpointsRunInTheBackground(t *testing.T) {
	cases := []struct {
		name     string
		interval time.Duration
		copied   bool // whether the file must grow within the wait
	}{
		{"writes leave the log alone", time.Hour, false},
		{"the checkpointer copies it", 20 * time.Millisecond, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "scim.db")
			db, err := sqlite.Open(t.Context(), path, sqlite.Options{CheckpointInterval: c.interval, Logger: quiet.Logger})
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			before := fileSize(t, path)
			// About 6 MB of attributes: some 1,500 pages, past the 1,000
			// at which SQLite would checkpoint on its own.
			pad := strings.Repeat("x", 3000)
			for i := range 2000 {
				u := &store.User{ID: fmt.Sprintf("u%04d", i), UserName: fmt.Sprintf("u%04d", i),
					Attributes: json.RawMessage(`{"title":"` + pad + `"}`)}
				if err := db.Update(t.Context(), func(tx store.Tx) error { return tx.CreateUser(t.Context(), "acme", u) }); err != nil {
					t.Fatal(err)
				}
			}
			grew := func() bool { return fileSize(t, path) > before+4<<20 }
			if !c.copied {
				if grew() {
					t.Errorf("the database file grew from %d to %d bytes without a checkpointer: a write checkpointed", before, fileSize(t, path))
				}
				return
			}
			deadline := time.Now().Add(10 * time.Second)
			for !grew() && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if !grew() {
				t.Errorf("the database file is %d bytes 10 s after the writes: no background checkpoint", fileSize(t, path))
			}
		})
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Size()
}

// TestFileMode: a new database, and the files SQLite keeps beside it, are
// readable by their owner only; an existing file keeps its mode.
func TestFileMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "new.db")
	db := openAt(t, path)
	createUser(t, db, "u1", "alice")
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if mode := fi.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %#o, want 0600", filepath.Base(p), mode)
		}
	}
	db.Close()

	old := filepath.Join(dir, "old.db")
	if err := os.WriteFile(old, nil, 0o640); err != nil {
		t.Fatal(err)
	}
	openAt(t, old).Close()
	if fi, err := os.Stat(old); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("an existing file's mode changed: %v %v", fi.Mode(), err)
	}
}
