package queue

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// AuditFilter selects entries of the audit trail; empty fields select
// everything.
type AuditFilter struct {
	App string
	// User is a user's SCIM id or, case-insensitively, the user name of
	// their account (in any app, unless App is set).
	User string
	// UserID is a user's SCIM id, exactly.
	UserID string
	TaskID int64
	// After and Limit page by seq: only entries with a greater seq, at
	// most Limit of them (0: no limit).
	After int64
	Limit int
}

// AuditRecord is an entry of the audit trail with the user name of the
// account it concerns, when scimbridge keeps one.
type AuditRecord struct {
	AuditEntry
	UserName string
}

// AuditOf returns the entries of the audit trail that f selects, oldest
// first.
func (q Queue) AuditOf(ctx context.Context, f AuditFilter) ([]AuditRecord, error) {
	var (
		where []string
		args  []any
	)
	if f.App != "" {
		where = append(where, "au.app = ?")
		args = append(args, f.App)
	}
	if f.User != "" {
		// SCIM ids are unique per app only, so a user name selects the
		// (app, id) pairs of its accounts.
		where = append(where, `(au.user_id = ? OR (au.app, au.user_id) IN
			(SELECT app, user_id FROM adapter_accounts WHERE user_name = ? COLLATE NOCASE))`)
		args = append(args, f.User, f.User)
	}
	for _, c := range []struct {
		cond string
		val  any
		set  bool
	}{
		{"au.user_id = ?", f.UserID, f.UserID != ""},
		{"au.task_id = ?", f.TaskID, f.TaskID != 0},
		{"au.seq > ?", f.After, f.After > 0},
	} {
		if c.set {
			where = append(where, c.cond)
			args = append(args, c.val)
		}
	}
	// As for tasks: without the hint, ORDER BY seq draws SQLite to the
	// index of the whole app's trail.
	hint := ""
	switch {
	case f.TaskID != 0:
		hint = "INDEXED BY adapter_audit_task "
	case f.App != "" && f.UserID != "":
		hint = "INDEXED BY adapter_audit_user "
	}
	clause := ""
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ")
	}
	clause += " ORDER BY au.seq"
	if f.Limit > 0 {
		clause += " LIMIT ?"
		args = append(args, f.Limit)
	}
	rows, err := q.sql.Query(ctx, `SELECT au.seq, au.time, au.actor, au.app, au.user_id, au.task_id, au.what,
		au.from_state, au.to_state, au.reason, COALESCE(ac.user_name, '')
		FROM adapter_audit au `+hint+`LEFT JOIN adapter_accounts ac ON ac.app = au.app AND ac.user_id = au.user_id
		`+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	var out []AuditRecord
	for rows.Next() {
		var (
			r    AuditRecord
			at   sql.NullString
			task sql.NullInt64
		)
		if err := rows.Scan(&r.Seq, &at, &r.Actor, &r.App, &r.UserID, &task, &r.What, &r.From, &r.To, &r.Reason, &r.UserName); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		r.TaskID = task.Int64
		if r.Time, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}
