package queue_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

func all(t *testing.T, q queue.Queue) []queue.Notification {
	t.Helper()
	list, err := q.Notifications(context.Background(), 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A notification exists exactly when the change that caused it
// committed.
func TestEnqueueCommitsWithTheChange(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("boom")
	cases := []struct {
		name      string
		fail      error
		wantTasks int
	}{
		{"committed", nil, 1},
		{"rolled back", boom, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t)
			err := in(t, db, func(q queue.Queue) error {
				tk := task.Task{App: "acme", UserID: "u1", UserName: "u1@x.com", Kind: "create", Status: task.Open}
				if err := q.AddTask(ctx, &tk, "scimbridge", "test"); err != nil {
					return err
				}
				if _, err := q.EnqueueTask(ctx, queue.TaskOpened, tk); err != nil {
					return err
				}
				return c.fail
			})
			if !errors.Is(err, c.fail) {
				t.Fatalf("Update: %v, want %v", err, c.fail)
			}
			q := queue.In(db.ReadSQL())
			tasks, _ := q.Tasks(ctx, queue.Filter{})
			if got := all(t, q); len(got) != c.wantTasks || len(tasks) != c.wantTasks {
				t.Fatalf("%d notifications and %d tasks, want %d of each", len(got), len(tasks), c.wantTasks)
			}
		})
	}
}

