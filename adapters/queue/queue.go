// Package queue keeps accounts, tasks and their audit trail in tables of
// their own in scimbridge's database file, so that they change in the
// same transaction as the shadow directory and its outbox.
package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// migrations of the queue's tables; a released step is never edited.
var migrations = []string{
	`CREATE TABLE adapter_accounts (
		app TEXT NOT NULL,
		user_id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		email TEXT NOT NULL,
		state TEXT NOT NULL,
		desired_exists INTEGER NOT NULL,
		desired_active INTEGER NOT NULL,
		desired_role TEXT NOT NULL,
		observed_exists INTEGER NOT NULL,
		observed_active INTEGER NOT NULL,
		observed_role TEXT NOT NULL,
		observed_source TEXT NOT NULL,
		observed_at TEXT,
		updated TEXT NOT NULL,
		PRIMARY KEY (app, user_id)
	) WITHOUT ROWID;
	CREATE INDEX adapter_accounts_state ON adapter_accounts(app, state);

	CREATE TABLE adapter_tasks (
		id INTEGER PRIMARY KEY,
		app TEXT NOT NULL,
		user_id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		kind TEXT NOT NULL,
		status TEXT NOT NULL,
		role TEXT NOT NULL,
		previous_role TEXT NOT NULL,
		steps TEXT NOT NULL,
		assignee TEXT NOT NULL,
		due TEXT,
		created TEXT NOT NULL,
		updated TEXT NOT NULL,
		note TEXT NOT NULL,
		evidence TEXT NOT NULL,
		by TEXT NOT NULL,
		superseded_by INTEGER
	);
	CREATE INDEX adapter_tasks_user ON adapter_tasks(app, user_id, status);
	CREATE INDEX adapter_tasks_status ON adapter_tasks(status, app, due);

	-- Append-only: every change of a task or an account, by whom and why.
	CREATE TABLE adapter_audit (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		time TEXT NOT NULL,
		actor TEXT NOT NULL,
		app TEXT NOT NULL,
		user_id TEXT NOT NULL,
		task_id INTEGER,
		what TEXT NOT NULL,
		from_state TEXT NOT NULL,
		to_state TEXT NOT NULL,
		reason TEXT NOT NULL
	);
	CREATE INDEX adapter_audit_user ON adapter_audit(app, user_id, seq);`,

	// The notification outbox (see notify.go), and when each task was
	// flagged overdue, so that it is flagged once.
	`CREATE TABLE adapter_notifications (
		id INTEGER PRIMARY KEY,
		kind TEXT NOT NULL,
		app TEXT NOT NULL,
		task_id INTEGER,
		payload TEXT NOT NULL,
		created TEXT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt TEXT,
		delivered TEXT,
		last_error TEXT NOT NULL DEFAULT '',
		sent_to TEXT NOT NULL DEFAULT '[]'
	);
	CREATE INDEX adapter_notifications_due ON adapter_notifications(next_attempt) WHERE delivered IS NULL;
	ALTER TABLE adapter_tasks ADD COLUMN overdue_notified TEXT;
	CREATE INDEX adapter_tasks_overdue ON adapter_tasks(due)
		WHERE overdue_notified IS NULL AND status IN ('awaiting_approval', 'open', 'claimed');`,

	// Drift an import of an app's user list found (see drift.go): one row
	// per app, lower-cased email and kind, kept after it is resolved so
	// that it can be listed later.
	`CREATE TABLE adapter_drift (
		app TEXT NOT NULL,
		email TEXT NOT NULL,
		kind TEXT NOT NULL,
		user_id TEXT NOT NULL,
		detail TEXT NOT NULL,
		first_seen TEXT NOT NULL,
		last_seen TEXT NOT NULL,
		resolved TEXT,
		PRIMARY KEY (app, email, kind)
	) WITHOUT ROWID;`,

	// Pages of one app's tasks and audit trail come out of these in id
	// order, so that a page costs its own rows rather than a sort of all.
	`CREATE INDEX adapter_tasks_app ON adapter_tasks(app);
	CREATE INDEX adapter_tasks_app_status ON adapter_tasks(app, status);
	CREATE INDEX adapter_audit_app ON adapter_audit(app);
	CREATE INDEX adapter_audit_task ON adapter_audit(task_id) WHERE task_id IS NOT NULL;`,

	// Just-in-time apps and seats: when the user last signed in to the
	// app, and why an account is blocked. Tasks an executor carries out by
	// itself (executor other than manual) keep their retry state.
	`ALTER TABLE adapter_accounts ADD COLUMN last_login TEXT;
	ALTER TABLE adapter_accounts ADD COLUMN blocked_reason TEXT NOT NULL DEFAULT '';
	CREATE INDEX adapter_accounts_blocked ON adapter_accounts(app, updated) WHERE state = 'blocked';
	ALTER TABLE adapter_tasks ADD COLUMN executor TEXT NOT NULL DEFAULT 'manual';
	ALTER TABLE adapter_tasks ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE adapter_tasks ADD COLUMN next_attempt TEXT;
	ALTER TABLE adapter_tasks ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
	CREATE INDEX adapter_tasks_automatic ON adapter_tasks(next_attempt)
		WHERE executor <> 'manual' AND status = 'open';`,

	// Modules that went over a limit the app does not enforce, so that
	// the over-provisioning is notified once, until it ends.
	`CREATE TABLE adapter_seat_flags (
		app TEXT NOT NULL,
		module TEXT NOT NULL,
		flagged TEXT NOT NULL,
		PRIMARY KEY (app, module)
	) WITHOUT ROWID;`,

	// The app's own id of an account, as its API gave it, and the further
	// values of an action (a JSON object, such as a reassignment target).
	`ALTER TABLE adapter_accounts ADD COLUMN app_user_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE adapter_tasks ADD COLUMN params TEXT NOT NULL DEFAULT '{}';`,

	// Whether a leaver's items were reassigned.
	`ALTER TABLE adapter_accounts ADD COLUMN observed_reassigned INTEGER NOT NULL DEFAULT 0;`,

	// What a deactivation dropped, as JSON, until it is restored; the
	// address the account has in the app.
	`ALTER TABLE adapter_accounts ADD COLUMN snapshot TEXT NOT NULL DEFAULT '';
	ALTER TABLE adapter_accounts ADD COLUMN observed_email TEXT NOT NULL DEFAULT '';`,

	// Pages of an app's accounts by user name.
	`CREATE INDEX adapter_accounts_name ON adapter_accounts(app, user_name, user_id);`,

	// The console's overview counts an app's overdue tasks and its tasks
	// by day from these alone, without reading the tasks.
	`CREATE INDEX adapter_tasks_app_due ON adapter_tasks(app, status, due);
	CREATE INDEX adapter_tasks_app_created ON adapter_tasks(app, created);`,

	// Counters that triggers keep: accounts by state, tasks by status,
	// tasks opened and finished per day, per app. The console's overview
	// reads them instead of counting a big app's rows on every view.
	// Accounts and tasks are never deleted, so inserts and changes are all
	// the triggers follow.
	`CREATE TABLE adapter_counts (
		app TEXT NOT NULL,
		what TEXT NOT NULL,
		key TEXT NOT NULL,
		n INTEGER NOT NULL,
		PRIMARY KEY (app, what, key)
	) WITHOUT ROWID;
	INSERT INTO adapter_counts(app, what, key, n) SELECT app, 'account', state, COUNT(*) FROM adapter_accounts GROUP BY app, state;
	INSERT INTO adapter_counts(app, what, key, n) SELECT app, 'task', status, COUNT(*) FROM adapter_tasks GROUP BY app, status;
	INSERT INTO adapter_counts(app, what, key, n) SELECT app, 'opened', substr(created, 1, 10), COUNT(*) FROM adapter_tasks GROUP BY 1, 3;
	INSERT INTO adapter_counts(app, what, key, n) SELECT app, 'finished', substr(updated, 1, 10), COUNT(*) FROM adapter_tasks
		WHERE status IN ('done', 'verified') GROUP BY 1, 3;
	CREATE TRIGGER adapter_accounts_counted AFTER INSERT ON adapter_accounts BEGIN
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'account', NEW.state, 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER adapter_accounts_recounted AFTER UPDATE OF state ON adapter_accounts WHEN OLD.state <> NEW.state BEGIN
		UPDATE adapter_counts SET n = n - 1 WHERE app = OLD.app AND what = 'account' AND key = OLD.state;
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'account', NEW.state, 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER adapter_tasks_counted AFTER INSERT ON adapter_tasks BEGIN
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'task', NEW.status, 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'opened', substr(NEW.created, 1, 10), 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER adapter_tasks_recounted AFTER UPDATE OF status ON adapter_tasks WHEN OLD.status <> NEW.status BEGIN
		UPDATE adapter_counts SET n = n - 1 WHERE app = OLD.app AND what = 'task' AND key = OLD.status;
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'task', NEW.status, 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER adapter_tasks_finished AFTER UPDATE OF status ON adapter_tasks
		WHEN NEW.status = 'done' OR (NEW.status = 'verified' AND OLD.status <> 'done') BEGIN
		INSERT INTO adapter_counts(app, what, key, n) VALUES (NEW.app, 'finished', substr(NEW.updated, 1, 10), 1)
			ON CONFLICT(app, what, key) DO UPDATE SET n = n + 1;
	END;`,

	// Files an admin gave as evidence when finishing a task; the bytes sit
	// beside the task so that a backup of the one file holds them too.
	`CREATE TABLE adapter_evidence (
		id INTEGER PRIMARY KEY,
		task_id INTEGER NOT NULL REFERENCES adapter_tasks(id),
		name TEXT NOT NULL,
		type TEXT NOT NULL,
		size INTEGER NOT NULL,
		sha256 TEXT NOT NULL,
		data BLOB NOT NULL,
		by TEXT NOT NULL,
		at TEXT NOT NULL
	);
	CREATE INDEX adapter_evidence_task ON adapter_evidence(task_id, id);`,
}

