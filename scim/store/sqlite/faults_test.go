package sqlite_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/scim/store"
)

// TestUnwritable: when SQLite refuses writes for a reason an operator must
// fix, Update says so with store.ErrUnavailable, reads go on, each write
// of a batch commits whole or not at all, and lifting the cause makes
// writes work again.
func TestUnwritable(t *testing.T) {
	bigAttrs := []byte(`{"title":"` + strings.Repeat("x", 20000) + `"}`)
	cases := []struct {
		name, on, off, code string
	}{
		{"read-only", "PRAGMA query_only = ON", "PRAGMA query_only = OFF", "SQLITE_READONLY"},
		{"disk full", "PRAGMA max_page_count = 1", "PRAGMA max_page_count = 1073741823", "SQLITE_FULL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			db := openTemp(t)
			createUser(t, db, "u0", "before")
			if err := db.Pragma(ctx, c.on); err != nil {
				t.Fatal(err)
			}
			// Writers race so that some share a commit; the big ones
			// need pages of their own.
			var (
				wg   sync.WaitGroup
				mu   sync.Mutex
				errs = map[string]error{}
			)
			for i := range 16 {
				wg.Go(func() {
					u := &store.User{ID: fmt.Sprint("u", i+1), UserName: fmt.Sprint("user", i+1)}
					if i%2 == 0 {
						u.Attributes = bigAttrs
					}
					err := db.Update(ctx, func(tx store.Tx) error {
						if err := tx.CreateUser(ctx, "acme", u); err != nil {
							return err
						}
						return tx.AppendEvents(ctx, []store.Event{{App: "acme", Type: store.UserCreated, ResourceType: "User", ResourceID: u.ID}})
					})
					mu.Lock()
					errs[u.ID] = err
					mu.Unlock()
				})
			}
			wg.Wait()
			for id, err := range errs {
				n := 0
				fmt.Sscan(strings.TrimPrefix(id, "u"), &n)
				_, getErr := db.GetUser(ctx, "acme", id, store.Load{})
				evs, _ := db.Events(ctx, "acme", 0, 100)
				hasEvent := false
				for _, e := range evs {
					hasEvent = hasEvent || e.ResourceID == id
				}
				var ue *store.UnavailableError
				switch {
				case err == nil:
					if n%2 == 1 || c.name == "read-only" {
						t.Errorf("%s: a write the database had to refuse committed", id)
					}
					if getErr != nil || !hasEvent {
						t.Errorf("%s committed, but user %v, event %v", id, getErr, hasEvent)
					}
				case errors.As(err, &ue) && errors.Is(err, store.ErrUnavailable):
					if !strings.HasPrefix(ue.Code, c.code) || ue.Reason == "" {
						t.Errorf("%s: code %q reason %q, want %s and a reason", id, ue.Code, ue.Reason, c.code)
					}
					if !errors.Is(getErr, store.ErrNotFound) || hasEvent {
						t.Errorf("%s was refused, but half of it is there: user %v, event %v", id, getErr, hasEvent)
					}
				default:
					t.Errorf("%s: %v, want success or ErrUnavailable", id, err)
				}
			}
			if u, err := db.GetUser(ctx, "acme", "u0", store.Load{}); err != nil || u.UserName != "before" {
				t.Errorf("reading while unwritable: %+v, %v", u, err)
			}

			if err := db.Pragma(ctx, c.off); err != nil {
				t.Fatal(err)
			}
			createUser(t, db, "after", "after")
			if n, err := db.QueryInt(ctx, "SELECT count(*) FROM scim_users WHERE id = 'after'"); err != nil || n != 1 {
				t.Errorf("the write after lifting: %d rows, %v", n, err)
			}
		})
	}
}

func TestPragmaOnlyRunsPragmas(t *testing.T) {
	db := openTemp(t)
	if err := db.Pragma(t.Context(), "DELETE FROM scim_users"); err == nil {
		t.Error("Pragma ran a DELETE")
	}
	err := db.Update(t.Context(), func(tx store.Tx) error {
		return tx.CreateUser(t.Context(), "acme", &store.User{ID: "x", UserName: "x"})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(t.Context(), func(tx store.Tx) error {
		return tx.CreateUser(t.Context(), "acme", &store.User{ID: "y", UserName: "X"})
	})
	if errors.Is(err, store.ErrUnavailable) {
		t.Errorf("a conflict counts as an unwritable database: %v", err)
	}
}

// TestNewDatabasePrivate: a new database file and its -wal and -shm files
// are readable by their owner only, whatever the umask.
func TestNewDatabasePrivate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "scim.db")
	db := openAt(t, path)
	createUser(t, db, "u1", "alice")
	defer db.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), fi.Mode().Perm())
		}
	}
}
