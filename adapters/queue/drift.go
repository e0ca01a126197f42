package queue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Drift is a difference between an app and what the IdP asked for that an
// import of the app's user list found: an account nobody assigned, one
// that went missing, a wrong role. It is kept, resolved or not, so that
// it can be listed later; nothing acts on it by itself.
type Drift struct {
	App string
	// Email is lower-cased: one record per app, email and kind.
	Email  string
	Kind   string
	UserID string // empty when no account of the app matches
	Detail string
	// FirstSeen is when the drift was found (again, after it was
	// resolved); LastSeen when an import last showed it.
	FirstSeen, LastSeen time.Time
	// Resolved is when an import no longer showed it; zero while open.
	Resolved time.Time
}

// RaiseDrift records that an import at d.LastSeen found d. Drift already
// open is only seen again; new drift, or drift that had been resolved,
// is opened and written in the audit trail, and fresh reports that.
func (q Queue) RaiseDrift(ctx context.Context, d Drift, actor string) (fresh bool, err error) {
	d.Email = strings.ToLower(strings.TrimSpace(d.Email))
	var resolved sql.NullString
	err = q.sql.QueryRow(ctx, `SELECT resolved FROM adapter_drift WHERE app = ? AND email = ? AND kind = ?`,
		d.App, d.Email, d.Kind).Scan(&resolved)
	found := err == nil
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return false, fmt.Errorf("raise drift: %w", err)
	}
	fresh = !found || resolved.Valid
	seen := formatTime(d.LastSeen)
	if fresh {
		_, err = q.sql.Exec(ctx, `INSERT INTO adapter_drift(app, email, kind, user_id, detail, first_seen, last_seen, resolved)
			VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
			ON CONFLICT(app, email, kind) DO UPDATE SET user_id = excluded.user_id, detail = excluded.detail,
				first_seen = excluded.first_seen, last_seen = excluded.last_seen, resolved = NULL`,
			d.App, d.Email, d.Kind, d.UserID, d.Detail, seen, seen)
	} else {
		_, err = q.sql.Exec(ctx, `UPDATE adapter_drift SET user_id = ?, detail = ?, last_seen = ? WHERE app = ? AND email = ? AND kind = ?`,
			d.UserID, d.Detail, seen, d.App, d.Email, d.Kind)
	}
	if err != nil {
		return false, fmt.Errorf("raise drift: %w", err)
	}
	if !fresh {
		return false, nil
	}
	reason := d.Email
	if d.Detail != "" {
		reason += ": " + d.Detail
	}
	return true, q.audit(ctx, actor, d.App, d.UserID, 0, "drift "+d.Kind, "", "open", reason)
}

// ResolveDrift closes the open drift of kind for email in app at the time
// given, writing why in the audit trail. Drift that is not open is left
// as it is.
func (q Queue) ResolveDrift(ctx context.Context, app, email, kind string, at time.Time, actor, reason string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	var userID string
	err := q.sql.QueryRow(ctx, `UPDATE adapter_drift SET resolved = ? WHERE app = ? AND email = ? AND kind = ? AND resolved IS NULL
		RETURNING user_id`, formatTime(at), app, email, kind).Scan(&userID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("resolve drift: %w", err)
	}
	return q.audit(ctx, actor, app, userID, 0, "drift "+kind, "open", "resolved", email+": "+reason)
}

// DriftOf lists the drift of app by email and kind: only the open drift
// unless all is set.
func (q Queue) DriftOf(ctx context.Context, app string, all bool) ([]Drift, error) {
	rows, err := q.sql.Query(ctx, `SELECT app, email, kind, user_id, detail, first_seen, last_seen, resolved
		FROM adapter_drift WHERE app = ? AND (? OR resolved IS NULL) ORDER BY email, kind`, app, all)
	if err != nil {
		return nil, fmt.Errorf("list drift: %w", err)
	}
	defer rows.Close()
	var out []Drift
	for rows.Next() {
		var (
			d                     Drift
			first, last, resolved sql.NullString
		)
		if err := rows.Scan(&d.App, &d.Email, &d.Kind, &d.UserID, &d.Detail, &first, &last, &resolved); err != nil {
			return nil, fmt.Errorf("list drift: %w", err)
		}
		for _, f := range []struct {
			s   sql.NullString
			dst *time.Time
		}{{first, &d.FirstSeen}, {last, &d.LastSeen}, {resolved, &d.Resolved}} {
			if *f.dst, err = parseTime(f.s); err != nil {
				return nil, fmt.Errorf("list drift: %w", err)
			}
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// NoteObserved writes in the audit trail that what is known of the
// account of userID in app changed from one description to another, and
// why: PutAccount records only changes of the account's state.
func (q Queue) NoteObserved(ctx context.Context, app, userID, actor, from, to, reason string) error {
	return q.audit(ctx, actor, app, userID, 0, "observed", from, to, reason)
}

// CountDrift counts the open drift of app.
func (q Queue) CountDrift(ctx context.Context, app string) (int, error) {
	var n int
	if err := q.sql.QueryRow(ctx, `SELECT COUNT(*) FROM adapter_drift WHERE app = ? AND resolved IS NULL`, app).Scan(&n); err != nil {
		return 0, fmt.Errorf("count drift: %w", err)
	}
	return n, nil
}