// Migrate creates or updates the queue's tables.
func Migrate(ctx context.Context, db *sqlite.DB) error {
	return sqlite.Migrate(ctx, db, "adapters", migrations)
}

// Queue reads and writes the queue through one SQL: a write transaction's
// (sqlite.TxSQL) or the read pool's.
type Queue struct {
	sql sqlite.SQL
	now func() time.Time
}

// In returns the queue over s.
func In(s sqlite.SQL) Queue {
	return Queue{sql: s, now: func() time.Time { return time.Now().UTC() }}
}

// ErrNotFound means no such task.
var ErrNotFound = errors.New("no such task")

const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s sql.NullString) (time.Time, error) {
	if !s.Valid {
		return time.Time{}, nil
	}
	return time.Parse(timeLayout, s.String)
}

const accountColumns = `app, user_id, user_name, email, state, desired_exists, desired_active, desired_role,
	observed_exists, observed_active, observed_role, observed_source, observed_at, updated, last_login, blocked_reason, app_user_id, observed_reassigned, snapshot, observed_email`

func scanAccount(sc interface{ Scan(...any) error }) (account.Account, error) {
	var (
		a                  account.Account
		at, updated, login sql.NullString
		snapshot           string
	)
	err := sc.Scan(&a.App, &a.UserID, &a.UserName, &a.Email, &a.State,
		&a.Desired.Exists, &a.Desired.Active, &a.Desired.Role,
		&a.Observed.Exists, &a.Observed.Active, &a.Observed.Role, &a.Observed.Source, &at, &updated, &login, &a.BlockedReason,
		&a.AppUserID, &a.Observed.Reassigned, &snapshot, &a.Observed.Email)
	if err != nil {
		return a, err
	}
	if snapshot != "" {
		a.Observed.Snapshot = &account.Snapshot{}
		if err := json.Unmarshal([]byte(snapshot), a.Observed.Snapshot); err != nil {
			return a, fmt.Errorf("account snapshot: %w", err)
		}
	}
	if a.Observed.At, err = parseTime(at); err != nil {
		return a, err
	}
	if a.LastLogin, err = parseTime(login); err != nil {
		return a, err
	}
	a.Updated, err = parseTime(updated)
	return a, err
}

