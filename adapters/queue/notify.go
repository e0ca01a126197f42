package queue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/task"
)

// The notification outbox. A notification is enqueued in the transaction
// of the change that causes it, so it exists exactly when the change
// committed; a sender delivers it later, and a crash before delivery
// only delays it.

// The kinds of notification, as webhooks name them.
const (
	TaskOpened  = "task.opened"  // a new task waits for someone (open or awaiting approval)
	TaskOverdue = "task.overdue" // a pending task passed its deadline
	TaskFailed  = "task.failed"  // an admin reported that a task could not be done
	DriftFound  = "drift.found"  // an import found the app differing from what scimbridge expects
	SeatsOver   = "seats.over"   // a module the app does not enforce has more seats in use than bought
	// ItemsReassigned: a leaver's items went to another user (the task's
	// params name them), for the receiver and the admins.
	ItemsReassigned = "items.reassigned"
)

// NotificationKinds returns every kind of notification.
func NotificationKinds() []string {
	return []string{TaskOpened, TaskOverdue, TaskFailed, DriftFound, SeatsOver, ItemsReassigned}
}

// SeatNotice is the payload of a seats.over notification.
type SeatNotice struct {
	Module string `json:"module"`
	Used   int    `json:"used"`
	Limit  int    `json:"limit"`
}

// EnqueueSeats enqueues a seats.over notification for app.
func (q Queue) EnqueueSeats(ctx context.Context, app string, n SeatNotice) (int64, error) {
	return q.Enqueue(ctx, SeatsOver, app, 0, struct {
		Seats SeatNotice `json:"seats"`
	}{n})
}

// Notification is one entry of the outbox.
type Notification struct {
	ID     int64
	Kind   string
	App    string
	TaskID int64 // 0 when not about one task
	// Payload is a JSON object: {"task": TaskNotice} for task events,
	// {"drift": DriftReport} for drift.found.
	Payload json.RawMessage
	Created time.Time
	// Attempts counts the rounds of delivery that made a request.
	Attempts int
	// NextAttempt is when the notification is due; zero once delivered
	// or given up.
	NextAttempt time.Time
	Delivered   time.Time
	LastError   string
	// SentTo holds the keys of the webhooks that already have it, so
	// that a retry goes only to the ones that failed.
	SentTo []string
}

// TaskNotice is a task as notifications describe it.
type TaskNotice struct {
	ID           int64      `json:"id"`
	Kind         string     `json:"kind"`
	Status       string     `json:"status"`
	UserID       string     `json:"userId"`
	UserName     string     `json:"userName"`
	Role         string     `json:"role,omitempty"`
	PreviousRole string     `json:"previousRole,omitempty"`
	Assignee     string     `json:"assignee,omitempty"`
	Due          *time.Time `json:"due,omitempty"`
	Created      time.Time  `json:"created"`
	By           string     `json:"by"`
	Note         string     `json:"note,omitempty"`
	Steps        []string   `json:"steps"`
	// Params are the action's further values, such as a reassignment's
	// receiver (target_email).
	Params map[string]string `json:"params,omitempty"`
}

// NoticeOf describes t for a notification.
func NoticeOf(t task.Task) TaskNotice {
	n := TaskNotice{ID: t.ID, Kind: t.Kind, Status: string(t.Status), UserID: t.UserID, UserName: t.UserName,
		Role: t.Role, PreviousRole: t.PreviousRole, Assignee: t.Assignee, Created: t.Created.UTC(), By: t.By,
		Note: t.Note, Steps: t.Steps, Params: t.Params}
	if n.Steps == nil {
		n.Steps = []string{}
	}
	if !t.Due.IsZero() {
		d := t.Due.UTC()
		n.Due = &d
	}
	return n
}

// DriftReport is what one import found different in an app.
type DriftReport struct {
	// Import names what was imported: an import id or a file name.
	Import string `json:"import,omitempty"`
	// Total counts every difference; Items lists at most MaxDriftItems.
	Total int         `json:"total"`
	Items []DriftItem `json:"items"`
}

