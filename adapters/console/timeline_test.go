package console

import (
	"testing"

	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim/store"
)

func TestAuditWhat(t *testing.T) {
	for _, c := range []struct {
		e    queue.AuditEntry
		want string
	}{
		{queue.AuditEntry{TaskID: 12, What: "task create", From: "open", To: "done"}, "task 12 create: open → done"},
		{queue.AuditEntry{TaskID: 3, What: "task role_change", To: "awaiting_approval"}, "task 3 role_change: awaiting approval"},
		{queue.AuditEntry{What: "account", From: "pending", To: "active"}, "account: pending → active"},
		{queue.AuditEntry{What: "drift role", To: "open"}, "drift role: open"},
		{queue.AuditEntry{TaskID: 4, What: "reminder"}, "reminder (task 4)"},
	} {
		if got := auditWhat(c.e); got != c.want {
			t.Errorf("auditWhat(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
}

func TestEventWhat(t *testing.T) {
	for _, c := range []struct {
		e    store.Event
		want string
	}{
		{store.Event{Type: store.UserDeactivated, ResourceType: "User", ResourceID: "u1"}, "user.deactivated"},
		{store.Event{Type: store.UserUpdated, ResourceType: "User", ResourceID: "u1", Attributes: []string{"name", "emails"}},
			"user.updated (name, emails)"},
		{store.Event{Type: store.GroupMemberAdded, ResourceType: "Group", ResourceID: "g1", MemberID: "u1"},
			"group.member_added (group g1)"},
	} {
		if got := eventWhat(c.e); got != c.want {
			t.Errorf("eventWhat(%+v) = %q, want %q", c.e, got, c.want)
		}
	}
}