// Account returns the account of user in app; found is false when there
// is none yet.
func (q Queue) Account(ctx context.Context, app, userID string) (a account.Account, found bool, err error) {
	a, err = scanAccount(q.sql.QueryRow(ctx, `SELECT `+accountColumns+` FROM adapter_accounts WHERE app = ? AND user_id = ?`, app, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, false, nil
	}
	if err != nil {
		return account.Account{}, false, fmt.Errorf("read account: %w", err)
	}
	return a, true, nil
}

// Accounts lists the accounts of app by user name.
func (q Queue) Accounts(ctx context.Context, app string) ([]account.Account, error) {
	return q.accounts(ctx, `SELECT `+accountColumns+` FROM adapter_accounts WHERE app = ? ORDER BY user_name, user_id`, app)
}

func (q Queue) accounts(ctx context.Context, query string, args ...any) ([]account.Account, error) {
	rows, err := q.sql.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []account.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("list accounts: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// PutAccount stores a, recording a change of state in the audit trail.
func (q Queue) PutAccount(ctx context.Context, a *account.Account, actor, reason string) error {
	old, found, err := q.Account(ctx, a.App, a.UserID)
	if err != nil {
		return err
	}
	a.Updated = q.now()
	snapshot := ""
	if !a.Observed.Snapshot.Empty() {
		b, err := json.Marshal(a.Observed.Snapshot)
		if err != nil {
			return fmt.Errorf("store account: %w", err)
		}
		snapshot = string(b)
	}
	_, err = q.sql.Exec(ctx, `INSERT INTO adapter_accounts(`+accountColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT(app, user_id) DO UPDATE SET user_name = excluded.user_name, email = excluded.email, state = excluded.state,
			desired_exists = excluded.desired_exists, desired_active = excluded.desired_active, desired_role = excluded.desired_role,
			observed_exists = excluded.observed_exists, observed_active = excluded.observed_active, observed_role = excluded.observed_role,
			observed_source = excluded.observed_source, observed_at = excluded.observed_at, updated = excluded.updated,
			last_login = excluded.last_login, blocked_reason = excluded.blocked_reason, app_user_id = excluded.app_user_id,
			observed_reassigned = excluded.observed_reassigned, snapshot = excluded.snapshot,
			observed_email = excluded.observed_email`,
		a.App, a.UserID, a.UserName, a.Email, a.State, a.Desired.Exists, a.Desired.Active, a.Desired.Role,
		a.Observed.Exists, a.Observed.Active, a.Observed.Role, a.Observed.Source, formatTime(a.Observed.At), formatTime(a.Updated),
		formatTime(a.LastLogin), a.BlockedReason, a.AppUserID, a.Observed.Reassigned, snapshot, a.Observed.Email)
	if err != nil {
		return fmt.Errorf("store account: %w", err)
	}
	if !found || old.State != a.State {
		if a.State == account.Blocked && a.BlockedReason != "" {
			reason += ": " + a.BlockedReason
		}
		return q.audit(ctx, actor, a.App, a.UserID, 0, "account", string(old.State), string(a.State), reason)
	}
	return nil
}

func (q Queue) audit(ctx context.Context, actor, app, userID string, taskID int64, what, from, to, reason string) error {
	var id any
	if taskID != 0 {
		id = taskID
	}
	_, err := q.sql.Exec(ctx, `INSERT INTO adapter_audit(time, actor, app, user_id, task_id, what, from_state, to_state, reason)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, formatTime(q.now()), actor, app, userID, id, what, from, to, reason)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	return nil
}

const taskColumns = `id, app, user_id, user_name, kind, status, role, previous_role, steps, assignee, due, created, updated,
	note, evidence, by, superseded_by, executor, attempts, next_attempt, last_error, params`

func scanTask(sc interface{ Scan(...any) error }) (task.Task, error) {
	var (
		t                     task.Task
		steps, params         string
		due, created, updated sql.NullString
		next                  sql.NullString
		supersededBy          sql.NullInt64
	)
	err := sc.Scan(&t.ID, &t.App, &t.UserID, &t.UserName, &t.Kind, &t.Status, &t.Role, &t.PreviousRole, &steps,
		&t.Assignee, &due, &created, &updated, &t.Note, &t.Evidence, &t.By, &supersededBy,
		&t.Executor, &t.Attempts, &next, &t.LastError, &params)
	if err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(steps), &t.Steps); err != nil {
		return t, fmt.Errorf("task %d steps: %w", t.ID, err)
	}
	if err := json.Unmarshal([]byte(params), &t.Params); err != nil {
		return t, fmt.Errorf("task %d params: %w", t.ID, err)
	}
	if len(t.Params) == 0 {
		t.Params = nil
	}
	t.SupersededBy = supersededBy.Int64
	for _, f := range []struct {
		s   sql.NullString
		dst *time.Time
	}{{due, &t.Due}, {created, &t.Created}, {updated, &t.Updated}, {next, &t.NextAttempt}} {
		if *f.dst, err = parseTime(f.s); err != nil {
			return t, fmt.Errorf("task %d: %w", t.ID, err)
		}
	}
	return t, nil
}

// AddTask stores a new task, assigning its ID and times.
func (q Queue) AddTask(ctx context.Context, t *task.Task, actor, reason string) error {
	steps, err := json.Marshal(t.Steps)
	if err != nil {
		return fmt.Errorf("add task: %w", err)
	}
	t.Created = q.now()
	t.Updated, t.By = t.Created, actor
	if t.Executor == "" {
		t.Executor = task.Manual
	}
	params := []byte("{}")
	if len(t.Params) > 0 {
		if params, err = json.Marshal(t.Params); err != nil {
			return fmt.Errorf("add task: %w", err)
		}
	}
	err = q.sql.QueryRow(ctx, `INSERT INTO adapter_tasks(app, user_id, user_name, kind, status, role, previous_role, steps,
		assignee, due, created, updated, note, evidence, by, executor, next_attempt, params)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.App, t.UserID, t.UserName, t.Kind, t.Status, t.Role, t.PreviousRole, string(steps),
		t.Assignee, formatTime(t.Due), formatTime(t.Created), formatTime(t.Updated), t.Note, t.Evidence, t.By,
		t.Executor, formatTime(t.NextAttempt), string(params)).Scan(&t.ID)
	if err != nil {
		return fmt.Errorf("add task: %w", err)
	}
	return q.audit(ctx, actor, t.App, t.UserID, t.ID, "task "+t.Kind, "", string(t.Status), reason)
}

// Task returns the task with id, or ErrNotFound.
func (q Queue) Task(ctx context.Context, id int64) (task.Task, error) {
	t, err := scanTask(q.sql.QueryRow(ctx, `SELECT `+taskColumns+` FROM adapter_tasks WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return task.Task{}, fmt.Errorf("task %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return task.Task{}, fmt.Errorf("read task %d: %w", id, err)
	}
	return t, nil
}

// Pending returns the tasks of user in app that still wait for someone,
// oldest first.
func (q Queue) Pending(ctx context.Context, app, userID string) ([]task.Task, error) {
	return q.list(ctx, byUser+`WHERE app = ? AND user_id = ? AND `+pendingSQL+` ORDER BY id`, app, userID)
}

// LastClosed returns the newest task of user in app that no longer waits
// for anyone; found is false when there is none.
func (q Queue) LastClosed(ctx context.Context, app, userID string) (t task.Task, found bool, err error) {
	list, err := q.list(ctx, byUser+`WHERE app = ? AND user_id = ? AND NOT `+pendingSQL+` ORDER BY id DESC LIMIT 1`, app, userID)
	if err != nil || len(list) == 0 {
		return task.Task{}, false, err
	}
	return list[0], true, nil
}

// Filter selects tasks to list; empty fields select everything.
type Filter struct {
	App    string
	Status task.Status
	// Pending selects the tasks that wait for someone (awaiting approval,
	// open or claimed); it cannot be combined with Status.
	Pending bool
	UserID  string
	// Kind and Assignee select tasks of one action kind and one assignee.
	Kind, Assignee string
	// OverdueAt, when set, selects the pending tasks whose deadline is
	// before it.
	OverdueAt time.Time
	// After and Limit page by id: only tasks with a greater id, at most
	// Limit of them (0: no limit).
	After int64
	Limit int
}

// Tasks lists the tasks that f selects, oldest first.
func (q Queue) Tasks(ctx context.Context, f Filter) ([]task.Task, error) {
	var (
		where []string
		args  []any
	)
	for _, c := range []struct{ col, val string }{{"app", f.App}, {"status", string(f.Status)}, {"user_id", f.UserID},
		{"kind", f.Kind}, {"assignee", f.Assignee}} {
		if c.val != "" {
			where = append(where, c.col+" = ?")
			args = append(args, c.val)
		}
	}
	if f.Pending {
		where = append(where, pendingSQL)
	}
	if !f.OverdueAt.IsZero() {
		where = append(where, pendingSQL+" AND due IS NOT NULL AND due < ?")
		args = append(args, formatTime(f.OverdueAt))
	}
	if f.After > 0 {
		where = append(where, "id > ?")
		args = append(args, f.After)
	}
	clause := "ORDER BY id"
	if len(where) > 0 {
		clause = "WHERE " + strings.Join(where, " AND ") + " " + clause
	}
	if f.App != "" && f.UserID != "" {
		clause = byUser + clause
	}
	if f.Limit > 0 {
		clause += " LIMIT ?"
		args = append(args, f.Limit)
	}
	return q.list(ctx, clause, args...)
}

const pendingSQL = "status IN ('awaiting_approval', 'open', 'claimed')"

// byUser makes a query of one user's tasks use the index by user: with
// ORDER BY id, SQLite would otherwise prefer walking the whole app's
// tasks in id order, which costs the size of the app per replan.
const byUser = "INDEXED BY adapter_tasks_user "

// TaskCounts is how many tasks of an app there are in each status, and
// how many of the pending ones are past their deadline.
type TaskCounts struct {
	ByStatus map[task.Status]int
	Overdue  int
}

// CountTasks counts the tasks of app from the counters the triggers
// keep; only the overdue ones are counted, through an index.
func (q Queue) CountTasks(ctx context.Context, app string, now time.Time) (TaskCounts, error) {
	c := TaskCounts{ByStatus: map[task.Status]int{}}
	counts, err := q.counts(ctx, app, "task")
	if err != nil {
		return c, fmt.Errorf("count tasks: %w", err)
	}
	for k, n := range counts {
		c.ByStatus[task.Status(k)] = n
	}
	err = q.sql.QueryRow(ctx, `SELECT COUNT(*) FROM adapter_tasks INDEXED BY adapter_tasks_app_due
		WHERE app = ? AND `+pendingSQL+` AND due IS NOT NULL AND due < ?`,
		app, formatTime(now)).Scan(&c.Overdue)
	if err != nil {
		return c, fmt.Errorf("count overdue tasks: %w", err)
	}
	return c, nil
}

// counts reads the counters of one kind of app.
func (q Queue) counts(ctx context.Context, app, what string) (map[string]int, error) {
	return q.keyCounts(ctx, `SELECT key, n FROM adapter_counts WHERE app = ? AND what = ? AND n > 0`, app, what)
}

// keyCounts runs a query of (text, count) rows and returns them as a map.
func (q Queue) keyCounts(ctx context.Context, query string, args ...any) (map[string]int, error) {
	rows, err := q.sql.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var (
			k string
			n int
		)
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
	}
	return out, rows.Err()
}

// CountAccounts counts the accounts of app by state, from the counters
// the triggers keep.
func (q Queue) CountAccounts(ctx context.Context, app string) (map[account.State]int, error) {
	counts, err := q.counts(ctx, app, "account")
	if err != nil {
		return nil, fmt.Errorf("count accounts: %w", err)
	}
	out := map[account.State]int{}
	for k, n := range counts {
		out[account.State(k)] = n
	}
	return out, nil
}

func (q Queue) list(ctx context.Context, clause string, args ...any) ([]task.Task, error) {
	rows, err := q.sql.Query(ctx, `SELECT `+taskColumns+` FROM adapter_tasks `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("list tasks: %w", err)
	}
	defer rows.Close()
	var out []task.Task
	for rows.Next() {
		t, err := scanTask(rows)
		if err != nil {
			return nil, fmt.Errorf("list tasks: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Change is a move of a task to another status.
type Change struct {
	To           task.Status
	Actor        string
	Reason       string // recorded in the audit trail
	Note         string // kept on the task, when set
	Evidence     string
	SupersededBy int64
}

// Move moves task id as c says, if the task's rules allow it, and
// returns the task as it now is.
func (q Queue) Move(ctx context.Context, id int64, c Change) (task.Task, error) {
	t, err := q.Task(ctx, id)
	if err != nil {
		return t, err
	}
	if !task.CanMove(t.Status, c.To) {
		return t, &task.MoveError{ID: id, From: t.Status, To: c.To}
	}
	from := t.Status
	t.Status, t.Updated, t.By = c.To, q.now(), c.Actor
	if c.Note != "" {
		t.Note = c.Note
	}
	if c.Evidence != "" {
		t.Evidence = c.Evidence
	}
	if c.SupersededBy != 0 {
		t.SupersededBy = c.SupersededBy
	}
	var supersededBy any
	if t.SupersededBy != 0 {
		supersededBy = t.SupersededBy
	}
	_, err = q.sql.Exec(ctx, `UPDATE adapter_tasks SET status = ?, updated = ?, by = ?, note = ?, evidence = ?, superseded_by = ? WHERE id = ?`,
		t.Status, formatTime(t.Updated), t.By, t.Note, t.Evidence, supersededBy, id)
	if err != nil {
		return t, fmt.Errorf("move task %d: %w", id, err)
	}
	return t, q.audit(ctx, c.Actor, t.App, t.UserID, id, "task "+t.Kind, string(from), string(c.To), c.Reason)
}

// AuditEntry is one line of the audit trail.
type AuditEntry struct {
	Seq      int64
	Time     time.Time
	Actor    string
	App      string
	UserID   string
	TaskID   int64
	What     string
	From, To string
	Reason   string
}

// Audit returns the audit trail of app (all apps when ""), of one user
// when userID is set, oldest first.
func (q Queue) Audit(ctx context.Context, app, userID string) ([]AuditEntry, error) {
	list, err := q.AuditOf(ctx, AuditFilter{App: app, UserID: userID})
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(list))
	for i, r := range list {
		out[i] = r.AuditEntry
	}
	return out, nil
}

// ObservedRoles counts, by role, the active accounts of app in the app,
// leaving out the account of exceptUser.
func (q Queue) ObservedRoles(ctx context.Context, app, exceptUser string) (map[string]int, error) {
	out, err := q.keyCounts(ctx, `SELECT observed_role, COUNT(*) FROM adapter_accounts
		WHERE app = ? AND user_id <> ? AND observed_exists = 1 AND observed_active = 1 GROUP BY observed_role`, app, exceptUser)
	if err != nil {
		return nil, fmt.Errorf("count roles: %w", err)
	}
	return out, nil
}

// Grant is a pending task that gives a user a role, beside the role the
// user's account has now ("" when it has none or is not active).
type Grant struct {
	UserID, Role, HeldRole string
}

// PendingGrants lists the pending tasks of app that give a role (create,
// set_role, reactivate), leaving out those of exceptUser.
func (q Queue) PendingGrants(ctx context.Context, app, exceptUser string) ([]Grant, error) {
	rows, err := q.sql.Query(ctx, `SELECT t.user_id, t.role,
			CASE WHEN a.observed_exists = 1 AND a.observed_active = 1 THEN a.observed_role ELSE '' END
		FROM adapter_tasks t LEFT JOIN adapter_accounts a ON a.app = t.app AND a.user_id = t.user_id
		WHERE t.app = ? AND t.user_id <> ? AND t.status IN ('awaiting_approval', 'open', 'claimed')
			AND t.kind IN ('create', 'set_role', 'reactivate')`, app, exceptUser)
	if err != nil {
		return nil, fmt.Errorf("list grants: %w", err)
	}
	defer rows.Close()
	var out []Grant
	for rows.Next() {
		var g Grant
		var held sql.NullString
		if err := rows.Scan(&g.UserID, &g.Role, &held); err != nil {
			return nil, fmt.Errorf("list grants: %w", err)
		}
		g.HeldRole = held.String
		out = append(out, g)
	}
	return out, rows.Err()
}

// Blocked lists up to limit user ids of the blocked accounts of app,
// the longest blocked first.
func (q Queue) Blocked(ctx context.Context, app string, limit int) ([]string, error) {
	out, err := q.column(ctx, `SELECT user_id FROM adapter_accounts WHERE app = ? AND state = 'blocked'
		ORDER BY updated, user_id LIMIT ?`, app, limit)
	if err != nil {
		return nil, fmt.Errorf("list blocked accounts: %w", err)
	}
	return out, nil
}

// column runs a query of one text column and returns its values.
func (q Queue) column(ctx context.Context, query string, args ...any) ([]string, error) {
	rows, err := q.sql.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// DueAutomatic lists up to limit open tasks that an executor carries out
// by itself and that are due to be tried at now.
func (q Queue) DueAutomatic(ctx context.Context, now time.Time, limit int) ([]task.Task, error) {
	// The partial index holds only automatic open tasks; without the
	// hint SQLite would walk every open task, admins' included.
	return q.list(ctx, `INDEXED BY adapter_tasks_automatic WHERE executor <> 'manual' AND status = 'open'
		AND (next_attempt IS NULL OR next_attempt <= ?) ORDER BY next_attempt, id LIMIT ?`, formatTime(now), limit)
}

// Retry records a failed attempt of an automatic task and when to try
// again.
func (q Queue) Retry(ctx context.Context, id int64, attempts int, next time.Time, lastError string) error {
	_, err := q.sql.Exec(ctx, `UPDATE adapter_tasks SET attempts = ?, next_attempt = ?, last_error = ?, updated = ? WHERE id = ?`,
		attempts, formatTime(next), lastError, formatTime(q.now()), id)
	if err != nil {
		return fmt.Errorf("retry task %d: %w", id, err)
	}
	return nil
}

// HandOver gives an automatic task to admins: its executor becomes
// manual, head goes before its steps, and the audit trail says why.
func (q Queue) HandOver(ctx context.Context, id int64, assignee, head, lastError, actor string) (task.Task, error) {
	t, err := q.Task(ctx, id)
	if err != nil {
		return t, err
	}
	from := t.Executor
	t.Steps = append([]string{head}, t.Steps...)
	steps, err := json.Marshal(t.Steps)
	if err != nil {
		return t, fmt.Errorf("hand over task %d: %w", id, err)
	}
	t.Executor, t.Assignee, t.LastError, t.Attempts, t.Updated = task.Manual, assignee, lastError, t.Attempts+1, q.now()
	_, err = q.sql.Exec(ctx, `UPDATE adapter_tasks SET executor = ?, assignee = ?, steps = ?, attempts = ?, last_error = ?,
		next_attempt = NULL, updated = ? WHERE id = ?`, t.Executor, t.Assignee, string(steps), t.Attempts, t.LastError, formatTime(t.Updated), id)
	if err != nil {
		return t, fmt.Errorf("hand over task %d: %w", id, err)
	}
	return t, q.audit(ctx, actor, t.App, t.UserID, id, "task "+t.Kind, from, task.Manual, "handed to an admin: "+lastError)
}

// SeatFlagged reports whether module of app was flagged over its limit.
func (q Queue) SeatFlagged(ctx context.Context, app, module string) (bool, error) {
	var n int
	err := q.sql.QueryRow(ctx, `SELECT COUNT(*) FROM adapter_seat_flags WHERE app = ? AND module = ?`, app, module).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read seat flag: %w", err)
	}
	return n > 0, nil
}

// FlagSeats records that module of app went over its limit (on) or is
// back within it (off).
func (q Queue) FlagSeats(ctx context.Context, app, module string, on bool) error {
	var err error
	if on {
		_, err = q.sql.Exec(ctx, `INSERT INTO adapter_seat_flags(app, module, flagged) VALUES (?, ?, ?)
			ON CONFLICT(app, module) DO NOTHING`, app, module, formatTime(q.now()))
	} else {
		_, err = q.sql.Exec(ctx, `DELETE FROM adapter_seat_flags WHERE app = ? AND module = ?`, app, module)
	}
	if err != nil {
		return fmt.Errorf("flag seats: %w", err)
	}
	return nil
}

// AccountNamed returns the account of app whose user id or, in any case,
// user name is name; found is false when there is none.
func (q Queue) AccountNamed(ctx context.Context, app, name string) (a account.Account, found bool, err error) {
	a, err = scanAccount(q.sql.QueryRow(ctx, `SELECT `+accountColumns+` FROM adapter_accounts
		WHERE app = ? AND (user_id = ? OR user_name = ? COLLATE NOCASE) ORDER BY user_id = ? DESC LIMIT 1`, app, name, name, name))
	if errors.Is(err, sql.ErrNoRows) {
		return account.Account{}, false, nil
	}
	if err != nil {
		return account.Account{}, false, fmt.Errorf("read account: %w", err)
	}
	return a, true, nil
}

// ActiveAccounts lists up to limit user names of app whose accounts are
// active both as wanted and in the app, leaving out exceptUser.
func (q Queue) ActiveAccounts(ctx context.Context, app, exceptUser string, limit int) ([]string, error) {
	out, err := q.column(ctx, `SELECT user_name FROM adapter_accounts WHERE app = ? AND user_id <> ?
		AND desired_exists = 1 AND desired_active = 1 AND observed_exists = 1 AND observed_active = 1
		ORDER BY user_name LIMIT ?`, app, exceptUser, limit)
	if err != nil {
		return nil, fmt.Errorf("list active accounts: %w", err)
	}
	return out, nil
}

// DayCount is how many tasks of an app were opened and finished on Day.
type DayCount struct {
	Day              string // YYYY-MM-DD, UTC
	Opened, Finished int
}

// TaskDays counts, per day since since, the tasks of app opened and
// those finished (done, or verified without being done first), from the
// counters the triggers keep.
func (q Queue) TaskDays(ctx context.Context, app string, since time.Time) (map[string]DayCount, error) {
	rows, err := q.sql.Query(ctx, `SELECT what, key, n FROM adapter_counts
		WHERE app = ? AND what IN ('opened', 'finished') AND key >= ?`, app, since.UTC().Format(time.DateOnly))
	if err != nil {
		return nil, fmt.Errorf("count tasks by day: %w", err)
	}
	defer rows.Close()
	out := map[string]DayCount{}
	for rows.Next() {
		var (
			what, day string
			n         int
		)
		if err := rows.Scan(&what, &day, &n); err != nil {
			return nil, fmt.Errorf("count tasks by day: %w", err)
		}
		c := out[day]
		c.Day = day
		if what == "opened" {
			c.Opened += n
		} else {
			c.Finished += n
		}
		out[day] = c
	}
	return out, rows.Err()
}

// AccountsPage lists up to limit accounts of app by user name, those
// after (afterName, afterID), of state when it is not empty.
func (q Queue) AccountsPage(ctx context.Context, app string, state account.State, afterName, afterID string, limit int) ([]account.Account, error) {
	return q.accounts(ctx, `SELECT `+accountColumns+` FROM adapter_accounts INDEXED BY adapter_accounts_name
		WHERE app = ? AND (? = '' OR state = ?) AND (user_name > ? OR (user_name = ? AND user_id > ?))
		ORDER BY user_name, user_id LIMIT ?`, app, state, state, afterName, afterName, afterID, limit)
}
