package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Member changes go through the (group_pk, user_pk) primary key and the
// users' (app, id) index, one lookup per named user, so that their cost
// does not grow with the group. Each change is one statement over a JSON
// list of user keys, not a statement per user: inside the writer's
// savepoint every statement's end costs in the savepoint's journal so
// far, so thousands of statements in one request would cost their square.
const (
	groupPKSQL      = `SELECT pk FROM scim_groups WHERE app = ? AND id = ?`
	lookupUsersSQL  = `SELECT j.value, u.pk FROM json_each(?) j LEFT JOIN scim_users u ON u.app = ? AND u.id = j.value ORDER BY j.key`
	insertMemberSQL = `INSERT OR IGNORE INTO scim_members(group_pk, user_pk) SELECT ?, value FROM json_each(?) RETURNING user_pk`
	deleteMemberSQL = `DELETE FROM scim_members WHERE group_pk = ? AND user_pk IN (SELECT value FROM json_each(?)) RETURNING user_pk`
)

// groupPK returns the row key of group id in app, or store.ErrNotFound.
func (t *tx) groupPK(ctx context.Context, app, id string) (int64, error) {
	var pk int64
	err := t.q.queryRow(ctx, groupPKSQL, app, id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("members: %w", err)
	}
	return pk, nil
}

// namedUser is one distinct user id of a member list and its row key.
type namedUser struct {
	id string
	pk int64
}

