package sqlite

import (
	"context"
	"fmt"

	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Migrations is the shadow directory's migration list.
var Migrations = migrations

// MemberStatements are the statements of the member operations whose cost
// must not grow with the group, with sample parameters.
var MemberStatements = []struct {
	SQL  string
	Args []any
}{
	{groupPKSQL, []any{"acme", "g1"}},
	{lookupUsersSQL, []any{`["u1","u2"]`, "acme"}},
	{insertMemberSQL, []any{1, `[2,3]`}},
	{deleteMemberSQL, []any{1, `[2,3]`}},
}

// ListSQL returns the list and count statements that ListUsers (resource
// "User") or ListGroups (resource "Group") runs for filter f, sort s and
// load in app, and their parameters: args for the count statement, args plus LIMIT
// and OFFSET for the list statement.
func ListSQL(resource, app string, f query.Expr, s *query.Sort, load store.Load) (list, count string, args []any, err error) {
	t, countSQL := users, countUsersSQL
	listSQL := func(where, order string) string { return listUsersSQL(where, order, load) }
	if resource == "Group" {
		t, listSQL, countSQL = groups, listGroupsSQL, countGroupsSQL
	}
	where, args, err := translate(t, app, f)
	if err != nil {
		return "", "", nil, err
	}
	order, err := orderBy(t, s)
	if err != nil {
		return "", "", nil, err
	}
	return listSQL(where, order), countSQL(where), args, nil
}

// QueryPlan returns the detail lines of EXPLAIN QUERY PLAN for q, planned
// on a read connection.
func (db *DB) QueryPlan(ctx context.Context, q string, args ...any) ([]string, error) {
	rows, err := db.read.QueryContext(ctx, "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var (
			id, parent, notUsed int
			detail              string
		)
		if err := rows.Scan(&id, &parent, &notUsed, &detail); err != nil {
			return nil, err
		}
		plan = append(plan, detail)
	}
	return plan, rows.Err()
}

// ExecWrite runs one statement in a write transaction of its own.
func (db *DB) ExecWrite(ctx context.Context, q string, args ...any) error {
	return db.writer.submit(ctx, func(*tx) error {
		if _, err := db.writer.q.exec(ctx, q, args...); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
		return nil
	})
}

// QueryInt runs a query that returns one integer on a read connection.
func (db *DB) QueryInt(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := db.read.QueryRowContext(ctx, q, args...).Scan(&n)
	return n, err
}

// ExecRead runs a query on the read pool and reads all its rows.
func (db *DB) ExecRead(ctx context.Context, q string, args ...any) (int, error) {
	rows, err := db.read.QueryContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}
