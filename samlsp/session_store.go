package samlsp

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"

	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// sessionStore keeps upstream sign-ins in SQLite. The cookie holds only a
// random id, and the table only its hash: sessions with many groups fit,
// and deleting the row ends the session everywhere. It is crewjam's
// SessionProvider for the ACS.
type sessionStore struct {
	db         *sqlite.DB
	cookieName string
	secure     bool
	ttl        time.Duration
	emailAttr  string
	groupsAttr string
	now        func() time.Time
}

var _ crewsp.SessionProvider = (*sessionStore)(nil)

var errNoSession = crewsp.ErrNoSession

// CreateSession stores the sign-in that assertion proves and sets the
// cookie.
func (s *sessionStore) CreateSession(w http.ResponseWriter, r *http.Request, assertion *saml.Assertion) error {
	if assertion.Subject == nil || assertion.Subject.NameID == nil || assertion.Subject.NameID.Value == "" {
		return errors.New("the assertion has no NameID")
	}
	now := s.now()
	expires := now.Add(s.ttl)
	for _, st := range assertion.AuthnStatements {
		if st.SessionNotOnOrAfter != nil && st.SessionNotOnOrAfter.Before(expires) {
			expires = *st.SessionNotOnOrAfter
		}
	}
	if !expires.After(now) {
		return errors.New("the IdP session has already ended")
	}
	attrs := assertionAttributes(assertion)
	attrJSON, err := json.Marshal(attrs)
	if err != nil {
		return fmt.Errorf("encode attributes: %w", err)
	}
	id := newSecret()
	old, _ := r.Cookie(s.cookieName)
	err = s.db.Update(r.Context(), func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("not a SQLite transaction")
		}
		if _, err := q.Exec(r.Context(), `DELETE FROM samlsp_sessions WHERE expires <= ?`, formatTime(now)); err != nil {
			return err
		}
		if old != nil {
			if _, err := q.Exec(r.Context(), `DELETE FROM samlsp_sessions WHERE id_hash = ?`, hashSecret(old.Value)); err != nil {
				return err
			}
		}
		_, err := q.Exec(r.Context(), `INSERT INTO samlsp_sessions(id_hash, subject, attributes, created, expires) VALUES (?, ?, ?, ?, ?)`,
			hashSecret(id), assertion.Subject.NameID.Value, string(attrJSON), formatTime(now), formatTime(expires))
		return err
	})
	if err != nil {
		return fmt.Errorf("store the session: %w", err)
	}
	http.SetCookie(w, s.cookie(id, int(expires.Sub(now).Seconds())))
	return nil
}

// DeleteSession ends the request's session, if any, and clears the cookie.
func (s *sessionStore) DeleteSession(w http.ResponseWriter, r *http.Request) error {
	c, err := r.Cookie(s.cookieName)
	if err != nil {
		return nil
	}
	http.SetCookie(w, s.cookie("", -1))
	return s.db.Update(r.Context(), func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("not a SQLite transaction")
		}
		_, err := q.Exec(r.Context(), `DELETE FROM samlsp_sessions WHERE id_hash = ?`, hashSecret(c.Value))
		return err
	})
}

// GetSession returns the request's live session, or errNoSession.
func (s *sessionStore) GetSession(r *http.Request) (crewsp.Session, error) {
	return s.lookup(r)
}

func (s *sessionStore) lookup(r *http.Request) (Session, error) {
	c, err := r.Cookie(s.cookieName)
	if err != nil || c.Value == "" {
		return Session{}, errNoSession
	}
	return s.find(r.Context(), c.Value)
}

func (s *sessionStore) find(ctx context.Context, id string) (Session, error) {
	var subject, attrJSON, created, expires string
	err := s.db.ReadSQL().QueryRow(ctx,
		`SELECT subject, attributes, created, expires FROM samlsp_sessions WHERE id_hash = ? AND expires > ?`,
		hashSecret(id), formatTime(s.now())).Scan(&subject, &attrJSON, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return Session{}, errNoSession
	}
	if err != nil {
		return Session{}, fmt.Errorf("read the session: %w", err)
	}
	sess := Session{Subject: subject}
	if err := json.Unmarshal([]byte(attrJSON), &sess.Attributes); err != nil {
		return Session{}, fmt.Errorf("decode the session's attributes: %w", err)
	}
	if sess.Created, err = parseTime(created); err != nil {
		return Session{}, fmt.Errorf("the session's creation time: %w", err)
	}
	if sess.Expires, err = parseTime(expires); err != nil {
		return Session{}, fmt.Errorf("the session's expiry: %w", err)
	}
	if v := sess.Attributes[s.emailAttr]; len(v) > 0 {
		sess.Email = v[0]
	}
	sess.Groups = sess.Attributes[s.groupsAttr]
	return sess, nil
}

// cookie is the session cookie: Lax, because the redirect back from the
// ACS (a cross-site POST) must carry it, and a Strict cookie would not.
func (s *sessionStore) cookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     s.cookieName,
		Value:    value,
		Path:     "/",
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// assertionAttributes flattens the assertion's attributes, keyed by Name
// and also by FriendlyName when it differs.
func assertionAttributes(a *saml.Assertion) map[string][]string {
	attrs := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			var values []string
			for _, v := range at.Values {
				values = append(values, v.Value)
			}
			if at.Name != "" {
				attrs[at.Name] = append(attrs[at.Name], values...)
			}
			if at.FriendlyName != "" && at.FriendlyName != at.Name {
				attrs[at.FriendlyName] = append(attrs[at.FriendlyName], values...)
			}
		}
	}
	return attrs
}
