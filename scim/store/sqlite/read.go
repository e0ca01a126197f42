package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
)

// timeLayout is fixed-width UTC, so stored times compare as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

// reader implements store.Reader over a querier.
type reader struct{ q querier }

const userColumns = `u.pk, u.id, u.user_name, u.external_id, u.attrs, u.version, u.created, u.modified,
	s.provisioning_state, s.pending_actions, s.last_login`

const userFrom = `scim_users u LEFT JOIN scim_user_state s ON s.user_pk = u.pk`

type userRow struct {
	pk   int64
	user store.User
}

func scanUser(sc interface{ Scan(...any) error }) (userRow, error) {
	var (
		r                        userRow
		ext, state, login        sql.NullString
		pending                  sql.NullInt64
		attrs, created, modified string
	)
	err := sc.Scan(&r.pk, &r.user.ID, &r.user.UserName, &ext, &attrs, &r.user.Version, &created, &modified,
		&state, &pending, &login)
	if err != nil {
		return userRow{}, err
	}
	r.user.ExternalID = ext.String
	r.user.Attributes = json.RawMessage(attrs)
	if r.user.Created, err = parseTime(created); err != nil {
		return userRow{}, fmt.Errorf("user %s: created: %w", r.user.ID, err)
	}
	if r.user.Modified, err = parseTime(modified); err != nil {
		return userRow{}, fmt.Errorf("user %s: modified: %w", r.user.ID, err)
	}
	if state.Valid || pending.Valid || login.Valid {
		st := &store.UserState{ProvisioningState: state.String, PendingActions: int(pending.Int64)}
		if login.Valid {
			t, err := parseTime(login.String)
			if err != nil {
				return userRow{}, fmt.Errorf("user %s: last login: %w", r.user.ID, err)
			}
			st.LastLogin = &t
		}
		r.user.State = st
	}
	return r, nil
}

