package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimbridge/scimbridge/scim/store"
)

// tx implements store.Tx inside the writer's transaction.
type tx struct {
	reader
	q querier
}

var _ store.Tx = (*tx)(nil)

func now() time.Time { return time.Now().UTC() }

func isUnique(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE
}

func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func attrsText(raw json.RawMessage) string {
	if len(raw) == 0 {
		return "{}"
	}
	return string(raw)
}

func (t *tx) CreateUser(ctx context.Context, app string, u *store.User) error {
	ts := now()
	var pk int64
	err := t.q.queryRow(ctx, `INSERT INTO scim_users(app, id, user_name, user_name_fold, external_id, attrs, version, created, modified)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING pk`,
		app, u.ID, u.UserName, store.Fold(u.UserName), nullIfEmpty(u.ExternalID), attrsText(u.Attributes),
		formatTime(ts), formatTime(ts)).Scan(&pk)
	if isUnique(err) {
		return &store.ConflictError{Attribute: "userName", Value: u.UserName}
	}
	if err != nil {
		return fmt.Errorf("create user: %w", err)
	}
	if err := t.writeEmails(ctx, app, pk, u.Attributes, false); err != nil {
		return err
	}
	u.Version, u.Created, u.Modified = 1, ts, ts
	return nil
}

func (t *tx) ReplaceUser(ctx context.Context, app string, u *store.User) error {
	ts := now()
	var (
		pk      int64
		created string
	)
	err := t.q.queryRow(ctx, `UPDATE scim_users SET user_name = ?, user_name_fold = ?, external_id = ?, attrs = ?,
		version = version + 1, modified = ?
		WHERE app = ? AND id = ? RETURNING pk, version, created`,
		u.UserName, store.Fold(u.UserName), nullIfEmpty(u.ExternalID), attrsText(u.Attributes), formatTime(ts),
		app, u.ID).Scan(&pk, &u.Version, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case isUnique(err):
		return &store.ConflictError{Attribute: "userName", Value: u.UserName}
	case err != nil:
		return fmt.Errorf("replace user: %w", err)
	}
	if u.Created, err = parseTime(created); err != nil {
		return fmt.Errorf("replace user: %w", err)
	}
	u.Modified = ts
	return t.writeEmails(ctx, app, pk, u.Attributes, true)
}

// writeEmails indexes the emails inside a user's attributes.
func (t *tx) writeEmails(ctx context.Context, app string, pk int64, attrs json.RawMessage, replace bool) error {
	if replace {
		if _, err := t.q.exec(ctx, `DELETE FROM scim_user_emails WHERE user_pk = ?`, pk); err != nil {
			return fmt.Errorf("index emails: %w", err)
		}
	}
	var doc struct {
		Emails []struct {
			Value   *string `json:"value"`
			Type    *string `json:"type"`
			Display *string `json:"display"`
			Primary bool    `json:"primary"`
		} `json:"emails"`
	}
	if len(attrs) > 0 {
		if err := json.Unmarshal(attrs, &doc); err != nil {
			return fmt.Errorf("index emails: %w", err)
		}
	}
	for i, e := range doc.Emails {
		var fold any
		if e.Value != nil {
			fold = store.Fold(*e.Value)
		}
		if _, err := t.q.exec(ctx, `INSERT INTO scim_user_emails(user_pk, ord, app, value, value_fold, type, display, is_primary)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, pk, i, app, e.Value, fold, e.Type, e.Display, e.Primary); err != nil {
			return fmt.Errorf("index emails: %w", err)
		}
	}
	return nil
}

func (t *tx) DeleteUser(ctx context.Context, app, id string) error {
	res, err := t.q.exec(ctx, `DELETE FROM scim_users WHERE app = ? AND id = ?`, app, id)
	return affected(res, err, "delete user")
}

// affected maps "no row matched" to store.ErrNotFound.
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}

func (t *tx) CreateGroup(ctx context.Context, app string, g *store.Group, members []string) error {
	ts := now()
	var pk int64
	err := t.q.queryRow(ctx, `INSERT INTO scim_groups(app, id, display_name, display_name_fold, external_id, attrs, version, created, modified)
		VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?) RETURNING pk`,
		app, g.ID, g.DisplayName, store.Fold(g.DisplayName), nullIfEmpty(g.ExternalID), attrsText(g.Attributes),
		formatTime(ts), formatTime(ts)).Scan(&pk)
	if isUnique(err) {
		return &store.ConflictError{Attribute: "displayName", Value: g.DisplayName}
	}
	if err != nil {
		return fmt.Errorf("create group: %w", err)
	}
	if _, err := t.addMembers(ctx, app, pk, members); err != nil {
		return err
	}
	g.Version, g.Created, g.Modified = 1, ts, ts
	return nil
}

func (t *tx) ReplaceGroup(ctx context.Context, app string, g *store.Group) error {
	ts := now()
	var created string
	err := t.q.queryRow(ctx, `UPDATE scim_groups SET display_name = ?, display_name_fold = ?, external_id = ?, attrs = ?,
		version = version + 1, modified = ?
		WHERE app = ? AND id = ? RETURNING version, created`,
		g.DisplayName, store.Fold(g.DisplayName), nullIfEmpty(g.ExternalID), attrsText(g.Attributes), formatTime(ts),
		app, g.ID).Scan(&g.Version, &created)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case isUnique(err):
		return &store.ConflictError{Attribute: "displayName", Value: g.DisplayName}
	case err != nil:
		return fmt.Errorf("replace group: %w", err)
	}
	if g.Created, err = parseTime(created); err != nil {
		return fmt.Errorf("replace group: %w", err)
	}
	g.Modified = ts
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, app, id string) error {
	res, err := t.q.exec(ctx, `DELETE FROM scim_groups WHERE app = ? AND id = ?`, app, id)
	return affected(res, err, "delete group")
}

func (t *tx) SetUserState(ctx context.Context, app, id string, s store.UserState) error {
	var login any
	if s.LastLogin != nil {
		login = formatTime(*s.LastLogin)
	}
	res, err := t.q.exec(ctx, `INSERT INTO scim_user_state(user_pk, provisioning_state, pending_actions, last_login)
		SELECT pk, ?, ?, ? FROM scim_users WHERE app = ? AND id = ?
		ON CONFLICT(user_pk) DO UPDATE SET provisioning_state = excluded.provisioning_state,
			pending_actions = excluded.pending_actions, last_login = excluded.last_login`,
		nullIfEmpty(s.ProvisioningState), s.PendingActions, login, app, id)
	return affected(res, err, "set user state")
}

func (t *tx) CreateToken(ctx context.Context, tok store.Token) error {
	_, err := t.q.exec(ctx, `INSERT INTO scim_tokens(id, app, admin, name, hash, description, created) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tok.ID, tok.App, tok.Admin, tok.Name, tok.Hash, tok.Description, formatTime(tok.Created))
	if err != nil {
		return fmt.Errorf("create token: %w", err)
	}
	return nil
}

func (t *tx) RevokeToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.q.exec(ctx, `UPDATE scim_tokens SET revoked = coalesce(revoked, ?) WHERE id = ?`, formatTime(at), id)
	return affected(res, err, "revoke token")
}

func (t *tx) TouchToken(ctx context.Context, id string, at time.Time) error {
	res, err := t.q.exec(ctx, `UPDATE scim_tokens SET last_used = ? WHERE id = ?`, formatTime(at), id)
	return affected(res, err, "touch token")
}
