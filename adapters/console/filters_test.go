package console_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestQueueFilters: kind, assignee and overdue narrow the queue.
func TestQueueFilters(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	rows := func(path string) int {
		t.Helper()
		p := b.get(path)
		if p.status != http.StatusOK {
			t.Fatalf("%s: %d", path, p.status)
		}
		return strings.Count(p.body, `<tr id="task-`)
	}
	for _, c := range []struct {
		path string
		want int
	}{
		{"/console/tasks?app=peopleai", 3},
		{"/console/tasks?app=peopleai&kind=create", 3},
		{"/console/tasks?app=peopleai&kind=set_role", 0},
		{"/console/tasks?assignee=nobody%40example.com", 0},
		{"/console/tasks?overdue=true", 0},
	} {
		if got := rows(c.path); got != c.want {
			t.Errorf("%s: %d tasks, want %d", c.path, got, c.want)
		}
	}
	// Past the People.ai deadline (24h), the pending creates are overdue.
	w.clock.advance(25 * time.Hour)
	b = w.signedIn("Alice Admin")
	if got := rows("/console/tasks?app=peopleai&overdue=true"); got != 3 {
		t.Errorf("overdue after a day: %d tasks, want 3", got)
	}
	want(t, "a bad kind", b.get("/console/tasks?kind=explode"), http.StatusBadRequest, "is not a kind of task")
}
