package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/query"
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

// userGroupsColumn is the user's groups as one JSON array of [id, name]
// pairs, read in the same statement as the user.
const userGroupsColumn = `(SELECT json_group_array(json_array(id, display_name)) FROM
	(SELECT g.id, g.display_name FROM scim_members m JOIN scim_groups g ON g.pk = m.group_pk
	 WHERE m.user_pk = u.pk ORDER BY m.group_pk))`

const userFrom = `scim_users u LEFT JOIN scim_user_state s ON s.user_pk = u.pk`

// userSelect is the SELECT list of a user read: the groups column only
// when they are wanted.
func userSelect(opts store.Load) string {
	if opts.Groups {
		return `SELECT ` + userColumns + `, ` + userGroupsColumn
	}
	return `SELECT ` + userColumns
}

type userRow struct {
	pk   int64
	user store.User
}

func scanUser(sc interface{ Scan(...any) error }, opts store.Load) (userRow, error) {
	var (
		r                        userRow
		ext, state, login        sql.NullString
		pending                  sql.NullInt64
		attrs, created, modified string
		groups                   sql.NullString
	)
	dest := []any{&r.pk, &r.user.ID, &r.user.UserName, &ext, &attrs, &r.user.Version, &created, &modified,
		&state, &pending, &login}
	if opts.Groups {
		dest = append(dest, &groups)
	}
	if err := sc.Scan(dest...); err != nil {
		return userRow{}, err
	}
	r.user.ExternalID = ext.String
	r.user.Attributes = json.RawMessage(attrs)
	var err error
	if r.user.Created, err = parseTime(created); err != nil {
		return userRow{}, fmt.Errorf("user %s: created: %w", r.user.ID, err)
	}
	if r.user.Modified, err = parseTime(modified); err != nil {
		return userRow{}, fmt.Errorf("user %s: modified: %w", r.user.ID, err)
	}
	if opts.State && (state.Valid || pending.Valid || login.Valid) {
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
	if groups.Valid && groups.String != "[]" {
		var pairs [][2]string
		if err := json.Unmarshal([]byte(groups.String), &pairs); err != nil {
			return userRow{}, fmt.Errorf("user %s: groups: %w", r.user.ID, err)
		}
		r.user.Groups = make([]store.GroupRef, len(pairs))
		for i, p := range pairs {
			r.user.Groups[i] = store.GroupRef{ID: p[0], DisplayName: p[1]}
		}
	}
	return r, nil
}

func (r reader) GetUser(ctx context.Context, app, id string, opts store.Load) (store.User, error) {
	row, err := scanUser(r.q.queryRow(ctx, userSelect(opts)+` FROM `+userFrom+` WHERE u.app = ? AND u.id = ?`, app, id), opts)
	if errors.Is(err, sql.ErrNoRows) {
		return store.User{}, store.ErrNotFound
	}
	if err != nil {
		return store.User{}, fmt.Errorf("get user: %w", err)
	}
	return row.user, nil
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
		rows, err := r.q.query(ctx, listUsersSQL(where, order, q.Load), append(args, q.Count, q.StartIndex-1)...)
		if err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		for rows.Next() {
			row, err := scanUser(rows, q.Load)
			if err != nil {
				rows.Close()
				return page, fmt.Errorf("list users: %w", err)
			}
			page.Resources = append(page.Resources, row.user)
		}
		if err := rows.Close(); err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		if err := rows.Err(); err != nil {
			return page, fmt.Errorf("list users: %w", err)
		}
		if total, ok := knownTotal(q, len(page.Resources)); ok {
			page.Total = total
			return page, nil
		}
	}
	if page.Total, err = r.count(ctx, "scim_users", countUsersSQL(where), app, q.Filter, args); err != nil {
		return page, fmt.Errorf("count users: %w", err)
	}
	return page, nil
}

// count returns the number of rows a list matches: from the per-app
// counters when there is no filter, by counting otherwise.
func (r reader) count(ctx context.Context, table, countSQL, app string, f query.Expr, args []any) (int, error) {
	var n int
	if f == nil {
		err := r.q.queryRow(ctx, `SELECT n FROM scim_counts WHERE tbl = ? AND app = ?`, table, app).Scan(&n)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil
		}
		return n, err
	}
	err := r.q.queryRow(ctx, countSQL, args...).Scan(&n)
	return n, err
}

// The list and count statements, built from translate's WHERE clause and
// orderBy's ORDER BY list. The list statement takes LIMIT and OFFSET as its
// last two parameters. It pages over primary keys alone first, so that
// rows skipped by OFFSET are never read whole (a deferred join).
func listUsersSQL(where, order string, opts store.Load) string {
	return userSelect(opts) + ` FROM ` + userFrom + ` WHERE u.pk IN (SELECT u.pk FROM scim_users u WHERE ` + where +
		` ORDER BY ` + order + ` LIMIT ? OFFSET ?) ORDER BY ` + order
}

func countUsersSQL(where string) string { return `SELECT count(*) FROM scim_users u WHERE ` + where }

func listGroupsSQL(where, order string) string {
	return `SELECT ` + groupColumns + ` FROM scim_groups g WHERE g.pk IN (SELECT g.pk FROM scim_groups g WHERE ` + where +
		` ORDER BY ` + order + ` LIMIT ? OFFSET ?) ORDER BY ` + order
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
	if page.Total, err = r.count(ctx, "scim_groups", countGroupsSQL(where), app, q.Filter, args); err != nil {
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
	rs, err := r.q.query(ctx, `SELECT m.group_pk, u.id, `+memberDisplay+`
		FROM scim_members m JOIN scim_users u INDEXED BY scim_users_member ON u.pk = m.user_pk
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

const tokenColumns = `id, app, admin, name, hash, description, created, last_used, revoked`

func scanToken(sc interface{ Scan(...any) error }) (store.Token, error) {
	var (
		t               store.Token
		created         string
		lastUsed, revok sql.NullString
	)
	if err := sc.Scan(&t.ID, &t.App, &t.Admin, &t.Name, &t.Hash, &t.Description, &created, &lastUsed, &revok); err != nil {
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
	rows, err := r.q.query(ctx, `SELECT `+tokenColumns+` FROM scim_tokens ORDER BY admin, app, created, id`)
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
