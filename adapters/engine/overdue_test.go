package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

// notifications returns "kind task-user" per notification, in order.
func (w *world) notifications() []string {
	w.t.Helper()
	r := queue.In(w.db.ReadSQL())
	list, err := r.Notifications(context.Background(), 0, 1000)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, n := range list {
		tk, err := r.Task(context.Background(), n.TaskID)
		if err != nil {
			w.t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s %s/%s", n.Kind, strings.TrimSuffix(tk.UserName, "@example.com"), tk.Kind))
	}
	return out
}

func (w *world) wantNotifications(want ...string) {
	w.t.Helper()
	if got := w.notifications(); !slices.Equal(got, want) {
		w.t.Fatalf("notifications:\n got  %q\n want %q", got, want)
	}
}

// The engine enqueues task.opened with every new task and task.failed
// with every failure, and replaying events enqueues nothing twice.
func TestTaskNotifications(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, peopleAI(t))
	w.createUser("alice")
	w.createUser("bob")
	w.dispatch()
	w.wantNotifications("task.opened alice/create", "task.opened bob/create")

	first := w.taskOf("alice", "create")
	if _, err := w.eng.Fail(ctx, first.ID, "it-admin", "no licence left"); err != nil {
		t.Fatal(err)
	}
	// The failure, then the create queued again.
	w.wantNotifications("task.opened alice/create", "task.opened bob/create", "task.failed alice/create", "task.opened alice/create")

	// A report the task's rules refuse rolls back, notification and all.
	if _, err := w.eng.Fail(ctx, w.taskOf("bob", "create").ID, "it-admin", "x"); err != nil {
		t.Fatal(err)
	}
	before := w.notifications()
	if _, err := w.eng.Fail(ctx, first.ID, "it-admin", "again"); err == nil {
		t.Fatal("failing a failed task succeeded")
	}
	if after := w.notifications(); !slices.Equal(after, before) {
		t.Errorf("a refused report enqueued notifications:\n before %q\n after  %q", before, after)
	}

	replay := w.eng.WithConsumer("replay")
	for {
		n, err := replay.Dispatch(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if after := w.notifications(); !slices.Equal(after, before) {
		t.Errorf("replaying the outbox enqueued notifications:\n before %q\n after  %q", before, after)
	}
}

func TestFlagOverdue(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, peopleAI(t))
	w.createUser("alice")
	w.createUser("bob")
	w.dispatch()
	alice, bob := w.taskOf("alice", "create"), w.taskOf("bob", "create")
	if alice.Due.IsZero() {
		t.Fatal("the profile gives create tasks no deadline")
	}
	if _, err := w.eng.Done(ctx, bob.ID, "it-admin", "added", ""); err != nil {
		t.Fatal(err)
	}
	late := alice.Due.Add(time.Minute)
	cases := []struct {
		name string
		now  time.Time
		want int
	}{
		{"before the deadline", alice.Due.Add(-time.Minute), 0},
		{"after it", late, 1},
		{"again", late.Add(time.Minute), 0},
		{"much later", late.Add(30 * 24 * time.Hour), 0},
	}
	for _, c := range cases {
		n, err := w.eng.FlagOverdue(ctx, c.now)
		if err != nil || n != c.want {
			t.Errorf("%s: flagged %d (%v), want %d", c.name, n, err, c.want)
		}
	}
	w.wantNotifications("task.opened alice/create", "task.opened bob/create", "task.overdue alice/create")
	trail, err := queue.In(w.db.ReadSQL()).AuditOf(ctx, queue.AuditFilter{User: "alice@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var overdue []queue.AuditRecord
	for _, e := range trail {
		if strings.HasPrefix(e.Reason, "overdue") {
			overdue = append(overdue, e)
		}
	}
	if len(overdue) != 1 || overdue[0].TaskID != alice.ID || overdue[0].Actor != "scimbridge" || !overdue[0].Time.After(time.Time{}) {
		t.Errorf("overdue audit entries: %+v", overdue)
	}
}