func (r reader) GetUser(ctx context.Context, app, id string, opts store.Load) (store.User, error) {
	row, err := scanUser(r.q.queryRow(ctx, `SELECT `+userColumns+` FROM `+userFrom+` WHERE u.app = ? AND u.id = ?`, app, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	rows := []userRow{row}
	if err := r.finishUsers(ctx, rows, opts); err != nil {
		return store.User{}, err
	}
	return rows[0].user, nil
}

func (r reader) ListUsers(ctx context.Context, app string, q store.List) (store.Page[store.User], error) {
	q.StartIndex = max(q.StartIndex, 1)
	where, args, err := translate(users, app, q.Filter)
	if err != nil {
		return store.Page[store.User]{}, err
	}
	order, err := orderBy(users, q.Sort)
	if err != nil {
		return store.Page[store.User]{}, err
	}
	var page store.Page[store.User]
	if q.Count > 0 {
		rows, err := r.q.query(ctx, listUsersSQL(where, order), append(args, q.Count, q.StartIndex-1)...)
		if err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		var found []userRow
		for rows.Next() {
			row, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return page, fmt.Errorf("list users: %w", err)
			}
			found = append(found, row)
		}
		if err := rows.Close(); err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		if err := rows.Err(); err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		if err := r.finishUsers(ctx, found, q.Load); err != nil {
			return page, err
		}
		page.Resources = make([]store.User, len(found))
		for i := range found {
			page.Resources[i] = found[i].user
		}
		if total, ok := knownTotal(q, len(found)); ok {
			page.Total = total
			return page, nil
		}
	}
	if err := r.q.queryRow(ctx, countUsersSQL(where), args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count users: %w", err)
	}
	return page, nil
}

// The list and count statements, built from translate's WHERE clause and
// orderBy's ORDER BY list. The list statement takes LIMIT and OFFSET as its
// last two parameters.
func listUsersSQL(where, order string) string {
	return `SELECT ` + userColumns + ` FROM ` + userFrom + ` WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
}

func countUsersSQL(where string) string { return `SELECT count(*) FROM scim_users u WHERE ` + where }

func listGroupsSQL(where, order string) string {
	return `SELECT ` + groupColumns + ` FROM scim_groups g WHERE ` + where + ` ORDER BY ` + order + ` LIMIT ? OFFSET ?`
}

func countGroupsSQL(where string) string { return `SELECT count(*) FROM scim_groups g WHERE ` + where }

// knownTotal works out the total from a page that was not full, which
// saves a count over the whole result.
func knownTotal(q store.List, n int) (int, bool) {
	if n > 0 && n < q.Count {
		return q.StartIndex - 1 + n, true
	}
	if n == 0 && q.StartIndex <= 1 {
		return 0, true
	}
	return 0, false
}

// finishUsers loads what opts asks for beyond the user rows.
func (r reader) finishUsers(ctx context.Context, rows []userRow, opts store.Load) error {
	if !opts.State {
		for i := range rows {
			rows[i].user.State = nil
		}
	}
	if !opts.Groups || len(rows) == 0 {
		return nil
	}
	byPK := make(map[int64]int, len(rows))
	pks := make([]int64, len(rows))
	for i, row := range rows {
		byPK[row.pk] = i
		pks[i] = row.pk
	}
	list, _ := json.Marshal(pks)
	rs, err := r.q.query(ctx, `SELECT m.user_pk, g.id, g.display_name
		FROM scim_members m JOIN scim_groups g ON g.pk = m.group_pk
		WHERE m.user_pk IN (SELECT value FROM json_each(?))
		ORDER BY m.user_pk, g.pk`, string(list))
	if err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			pk  int64
			ref store.GroupRef
		)
		if err := rs.Scan(&pk, &ref.ID, &ref.DisplayName); err != nil {
			return fmt.Errorf("load groups: %w", err)
		}
		u := &rows[byPK[pk]].user
		u.Groups = append(u.Groups, ref)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("load groups: %w", err)
	}
	return nil
}

const groupColumns = `g.pk, g.id, g.display_name, g.external_id, g.attrs, g.version, g.created, g.modified`

type groupRow struct {
	pk    int64
	group store.Group
}

func scanGroup(sc interface{ Scan(...any) error }) (groupRow, error) {
	var (
		r                        groupRow
		ext                      sql.NullString
		attrs, created, modified string
	)
	if err := sc.Scan(&r.pk, &r.group.ID, &r.group.DisplayName, &ext, &attrs, &r.group.Version, &created, &modified); err != nil {
		return groupRow{}, err
	}
	r.group.ExternalID = ext.String
	r.group.Attributes = json.RawMessage(attrs)
	var err error
	if r.group.Created, err = parseTime(created); err != nil {
		return groupRow{}, fmt.Errorf("group %s: created: %w", r.group.ID, err)
	}
	if r.group.Modified, err = parseTime(modified); err != nil {
		return groupRow{}, fmt.Errorf("group %s: modified: %w", r.group.ID, err)
	}
	return r, nil
}

func (r reader) GetGroup(ctx context.Context, app, id string, opts store.Load) (store.Group, error) {
	row, err := scanGroup(r.q.queryRow(ctx, `SELECT `+groupColumns+` FROM scim_groups g WHERE g.app = ? AND g.id = ?`, app, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Group{}, store.ErrNotFound
	}
	if err != nil {
		return store.Group{}, fmt.Errorf("get group: %w", err)
	}
	rows := []groupRow{row}
	if opts.Members {
		if err := r.loadMembers(ctx, rows); err != nil {
			return store.Group{}, err
		}
	}
	return rows[0].group, nil
}

func (r reader) ListGroups(ctx context.Context, app string, q store.List) (store.Page[store.Group], error) {
	q.StartIndex = max(q.StartIndex, 1)
	where, args, err := translate(groups, app, q.Filter)
	if err != nil {
		return store.Page[store.Group]{}, err
	}
	order, err := orderBy(groups, q.Sort)
	if err != nil {
		return store.Page[store.Group]{}, err
	}
	var page store.Page[store.Group]
	if q.Count > 0 {
		rows, err := r.q.query(ctx, listGroupsSQL(where, order), append(args, q.Count, q.StartIndex-1)...)
		if err != nil {
			return page, fmt.Errorf("list groups: %w", err)
		}
		var found []groupRow
		for rows.Next() {
			row, err := scanGroup(rows)
			if err != nil {
				rows.Close()
				return page, fmt.Errorf("list groups: %w", err)
			}
			found = append(found, row)
		}
		if err := rows.Close(); err != nil {
			return page, fmt.Errorf("list groups: %w", err)
		}
		if err := rows.Err(); err != nil {
			return page, fmt.Errorf("list groups: %w", err)
		}
		if q.Load.Members && len(found) > 0 {
			if err := r.loadMembers(ctx, found); err != nil {
				return page, err
			}
		}
		page.Resources = make([]store.Group, len(found))
		for i := range found {
			page.Resources[i] = found[i].group
		}
		if total, ok := knownTotal(q, len(found)); ok {
			page.Total = total
			return page, nil
		}
	}
	if err := r.q.queryRow(ctx, countGroupsSQL(where), args...).Scan(&page.Total); err != nil {
		return page, fmt.Errorf("count groups: %w", err)
	}
	return page, nil
}

func (r reader) loadMembers(ctx context.Context, rows []groupRow) error {
	byPK := make(map[int64]int, len(rows))
	pks := make([]int64, len(rows))
	for i, row := range rows {
		byPK[row.pk] = i
		pks[i] = row.pk
	}
	list, _ := json.Marshal(pks)
	rs, err := r.q.query(ctx, `SELECT m.group_pk, u.id, coalesce(nullif(json_extract(u.attrs, '$.displayName'), ''), u.user_name)
		FROM scim_members m JOIN scim_users u ON u.pk = m.user_pk
		WHERE m.group_pk IN (SELECT value FROM json_each(?))
		ORDER BY m.group_pk, m.user_pk`, string(list))
	if err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	defer rs.Close()
	for rs.Next() {
		var (
			pk int64
			m  store.Member
		)
		if err := rs.Scan(&pk, &m.ID, &m.Display); err != nil {
			return fmt.Errorf("load members: %w", err)
		}
		g := &rows[byPK[pk]].group
		g.Members = append(g.Members, m)
	}
	if err := rs.Err(); err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	return nil
}

const tokenColumns = `id, app, hash, description, created, last_used, revoked`

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t               store.Token
		created         string
		lastUsed, revok sql.NullString
	)
	if err := sc.Scan(&t.ID, &t.App, &t.Hash, &t.Description, &created, &lastUsed, &revok); err != nil {
		return store.Token{}, err
	}
	var err error
	if t.Created, err = parseTime(created); err != nil {
		return store.Token{}, fmt.Errorf("token %s: %w", t.ID, err)
	}
	for _, f := range []struct {
		s   sql.NullString
		dst **time.Time
	}{{lastUsed, &t.LastUsed}, {revok, &t.Revoked}} {
		if f.s.Valid {
			v, err := parseTime(f.s.String)
			if err != nil {
				return store.Token{}, fmt.Errorf("token %s: %w", t.ID, err)
			}
			*f.dst = &v
		}
	}
	return t, nil
}

func (r reader) GetToken(ctx context.Context, id string) (store.Token, error) {
	t, err := scanToken(r.q.queryRow(ctx, `SELECT `+tokenColumns+` FROM scim_tokens WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Token{}, store.ErrNotFound
	}
	if err != nil {
		return store.Token{}, fmt.Errorf("get token: %w", err)
	}
	return t, nil
}

func (r reader) ListTokens(ctx context.Context) ([]store.Token, error) {
	rows, err := r.q.query(ctx, `SELECT `+tokenColumns+` FROM scim_tokens ORDER BY app, created, id`)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []store.Token
	for rows.Next() {
		t, err := scanToken(rows)
		if err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// jsonPath renders a JSON path of canonical attribute names, all quoted
// (extension URNs contain dots and colons).
func jsonPath(names ...string) string {
	var b strings.Builder
	b.WriteString("$")
	for _, n := range names {
		b.WriteString(`."`)
		b.WriteString(n)
		b.WriteString(`"`)
	}
	return b.String()
}
