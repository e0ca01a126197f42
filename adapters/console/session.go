package console

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// CookieName is the session cookie's name.
const CookieName = "scimbridge_console"

// SessionLifetime is how long a sign-in lasts, however busy the person.
const SessionLifetime = 8 * time.Hour

// migrations of the console's tables; a released step is never edited.
var migrations = []string{
	// A session is known by the SHA-256 of its cookie's value, so that a
	// copy of the database file signs nobody in.
	`CREATE TABLE console_sessions (
		id_hash BLOB PRIMARY KEY,
		actor TEXT NOT NULL,
		created TEXT NOT NULL,
		expires TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX console_sessions_expires ON console_sessions(expires);`,

	// The role a sign-in through the company IdP gave, from the person's
	// groups then; empty for a token's sign-in, whose role RoleOf gives.
	`ALTER TABLE console_sessions ADD COLUMN role TEXT NOT NULL DEFAULT '';`,
}

func migrate(ctx context.Context, db *sqlite.DB) error {
	if err := sqlite.Migrate(ctx, db, "console", migrations); err != nil {
		return fmt.Errorf("console: %w", err)
	}
	return nil
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

func hashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// write runs fn in a write transaction of the database.
func (s *server) write(ctx context.Context, fn func(sqlite.SQL) error) error {
	return s.cfg.DB.Update(ctx, func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("console: sessions need the SQLite store")
		}
		return fn(q)
	})
}

// startSession records a new session of actor and returns the cookie's
// value. Expired sessions go at the same time.
func (s *server) startSession(ctx context.Context, actor, role string) (string, error) {
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	id := base64.RawURLEncoding.EncodeToString(raw[:])
	now := s.cfg.Now().UTC()
	err := s.write(ctx, func(q sqlite.SQL) error {
		if _, err := q.Exec(ctx, `DELETE FROM console_sessions WHERE expires < ?`, now.Format(timeLayout)); err != nil {
			return fmt.Errorf("prune sessions: %w", err)
		}
		_, err := q.Exec(ctx, `INSERT INTO console_sessions(id_hash, actor, role, created, expires) VALUES (?, ?, ?, ?, ?)`,
			hashID(id), actor, role, now.Format(timeLayout), now.Add(SessionLifetime).Format(timeLayout))
		if err != nil {
			return fmt.Errorf("store session: %w", err)
		}
		return nil
	})
	return id, err
}

// sessionActor returns who the session with cookie value id acts as,
// and the role it was given ("" when RoleOf decides); found is false for
// an unknown or expired session.
func (s *server) sessionActor(ctx context.Context, id string) (actor, role string, found bool, err error) {
	var expires string
	err = s.cfg.DB.ReadSQL().QueryRow(ctx, `SELECT actor, role, expires FROM console_sessions WHERE id_hash = ?`, hashID(id)).
		Scan(&actor, &role, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, fmt.Errorf("read session: %w", err)
	}
	end, err := time.Parse(timeLayout, expires)
	if err != nil {
		return "", "", false, fmt.Errorf("read session: %w", err)
	}
	if !s.cfg.Now().Before(end) {
		return "", "", false, nil
	}
	return actor, role, true, nil
}

func (s *server) endSession(ctx context.Context, id string) error {
	return s.write(ctx, func(q sqlite.SQL) error {
		if _, err := q.Exec(ctx, `DELETE FROM console_sessions WHERE id_hash = ?`, hashID(id)); err != nil {
			return fmt.Errorf("end session: %w", err)
		}
		return nil
	})
}

// cookie is the session cookie with value; maxAge < 0 deletes it.
func (s *server) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: Prefix, MaxAge: maxAge,
		HttpOnly: true, Secure: s.cfg.Secure, SameSite: http.SameSiteLaxMode}
}

// who is the signed-in person a request acts for.
type who struct {
	Actor string
	Role  string
}

// Can reports whether the person's role includes role.
func (w who) Can(role string) bool { return rank(w.Role) >= rank(role) }

func rank(role string) int {
	switch role {
	case Approver:
		return 2
	case Operator:
		return 1
	}
	return 0
}

type whoKey struct{}

func whoOf(ctx context.Context) who {
	w, _ := ctx.Value(whoKey{}).(who)
	return w
}

// signedIn lets through requests of a live session; others are sent to
// the sign-in page, and back here afterwards.
func (s *server) signedIn(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		actor, role, found := "", "", false
		if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
			if actor, role, found, err = s.sessionActor(r.Context(), c.Value); err != nil {
				s.fail(w, r, err)
				return
			}
		}
		if !found {
			back := Prefix
			if r.Method == http.MethodGet {
				back = r.URL.RequestURI()
			}
			to := "/console/signin?return=" + url.QueryEscape(localPath(back))
			if r.Header.Get("HX-Request") == "true" {
				// htmx would swap the sign-in page into a table row.
				w.Header().Set("HX-Redirect", to)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, to, http.StatusSeeOther)
			return
		}
		if role == "" {
			role = s.cfg.RoleOf(actor)
		}
		if rank(role) == 0 {
			role = Viewer
		}
		ctx := context.WithValue(r.Context(), whoKey{}, who{Actor: actor, Role: role})
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}

// localPath returns p if it is a path of the console, else the
// overview: a return path must never lead off the console.
func localPath(p string) string {
	if !strings.HasPrefix(p, Prefix) || strings.Contains(p, "//") || strings.ContainsAny(p, "\\\r\n\t") {
		return Prefix
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(u.Path, Prefix) {
		return Prefix
	}
	// Dot segments could climb out of the console.
	for _, seg := range strings.Split(u.Path, "/") {
		if seg == "." || seg == ".." {
			return Prefix
		}
	}
	return p
}