// lookupUsers resolves ids to row keys, in the order given, each id once.
// With strict set, an id that is not a user of app is an
// *store.UnknownMemberError; otherwise it is left out.
func (t *tx) lookupUsers(ctx context.Context, app string, ids []string, strict bool) ([]namedUser, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	rows, err := t.q.query(ctx, lookupUsersSQL, string(list), app)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var (
		out     []namedUser
		seen    = make(map[string]bool, len(ids))
		missing string
	)
	for rows.Next() {
		var (
			id string
			pk sql.NullInt64
		)
		if err := rows.Scan(&id, &pk); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		if !pk.Valid {
			if strict && missing == "" {
				missing = id
			}
			continue
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, namedUser{id: id, pk: pk.Int64})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	if missing != "" {
		var isGroup int
		if err := t.q.queryRow(ctx, `SELECT count(*) FROM scim_groups WHERE app = ? AND id = ?`, app, missing).Scan(&isGroup); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		return nil, &store.UnknownMemberError{ID: missing, Group: isGroup > 0}
	}
	return out, nil
}

// addMembers adds the users to the group and returns the ids that were
// not members before, in the order given.
func (t *tx) addMembers(ctx context.Context, app string, groupPK int64, ids []string) ([]string, error) {
	users, err := t.lookupUsers(ctx, app, ids, true)
	if err != nil {
		return nil, err
	}
	return t.insertMembers(ctx, groupPK, users)
}

// insertMembers adds resolved users to the group and returns those that
// were not members before, in the order given.
func (t *tx) insertMembers(ctx context.Context, groupPK int64, users []namedUser) ([]string, error) {
	added, err := t.changeMembers(ctx, insertMemberSQL, groupPK, users)
	if err != nil {
		return nil, fmt.Errorf("add members: %w", err)
	}
	return added, nil
}

// removeMembers removes the users from the group and returns those that
// were members, in the order given.
func (t *tx) removeMembers(ctx context.Context, groupPK int64, users []namedUser) ([]string, error) {
	removed, err := t.changeMembers(ctx, deleteMemberSQL, groupPK, users)
	if err != nil {
		return nil, fmt.Errorf("remove members: %w", err)
	}
	return removed, nil
}

// changeMembers runs an insert or delete of memberships that returns the
// user keys it changed, and returns the ids of those users in the order
// of users.
func (t *tx) changeMembers(ctx context.Context, q string, groupPK int64, users []namedUser) ([]string, error) {
	if len(users) == 0 {
		return nil, nil
	}
	pks := make([]int64, len(users))
	for i, u := range users {
		pks[i] = u.pk
	}
	list, err := json.Marshal(pks)
	if err != nil {
		return nil, err
	}
	rows, err := t.q.query(ctx, q, groupPK, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	changed := make(map[int64]bool, len(users))
	for rows.Next() {
		var pk int64
		if err := rows.Scan(&pk); err != nil {
			return nil, err
		}
		changed[pk] = true
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var ids []string
	for _, u := range users {
		if changed[u.pk] {
			ids = append(ids, u.id)
		}
	}
	return ids, nil
}

func (t *tx) AddMembers(ctx context.Context, app, groupID string, userIDs []string) ([]string, error) {
	pk, err := t.groupPK(ctx, app, groupID)
	if err != nil {
		return nil, err
	}
	return t.addMembers(ctx, app, pk, userIDs)
}

func (t *tx) RemoveMembers(ctx context.Context, app, groupID string, userIDs []string) ([]string, error) {
	pk, err := t.groupPK(ctx, app, groupID)
	if err != nil {
		return nil, err
	}
	users, err := t.lookupUsers(ctx, app, userIDs, false)
	if err != nil {
		return nil, err
	}
	return t.removeMembers(ctx, pk, users)
}

func (t *tx) RemoveMembersWhere(ctx context.Context, app, groupID string, f query.Expr) ([]string, error) {
	pk, err := t.groupPK(ctx, app, groupID)
	if err != nil {
		return nil, err
	}
	b := &builder{app: app}
	b.sql.WriteString(`SELECT mu.id, mu.pk FROM scim_members m JOIN scim_users mu ON mu.pk = m.user_pk WHERE m.group_pk = ?`)
	b.args = append(b.args, pk)
	if f != nil {
		b.sql.WriteString(" AND (")
		if err := b.element(f, memberColumn); err != nil {
			return nil, err
		}
		b.sql.WriteString(")")
	}
	b.sql.WriteString(" ORDER BY m.user_pk")
	users, err := t.selectMembers(ctx, b.sql.String(), b.args...)
	if err != nil {
		return nil, err
	}
	return t.removeMembers(ctx, pk, users)
}

func (t *tx) SetMembers(ctx context.Context, app, groupID string, userIDs []string) (added, removed []string, err error) {
	pk, err := t.groupPK(ctx, app, groupID)
	if err != nil {
		return nil, nil, err
	}
	keep, err := t.lookupUsers(ctx, app, userIDs, true)
	if err != nil {
		return nil, nil, err
	}
	pks := make([]int64, len(keep))
	for i, u := range keep {
		pks[i] = u.pk
	}
	list, err := json.Marshal(pks)
	if err != nil {
		return nil, nil, fmt.Errorf("members: %w", err)
	}
	gone, err := t.selectMembers(ctx, `SELECT mu.id, mu.pk FROM scim_members m JOIN scim_users mu ON mu.pk = m.user_pk
		WHERE m.group_pk = ? AND m.user_pk NOT IN (SELECT value FROM json_each(?)) ORDER BY m.user_pk`, pk, string(list))
	if err != nil {
		return nil, nil, err
	}
	if removed, err = t.removeMembers(ctx, pk, gone); err != nil {
		return nil, nil, err
	}
	if added, err = t.insertMembers(ctx, pk, keep); err != nil {
		return nil, nil, err
	}
	return added, removed, nil
}

// selectMembers runs a query that returns (id, pk) pairs of users.
func (t *tx) selectMembers(ctx context.Context, q string, args ...any) ([]namedUser, error) {
	rows, err := t.q.query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	defer rows.Close()
	var out []namedUser
	for rows.Next() {
		var u namedUser
		if err := rows.Scan(&u.id, &u.pk); err != nil {
			return nil, fmt.Errorf("members: %w", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("members: %w", err)
	}
	return out, nil
}
