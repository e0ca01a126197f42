package scim_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// tokenWorld is a SCIM server for app acme with one SCIM token and one
// admin token.
type tokenWorld struct {
	db          *sqlite.DB
	srv         *scim.Server
	logs        *syncBuffer
	scim, admin string
	adminID     string
}

func newTokenWorld(t *testing.T) *tokenWorld {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := scim.NewServer(scim.Config{Store: db, Apps: []string{"acme"}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close(); db.Close() })
	w := &tokenWorld{db: db, srv: srv, logs: logs}
	if w.scim, _, err = scim.IssueToken(ctx, db, "acme", "okta"); err != nil {
		t.Fatal(err)
	}
	var rec store.Token
	if w.admin, rec, err = scim.IssueAdminToken(ctx, db, "Alice Admin", "laptop"); err != nil {
		t.Fatal(err)
	}
	w.adminID = rec.ID
	return w
}

func bearerRequest(method, path, token string) *http.Request {
	r := httptest.NewRequest(method, path, nil)
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	return r
}

func TestAdminTokenRefusedBySCIM(t *testing.T) {
	w := newTokenWorld(t)
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"scim token", w.scim, http.StatusOK},
		{"admin token", w.admin, http.StatusUnauthorized},
	} {
		t.Run(c.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			w.srv.Handler().ServeHTTP(rec, bearerRequest("GET", "/apps/acme/scim/v2/Users", c.token))
			if rec.Code != c.status {
				t.Errorf("status %d, want %d: %s", rec.Code, c.status, rec.Body)
			}
		})
	}
	if !strings.Contains(w.logs.String(), `"reason":"admin token"`) {
		t.Errorf("refusal of the admin token not logged with its reason:\n%s", w.logs)
	}
}

func TestAdminActor(t *testing.T) {
	w := newTokenWorld(t)
	ctx := context.Background()
	revoked, rec, err := scim.IssueAdminToken(ctx, w.db, "Bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.db.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, rec.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	wrongSecret := w.admin[:len(w.admin)-4] + "AAAA"
	if wrongSecret == w.admin {
		wrongSecret = w.admin[:len(w.admin)-4] + "BBBB"
	}
	cases := []struct {
		name, token string
		actor       string // "" when refused
		reason      string
	}{
		{"admin token", w.admin, "Alice Admin", ""},
		{"no token", "", "", "no bearer token"},
		{"malformed", "sbt_nope", "", "malformed token"},
		{"unknown", "sbt_0000000000000000_" + strings.Repeat("A", 43), "", "unknown token"},
		{"wrong secret", wrongSecret, "", "wrong secret"},
		{"revoked", revoked, "", "revoked token"},
		{"scim token", w.scim, "", "SCIM token"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			actor, err := w.srv.AdminActor(bearerRequest("GET", "/api/v1/tasks", c.token))
			if c.actor != "" {
				if err != nil || actor != c.actor {
					t.Errorf("AdminActor = %q, %v; want %q", actor, err, c.actor)
				}
				return
			}
			if !errors.Is(err, scim.ErrNoAdminToken) || actor != "" {
				t.Errorf("AdminActor = %q, %v; want ErrNoAdminToken", actor, err)
			}
			if !strings.Contains(w.logs.String(), `"reason":"`+c.reason+`"`) {
				t.Errorf("reason %q not logged", c.reason)
			}
		})
	}
	for _, secret := range []string{w.admin, w.scim, revoked, wrongSecret} {
		if strings.Contains(w.logs.String(), secret) {
			t.Error("a token reached the log")
		}
	}
}

func TestIssueTokenChecks(t *testing.T) {
	w := newTokenWorld(t)
	ctx := context.Background()
	for _, c := range []struct {
		name  string
		issue func() (string, store.Token, error)
		ok    bool
	}{
		{"scim token", func() (string, store.Token, error) { return scim.IssueToken(ctx, w.db, "acme", "") }, true},
		{"scim token without app", func() (string, store.Token, error) { return scim.IssueToken(ctx, w.db, "", "") }, false},
		{"scim token for a bad app name", func() (string, store.Token, error) { return scim.IssueToken(ctx, w.db, "*admin", "") }, false},
		{"admin name", func() (string, store.Token, error) { return scim.IssueAdminToken(ctx, w.db, "alice@example.com", "") }, true},
		{"admin without name", func() (string, store.Token, error) { return scim.IssueAdminToken(ctx, w.db, "", "") }, false},
		{"admin name with spaces around", func() (string, store.Token, error) { return scim.IssueAdminToken(ctx, w.db, " alice", "") }, false},
		{"admin name with a newline", func() (string, store.Token, error) { return scim.IssueAdminToken(ctx, w.db, "al\nice", "") }, false},
		{"admin name too long", func() (string, store.Token, error) {
			return scim.IssueAdminToken(ctx, w.db, strings.Repeat("a", scim.MaxActorName+1), "")
		}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			bearer, tok, err := c.issue()
			if c.ok != (err == nil) {
				t.Fatalf("err = %v, want ok %v", err, c.ok)
			}
			if !c.ok {
				return
			}
			got, err := w.db.GetToken(ctx, tok.ID)
			if err != nil || got.Admin != tok.Admin || got.Name != tok.Name || got.App != tok.App || bearer == "" {
				t.Errorf("stored %+v, %v; issued %+v", got, err, tok)
			}
		})
	}
}