// DriftItem is one difference between what scimbridge expects of an
// account and what the app shows.
type DriftItem struct {
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName"`
	// What is a short description of the difference, such as "unexpected
	// account", "missing account" or "role".
	What string `json:"what"`
	// Expected and Found are the two sides, when they have values.
	Expected string `json:"expected,omitempty"`
	Found    string `json:"found,omitempty"`
	// TaskID is the task the difference led to, if any.
	TaskID int64 `json:"taskId,omitempty"`
}

// MaxDriftItems bounds the items one drift.found notification lists, so
// that a large import does not make an unreadable message.
const MaxDriftItems = 50

// ErrUnknownKind means a notification kind that is not one of
// NotificationKinds, or not one that fits the call.
var ErrUnknownKind = errors.New("unknown notification kind")

// Enqueue adds a notification of kind about app (and task taskID, when
// not 0) with payload, a JSON object, due at once. Call it on the queue
// of the transaction that makes the change, so that both commit or
// neither does.
func (q Queue) Enqueue(ctx context.Context, kind, app string, taskID int64, payload any) (int64, error) {
	if !slices.Contains(NotificationKinds(), kind) {
		return 0, fmt.Errorf("enqueue %q: %w", kind, ErrUnknownKind)
	}
	b, err := json.Marshal(payload)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", kind, err)
	}
	if len(b) == 0 || b[0] != '{' {
		return 0, fmt.Errorf("enqueue %s: the payload must be a JSON object", kind)
	}
	var task any
	if taskID != 0 {
		task = taskID
	}
	now := formatTime(q.now())
	var id int64
	err = q.sql.QueryRow(ctx, `INSERT INTO adapter_notifications(kind, app, task_id, payload, created, next_attempt)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, kind, app, task, string(b), now, now).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("enqueue %s: %w", kind, err)
	}
	return id, nil
}

// EnqueueTask adds a notification of a task event (TaskOpened,
// TaskOverdue or TaskFailed) about t as it now is.
func (q Queue) EnqueueTask(ctx context.Context, kind string, t task.Task) (int64, error) {
	if kind != TaskOpened && kind != TaskOverdue && kind != TaskFailed && kind != ItemsReassigned {
		return 0, fmt.Errorf("enqueue %q for task %d: %w", kind, t.ID, ErrUnknownKind)
	}
	return q.Enqueue(ctx, kind, t.App, t.ID, struct {
		Task TaskNotice `json:"task"`
	}{NoticeOf(t)})
}

// EnqueueDrift adds a drift.found notification about app. Items beyond
// MaxDriftItems are left out; Total, when 0, becomes len(r.Items).
func (q Queue) EnqueueDrift(ctx context.Context, app string, r DriftReport) (int64, error) {
	if r.Total == 0 && len(r.Items) == 0 {
		return 0, errors.New("enqueue drift.found: the report has no differences")
	}
	if r.Total < len(r.Items) {
		r.Total = len(r.Items)
	}
	if len(r.Items) > MaxDriftItems {
		r.Items = r.Items[:MaxDriftItems]
	}
	if r.Items == nil {
		r.Items = []DriftItem{}
	}
	return q.Enqueue(ctx, DriftFound, app, 0, struct {
		Drift DriftReport `json:"drift"`
	}{r})
}

const notificationColumns = `id, kind, app, task_id, payload, created, attempts, next_attempt, delivered, last_error, sent_to`

func scanNotification(sc interface{ Scan(...any) error }) (Notification, error) {
	var (
		n                        Notification
		taskID                   sql.NullInt64
		payload, sentTo          string
		created, next, delivered sql.NullString
	)
	err := sc.Scan(&n.ID, &n.Kind, &n.App, &taskID, &payload, &created, &n.Attempts, &next, &delivered, &n.LastError, &sentTo)
	if err != nil {
		return n, err
	}
	n.TaskID, n.Payload = taskID.Int64, json.RawMessage(payload)
	if err := json.Unmarshal([]byte(sentTo), &n.SentTo); err != nil {
		return n, fmt.Errorf("notification %d: sent_to: %w", n.ID, err)
	}
	for _, f := range []struct {
		s   sql.NullString
		dst *time.Time
	}{{created, &n.Created}, {next, &n.NextAttempt}, {delivered, &n.Delivered}} {
		if *f.dst, err = parseTime(f.s); err != nil {
			return n, fmt.Errorf("notification %d: %w", n.ID, err)
		}
	}
	return n, nil
}

func (q Queue) notifications(ctx context.Context, clause string, args ...any) ([]Notification, error) {
	rows, err := q.sql.Query(ctx, `SELECT `+notificationColumns+` FROM adapter_notifications `+clause, args...)
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	defer rows.Close()
	var out []Notification
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// DueNotifications returns up to limit notifications due at now, the
// longest waiting first.
func (q Queue) DueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error) {
	return q.notifications(ctx, `WHERE delivered IS NULL AND next_attempt IS NOT NULL AND next_attempt <= ?
		ORDER BY next_attempt, id LIMIT ?`, formatTime(now), limit)
}

// Notification returns the notification with id, or ErrNoNotification.
func (q Queue) Notification(ctx context.Context, id int64) (Notification, error) {
	list, err := q.notifications(ctx, `WHERE id = ?`, id)
	if err != nil {
		return Notification{}, err
	}
	if len(list) == 0 {
		return Notification{}, fmt.Errorf("notification %d: %w", id, ErrNoNotification)
	}
	return list[0], nil
}

// ErrNoNotification means no such notification.
var ErrNoNotification = errors.New("no such notification")

// Notifications returns up to limit notifications with ids after after,
// oldest first, whatever their state.
func (q Queue) Notifications(ctx context.Context, after int64, limit int) ([]Notification, error) {
	return q.notifications(ctx, `WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
}