func TestEnqueuePayloads(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	due := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	tk := task.Task{App: "acme", UserID: "u1", UserName: "jane@example.com", Kind: "create", Status: task.Open,
		Role: "User", Due: due, Steps: []string{"Open the console"}}
	items := make([]queue.DriftItem, queue.MaxDriftItems+5)
	for i := range items {
		items[i] = queue.DriftItem{UserName: fmt.Sprintf("u%d@example.com", i), What: "unexpected account"}
	}
	err := in(t, db, func(q queue.Queue) error {
		if err := q.AddTask(ctx, &tk, "scimbridge", "test"); err != nil {
			return err
		}
		if _, err := q.EnqueueTask(ctx, queue.TaskOpened, tk); err != nil {
			return err
		}
		_, err := q.EnqueueDrift(ctx, "acme", queue.DriftReport{Import: "users.csv", Items: items})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	list := all(t, queue.In(db.ReadSQL()))
	if len(list) != 2 {
		t.Fatalf("%d notifications, want 2", len(list))
	}
	opened, drift := list[0], list[1]
	if opened.Kind != queue.TaskOpened || opened.App != "acme" || opened.TaskID != tk.ID || opened.Attempts != 0 ||
		opened.NextAttempt.IsZero() || !opened.Delivered.IsZero() {
		t.Errorf("task.opened = %+v", opened)
	}
	var p struct{ Task queue.TaskNotice }
	if err := json.Unmarshal(opened.Payload, &p); err != nil {
		t.Fatal(err)
	}
	if p.Task.ID != tk.ID || p.Task.UserName != "jane@example.com" || p.Task.Due == nil || !p.Task.Due.Equal(due) ||
		p.Task.Status != "open" || p.Task.By != "scimbridge" || len(p.Task.Steps) != 1 {
		t.Errorf("task payload = %+v", p.Task)
	}
	var d struct{ Drift queue.DriftReport }
	if err := json.Unmarshal(drift.Payload, &d); err != nil {
		t.Fatal(err)
	}
	if drift.Kind != queue.DriftFound || drift.TaskID != 0 || d.Drift.Total != len(items) ||
		len(d.Drift.Items) != queue.MaxDriftItems || d.Drift.Import != "users.csv" {
		t.Errorf("drift.found = %+v with %d items, total %d", drift, len(d.Drift.Items), d.Drift.Total)
	}
}

func TestEnqueueRefuses(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	cases := []struct {
		name string
		fn   func(q queue.Queue) error
		want string
	}{
		{"unknown kind", func(q queue.Queue) error {
			_, err := q.Enqueue(ctx, "task.exploded", "acme", 0, map[string]any{})
			return err
		}, "unknown notification kind"},
		{"not an object", func(q queue.Queue) error {
			_, err := q.Enqueue(ctx, queue.DriftFound, "acme", 0, []int{1})
			return err
		}, "must be a JSON object"},
		{"empty drift report", func(q queue.Queue) error {
			_, err := q.EnqueueDrift(ctx, "acme", queue.DriftReport{Import: "users.csv"})
			return err
		}, "no differences"},
		{"drift as a task event", func(q queue.Queue) error {
			_, err := q.EnqueueTask(ctx, queue.DriftFound, task.Task{ID: 1})
			return err
		}, "unknown notification kind"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if err := in(t, db, c.fn); err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
	if n := len(all(t, queue.In(db.ReadSQL()))); n != 0 {
		t.Errorf("%d notifications after refusals", n)
	}
}

func TestDeliveryStates(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	var ids [3]int64
	err := in(t, db, func(q queue.Queue) error {
		for i := range ids {
			var err error
			if ids[i], err = q.Enqueue(ctx, queue.DriftFound, "acme", 0, map[string]int{"n": i}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := queue.In(db.ReadSQL())
	now := time.Now().UTC().Add(time.Second)
	due := func(at time.Time) []int64 {
		t.Helper()
		list, err := r.DueNotifications(ctx, at, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, n := range list {
			out = append(out, n.ID)
		}
		return out
	}
	if got := due(now); !slices.Equal(got, ids[:]) {
		t.Fatalf("due at first: %v, want %v", got, ids)
	}
	counted := func(wantTrying, wantGivenUp int) {
		t.Helper()
		trying, givenUp, err := r.CountUndelivered(ctx)
		if err != nil || trying != wantTrying || givenUp != wantGivenUp {
			t.Errorf("CountUndelivered = %d trying, %d given up, %v; want %d, %d", trying, givenUp, err, wantTrying, wantGivenUp)
		}
	}
	counted(3, 0)
	later := now.Add(time.Minute)
	err = in(t, db, func(q queue.Queue) error {
		if err := q.MarkDelivered(ctx, ids[0], now, queue.Progress{Attempts: 1, SentTo: []string{"a"}}); err != nil {
			return err
		}
		if err := q.MarkFailed(ctx, ids[1], later, queue.Progress{Attempts: 1, SentTo: []string{"a"}, Error: "status 500"}); err != nil {
			return err
		}
		// A round that only waited keeps the last error.
		if err := q.MarkFailed(ctx, ids[1], later, queue.Progress{Attempts: 1, SentTo: []string{"a"}}); err != nil {
			return err
		}
		return q.MarkFailed(ctx, ids[2], time.Time{}, queue.Progress{Attempts: 5, Error: "gave up"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := due(now); len(got) != 0 {
		t.Errorf("due right after: %v, want none", got)
	}
	counted(1, 1)
	if got := due(later); !slices.Equal(got, ids[1:2]) {
		t.Errorf("due a minute later: %v, want %v", got, ids[1:2])
	}
	list := all(t, r)
	if n := list[1]; n.LastError != "status 500" || !slices.Equal(n.SentTo, []string{"a"}) || n.Attempts != 1 || !n.NextAttempt.Equal(later) {
		t.Errorf("failed once: %+v", n)
	}
	if n := list[0]; n.Delivered.IsZero() || !n.NextAttempt.IsZero() {
		t.Errorf("delivered: %+v", n)
	}
	if n := list[2]; !n.Delivered.IsZero() || !n.NextAttempt.IsZero() || n.LastError != "gave up" {
		t.Errorf("given up: %+v", n)
	}
	if n, err := r.Notification(ctx, ids[1]); err != nil || n.ID != ids[1] || n.LastError != "status 500" {
		t.Errorf("Notification(%d) = %+v, %v", ids[1], n, err)
	}
	if _, err := r.Notification(ctx, 999); !errors.Is(err, queue.ErrNoNotification) {
		t.Errorf("an unknown notification: %v", err)
	}
	if err := in(t, db, func(q queue.Queue) error { return q.MarkDelivered(ctx, 999, now, queue.Progress{}) }); err == nil {
		t.Error("marking an unknown notification succeeded")
	}

	// Pruning takes what is finished, and only that.
	var pruned int64
	err = in(t, db, func(q queue.Queue) (err error) {
		pruned, err = q.PruneNotifications(ctx, now.Add(time.Hour))
		return err
	})
	if err != nil || pruned != 2 {
		t.Errorf("pruned %d (%v), want the delivered one and the given-up one", pruned, err)
	}
	if list := all(t, r); len(list) != 1 || list[0].ID != ids[1] {
		t.Errorf("left after pruning: %+v", list)
	}
}

func TestFlagOverdueOnce(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	due := time.Now().UTC().Add(time.Hour)
	var open, done task.Task
	err := in(t, db, func(q queue.Queue) error {
		open = task.Task{App: "acme", UserID: "u1", UserName: "u1@x.com", Kind: "create", Status: task.Open, Due: due}
		done = task.Task{App: "acme", UserID: "u2", UserName: "u2@x.com", Kind: "create", Status: task.Open, Due: due}
		nodue := task.Task{App: "acme", UserID: "u3", UserName: "u3@x.com", Kind: "create", Status: task.Open}
		for _, tk := range []*task.Task{&open, &done, &nodue} {
			if err := q.AddTask(ctx, tk, "scimbridge", "test"); err != nil {
				return err
			}
		}
		_, err := q.Move(ctx, done.ID, queue.Change{To: task.Done, Actor: "ann", Reason: "done"})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	r := queue.In(db.ReadSQL())
	overdue := func(now time.Time) []int64 {
		t.Helper()
		list, err := r.OverdueUnflagged(ctx, now, 10)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, tk := range list {
			out = append(out, tk.ID)
		}
		return out
	}
	if got := overdue(due.Add(-time.Minute)); len(got) != 0 {
		t.Errorf("overdue before the deadline: %v", got)
	}
	late := due.Add(time.Minute)
	if got := overdue(late); !slices.Equal(got, []int64{open.ID}) {
		t.Fatalf("overdue after the deadline: %v, want only the pending task with a deadline (%d)", got, open.ID)
	}
	for i, want := range []bool{true, false} {
		var flagged bool
		err := in(t, db, func(q queue.Queue) (err error) {
			flagged, err = q.FlagOverdue(ctx, open, late, "scimbridge")
			return err
		})
		if err != nil || flagged != want {
			t.Errorf("flag %d: %v, %v; want %v", i+1, flagged, err, want)
		}
	}
	if got := overdue(late.Add(time.Hour)); len(got) != 0 {
		t.Errorf("overdue after flagging: %v", got)
	}
	if at, err := r.OverdueFlagged(ctx, open.ID); err != nil || !at.Equal(late) {
		t.Errorf("flagged at %v (%v), want %v", at, err, late)
	}
	if n := all(t, r); len(n) != 1 || n[0].Kind != queue.TaskOverdue || n[0].TaskID != open.ID {
		t.Errorf("notifications %+v, want one task.overdue", n)
	}
	trail, _ := r.Audit(ctx, "acme", "u1")
	if last := trail[len(trail)-1]; len(trail) != 2 || !strings.HasPrefix(last.Reason, "overdue") || last.TaskID != open.ID {
		t.Errorf("audit %+v, want the task's creation and one overdue entry", trail)
	}
}

func TestAuditOf(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	err := in(t, db, func(q queue.Queue) error {
		for _, a := range []account.Account{
			{App: "acme", UserID: "id-1", UserName: "Jane@example.com", State: account.Pending},
			{App: "beta", UserID: "id-9", UserName: "jane@example.com", State: account.Pending},
			{App: "acme", UserID: "id-2", UserName: "bob@example.com", State: account.Pending},
			// Another app's user with Jane's acme id is not Jane.
			{App: "beta", UserID: "id-1", UserName: "eve@example.com", State: account.Pending},
		} {
			if err := q.PutAccount(ctx, &a, "scimbridge", "test"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := queue.In(db.ReadSQL())
	cases := []struct {
		f    queue.AuditFilter
		want []string
	}{
		{queue.AuditFilter{}, []string{"acme/Jane@example.com", "beta/jane@example.com", "acme/bob@example.com", "beta/eve@example.com"}},
		{queue.AuditFilter{App: "acme"}, []string{"acme/Jane@example.com", "acme/bob@example.com"}},
		{queue.AuditFilter{User: "JANE@example.com"}, []string{"acme/Jane@example.com", "beta/jane@example.com"}},
		{queue.AuditFilter{App: "beta", User: "jane@example.com"}, []string{"beta/jane@example.com"}},
		{queue.AuditFilter{App: "acme", User: "id-1"}, []string{"acme/Jane@example.com"}},
		{queue.AuditFilter{User: "nobody"}, nil},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%+v", c.f), func(t *testing.T) {
			list, err := r.AuditOf(ctx, c.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range list {
				got = append(got, e.App+"/"+e.UserName)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

func TestSettleUnwanted(t *testing.T) {
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		wanted  []queue.Interest
		limit   int
		settled []string // kind/app of the notifications marked delivered
	}{
		{"no webhook: everything", nil, 100, []string{"task.opened/acme", "task.failed/acme", "task.opened/beta", "drift.found/beta"}},
		{"at most limit", nil, 2, []string{"task.opened/acme", "task.failed/acme"}},
		{"a webhook for everything: nothing", []queue.Interest{{}}, 100, nil},
		{"one for failures, one for beta", []queue.Interest{{Kinds: []string{"task.failed"}}, {Apps: []string{"beta"}}}, 100,
			[]string{"task.opened/acme"}},
		{"one for acme's opened tasks", []queue.Interest{{Kinds: []string{"task.opened"}, Apps: []string{"acme"}}}, 100,
			[]string{"task.failed/acme", "task.opened/beta", "drift.found/beta"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			db := open(t)
			err := in(t, db, func(q queue.Queue) error {
				for _, n := range []struct{ kind, app string }{{"task.opened", "acme"}, {"task.failed", "acme"}, {"task.opened", "beta"}, {"drift.found", "beta"}} {
					if _, err := q.Enqueue(ctx, n.kind, n.app, 0, map[string]any{}); err != nil {
						return err
					}
				}
				n, err := q.SettleUnwanted(ctx, at, c.wanted, c.limit)
				if err == nil && int(n) != len(c.settled) {
					t.Errorf("settled %d, want %d", n, len(c.settled))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, n := range all(t, queue.In(db.ReadSQL())) {
				if !n.Delivered.IsZero() {
					if !n.Delivered.Equal(at) || !n.NextAttempt.IsZero() {
						t.Errorf("notification %d: delivered %v, next %v", n.ID, n.Delivered, n.NextAttempt)
					}
					got = append(got, n.Kind+"/"+n.App)
				}
			}
			if !slices.Equal(got, c.settled) {
				t.Errorf("settled %v, want %v", got, c.settled)
			}
		})
	}
}
