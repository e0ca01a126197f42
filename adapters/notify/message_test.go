package notify_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/notify"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

func note(t *testing.T, kind string, payload any) queue.Notification {
	t.Helper()
	b, err := json.Marshal(payload)
	if err != nil {
		t.Fatal(err)
	}
	return queue.Notification{ID: 7, Kind: kind, App: "peopleai", Payload: b, Created: due.Add(-72 * time.Hour)}
}

type taskPayload struct {
	Task queue.TaskNotice `json:"task"`
}

type driftPayload struct {
	Drift queue.DriftReport `json:"drift"`
}

func TestText(t *testing.T) {
	d := due
	jane := queue.TaskNotice{ID: 12, Kind: "create", Status: "open", UserName: "jane@example.com", Role: "User (Standard)", Due: &d}
	approval := jane
	approval.Status, approval.Role, approval.Assignee = "awaiting_approval", "Admin", "it-team"
	setRole := queue.TaskNotice{ID: 13, Kind: "set_role", Status: "open", UserName: "bob@example.com", Role: "Admin", PreviousRole: "User (Standard)"}
	failed := jane
	failed.Status, failed.By, failed.Note = "failed", "ann", "no licence left"
	deactivate := queue.TaskNotice{ID: 14, Kind: "deactivate", Status: "claimed", UserName: "carol@example.com", Due: &d}
	var items []queue.DriftItem
	for i := range 7 {
		items = append(items, queue.DriftItem{UserName: fmt.Sprintf("u%d@example.com", i), What: "unexpected account"})
	}
	items[1] = queue.DriftItem{UserName: "bob@example.com", What: "wrong role", Expected: "Admin", Found: "User (Standard)"}

	cases := []struct {
		name string
		n    queue.Notification
		want string
	}{
		{"opened", note(t, queue.TaskOpened, taskPayload{jane}),
			"New task 12 in peopleai: create jane@example.com (User (Standard)), due 2026-08-01 12:00 UTC."},
		{"awaiting approval", note(t, queue.TaskOpened, taskPayload{approval}),
			"New task 12 in peopleai awaits approval: create jane@example.com (Admin), due 2026-08-01 12:00 UTC, assigned to it-team."},
		{"set role without deadline", note(t, queue.TaskOpened, taskPayload{setRole}),
			"New task 13 in peopleai: set the role of bob@example.com to Admin (was User (Standard))."},
		{"overdue", note(t, queue.TaskOverdue, taskPayload{deactivate}),
			"Task 14 in peopleai is overdue: deactivate carol@example.com, it was due 2026-08-01 12:00 UTC."},
		{"failed", note(t, queue.TaskFailed, taskPayload{failed}),
			"Task 12 in peopleai failed: create jane@example.com (User (Standard)); ann said: no licence left."},
		{"drift", note(t, queue.DriftFound, driftPayload{queue.DriftReport{Import: "users-2026-08-01.csv", Total: 9, Items: items}}),
			"The import users-2026-08-01.csv of peopleai found 9 differences from what scimbridge expects:\n" +
				"- u0@example.com: unexpected account\n" +
				"- bob@example.com: wrong role (expected Admin, found User (Standard))\n" +
				"- u2@example.com: unexpected account\n- u3@example.com: unexpected account\n" +
				"- u4@example.com: unexpected account\n- and 4 more"},
		{"one drift", note(t, queue.DriftFound, driftPayload{queue.DriftReport{Total: 1, Items: items[2:3]}}),
			"An import of peopleai found 1 difference from what scimbridge expects:\n- u2@example.com: unexpected account"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := notify.Text(c.n)
			if err != nil {
				t.Fatal(err)
			}
			if got != c.want {
				t.Errorf("\n got  %s\n want %s", got, c.want)
			}
		})
	}
}

func TestBody(t *testing.T) {
	d := due
	n := note(t, queue.TaskOpened, taskPayload{queue.TaskNotice{ID: 12, Kind: "create", Status: "open", UserName: "a&b@example.com", Due: &d, Steps: []string{}}})
	b, err := notify.Body(notify.FormatJSON, n)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"id":7,"event":"task.opened","app":"peopleai","time":"2026-07-29T12:00:00Z","task":{"id":12,"kind":"create","status":"open",` +
		`"userId":"","userName":"a\u0026b@example.com","due":"2026-08-01T12:00:00Z","created":"0001-01-01T00:00:00Z","by":"","steps":[]}}`
	if string(b) != want {
		t.Errorf("\n got  %s\n want %s", b, want)
	}
	if _, err := notify.Body(notify.FormatSlack, note(t, queue.TaskOpened, map[string]int{})); err == nil ||
		!strings.Contains(err.Error(), "without a task") {
		t.Errorf("a task event without a task: %v", err)
	}
	if _, err := notify.Body("xml", n); err == nil {
		t.Error("an unknown format made a body")
	}
}