// CountUndelivered counts the notifications not delivered: those still
// being tried and those given up (kept until they are pruned), both from
// the index of undelivered notifications.
func (q Queue) CountUndelivered(ctx context.Context) (trying, givenUp int, err error) {
	err = q.sql.QueryRow(ctx, `SELECT count(next_attempt), count(*) - count(next_attempt)
		FROM adapter_notifications INDEXED BY adapter_notifications_due WHERE delivered IS NULL`).Scan(&trying, &givenUp)
	if err != nil {
		return 0, 0, fmt.Errorf("count undelivered notifications: %w", err)
	}
	return trying, givenUp, nil
}

// Progress is where the delivery of a notification stands after a round.
type Progress struct {
	// Attempts counts the rounds that made a request, this one included.
	Attempts int
	// SentTo holds the keys of the webhooks that have the notification.
	SentTo []string
	// Error is the round's failure, if any; an empty one keeps the last.
	Error string
}

// MarkDelivered records that every webhook the notification id is for
// has it.
func (q Queue) MarkDelivered(ctx context.Context, id int64, at time.Time, p Progress) error {
	return q.mark(ctx, id, nil, formatTime(at), p)
}

// MarkFailed records a round that left webhooks without notification id:
// it is due again at next, or, when next is zero, given up.
func (q Queue) MarkFailed(ctx context.Context, id int64, next time.Time, p Progress) error {
	return q.mark(ctx, id, formatTime(next), nil, p)
}

func (q Queue) mark(ctx context.Context, id int64, next, delivered any, p Progress) error {
	sentTo := p.SentTo
	if sentTo == nil {
		sentTo = []string{}
	}
	b, err := json.Marshal(sentTo)
	if err != nil {
		return fmt.Errorf("notification %d: %w", id, err)
	}
	res, err := q.sql.Exec(ctx, `UPDATE adapter_notifications SET attempts = ?, next_attempt = ?, delivered = ?,
		last_error = CASE WHEN ? = '' THEN last_error ELSE ? END, sent_to = ? WHERE id = ?`,
		p.Attempts, next, delivered, p.Error, p.Error, string(b), id)
	if err != nil {
		return fmt.Errorf("notification %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("notification %d: no such notification", id)
	}
	return nil
}

// PruneNotifications deletes the notifications created before before
// that are delivered or given up, and returns how many it deleted.
func (q Queue) PruneNotifications(ctx context.Context, before time.Time) (int64, error) {
	res, err := q.sql.Exec(ctx, `DELETE FROM adapter_notifications
		WHERE created < ? AND (delivered IS NOT NULL OR next_attempt IS NULL)`, formatTime(before))
	if err != nil {
		return 0, fmt.Errorf("prune notifications: %w", err)
	}
	return res.RowsAffected()
}

// OverdueUnflagged returns up to limit pending tasks whose deadline
// passed before now and that were not flagged overdue yet, the earliest
// due first.
func (q Queue) OverdueUnflagged(ctx context.Context, now time.Time, limit int) ([]task.Task, error) {
	// The condition repeats the partial index adapter_tasks_overdue's.
	return q.list(ctx, `WHERE overdue_notified IS NULL AND status IN ('awaiting_approval', 'open', 'claimed')
		AND due IS NOT NULL AND due < ? ORDER BY due, id LIMIT ?`, formatTime(now), limit)
}

// FlagOverdue marks task t overdue as of now, records it in the audit
// trail and enqueues its task.overdue notification; a task already
// flagged is left alone and flagged reports false.
func (q Queue) FlagOverdue(ctx context.Context, t task.Task, now time.Time, actor string) (flagged bool, err error) {
	res, err := q.sql.Exec(ctx, `UPDATE adapter_tasks SET overdue_notified = ? WHERE id = ? AND overdue_notified IS NULL`,
		formatTime(now), t.ID)
	if err != nil {
		return false, fmt.Errorf("flag task %d overdue: %w", t.ID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return false, err
	}
	reason := "overdue: it was due " + t.Due.UTC().Format(time.RFC3339)
	if err := q.audit(ctx, actor, t.App, t.UserID, t.ID, "task "+t.Kind, string(t.Status), string(t.Status), reason); err != nil {
		return false, err
	}
	if _, err := q.EnqueueTask(ctx, TaskOverdue, t); err != nil {
		return false, err
	}
	return true, nil
}

// OverdueFlagged returns when task id was flagged overdue; zero when it
// was not.
func (q Queue) OverdueFlagged(ctx context.Context, id int64) (time.Time, error) {
	var at sql.NullString
	if err := q.sql.QueryRow(ctx, `SELECT overdue_notified FROM adapter_tasks WHERE id = ?`, id).Scan(&at); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return time.Time{}, fmt.Errorf("task %d: %w", id, ErrNotFound)
		}
		return time.Time{}, fmt.Errorf("read task %d: %w", id, err)
	}
	return parseTime(at)
}

// Interest is what one receiver wants: notifications of Kinds about Apps,
// where an empty list means all.
type Interest struct {
	Kinds, Apps []string
}

// SettleUnwanted marks delivered, at at, up to limit pending
// notifications that none of wanted covers, and returns how many. One
// statement does what a round per notification would: with no webhook,
// or none for some kinds, every task would otherwise cost a write later.
func (q Queue) SettleUnwanted(ctx context.Context, at time.Time, wanted []Interest, limit int) (int64, error) {
	var (
		wants []string
		args  []any
	)
	in := func(col string, vals []string) string {
		if len(vals) == 0 {
			return "1"
		}
		for _, v := range vals {
			args = append(args, v)
		}
		return col + " IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(vals)), ", ") + ")"
	}
	for _, w := range wanted {
		wants = append(wants, "("+in("kind", w.Kinds)+" AND "+in("app", w.Apps)+")")
	}
	cond := "1"
	if len(wants) > 0 {
		cond = "NOT (" + strings.Join(wants, " OR ") + ")"
	}
	args = append([]any{formatTime(at)}, append(args, limit)...)
	// The hint keeps the search on the pending ones: ordered by id,
	// SQLite would walk every notification ever sent, in the writer.
	res, err := q.sql.Exec(ctx, `UPDATE adapter_notifications SET delivered = ?, next_attempt = NULL
		WHERE id IN (SELECT id FROM adapter_notifications INDEXED BY adapter_notifications_due
			WHERE delivered IS NULL AND next_attempt IS NOT NULL AND `+cond+` LIMIT ?)`, args...)
	if err != nil {
		return 0, fmt.Errorf("settle notifications nobody wants: %w", err)
	}
	return res.RowsAffected()
}
