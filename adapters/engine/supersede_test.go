package engine_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

// roleByGroups is People.ai with a role per group and no approvals, so
// that role changes go straight to open tasks.
func roleByGroups(t *testing.T) *profile.Profile {
	t.Helper()
	all, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := all["peopleai"].With(profile.Override{
		RoleRules: &profile.RoleRules{Groups: []profile.GroupRule{{Group: "Admins", Role: "Admin"}}},
		Approval:  []profile.ApprovalRule{},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) patchUser(id, ops string) {
	w.t.Helper()
	w.scim("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":`+ops+`}`, http.StatusOK)
}

func (w *world) members(group, op, user string) {
	w.t.Helper()
	w.scim("PATCH", "/Groups/"+group, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"`+op+`","path":"members","value":[{"value":"`+user+`"}]}]}`, http.StatusNoContent)
}

func (w *world) account(id string) account.Account {
	w.t.Helper()
	a, found, err := queue.In(w.db.ReadSQL()).Account(context.Background(), "peopleai", id)
	if err != nil || !found {
		w.t.Fatalf("account %s: %v, found %v", id, err, found)
	}
	return a
}

// TestSupersession covers how later changes replace work nobody did yet.
func TestSupersession(t *testing.T) {
	ctx := context.Background()

	t.Run("role changes before anyone acted leave one task for the last role", func(t *testing.T) {
		all, err := profile.Builtin()
		if err != nil {
			t.Fatal(err)
		}
		p, err := all["peopleai"].With(profile.Override{
			Roles:    []profile.Role{{Name: "Admin"}, {Name: "Manager"}, {Name: "User (Standard)"}},
			Approval: []profile.ApprovalRule{},
			RoleRules: &profile.RoleRules{Groups: []profile.GroupRule{
				{Group: "Admins", Role: "Admin"}, {Group: "Managers", Role: "Manager"}}},
		})
		if err != nil {
			t.Fatal(err)
		}
		w := newWorld(t, p)
		u := w.createUser("erin")
		w.dispatch()
		if _, err := w.eng.Done(ctx, w.taskOf("erin", "create").ID, "ann", "added", ""); err != nil {
			t.Fatal(err)
		}
		admins := w.scim("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Admins"}`, http.StatusCreated)["id"].(string)
		managers := w.scim("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Managers"}`, http.StatusCreated)["id"].(string)
		w.members(managers, "add", u)
		w.dispatch()
		w.members(admins, "add", u)
		w.dispatch()
		w.members(admins, "remove", u)
		w.dispatch()
		w.wantTasks(
			"erin create User_(Standard) done",
			"erin set_role Manager superseded",
			"erin set_role Admin superseded",
			"erin set_role Manager open",
		)
		// Back to the role the account has: nothing is left to do.
		w.members(managers, "remove", u)
		w.dispatch()
		if got := w.taskOf("erin", "set_role").Status; got != task.Cancelled {
			t.Errorf("the last set_role is %s after the role went back, want cancelled", got)
		}
		if got := w.account(u).State; got != account.Active {
			t.Errorf("state %s, want active", got)
		}
	})

	t.Run("a deactivation after a done create is a deactivate task", func(t *testing.T) {
		w := newWorld(t, roleByGroups(t))
		u := w.createUser("finn")
		w.dispatch()
		if _, err := w.eng.Done(ctx, w.taskOf("finn", "create").ID, "ann", "added", ""); err != nil {
			t.Fatal(err)
		}
		w.patchUser(u, `[{"op":"replace","value":{"active":false}}]`)
		w.dispatch()
		w.wantTasks("finn create User_(Standard) done", "finn deactivate User_(Standard) open")
		if got := w.account(u).State; got != account.Pending {
			t.Errorf("state %s while the deactivation is pending", got)
		}
		if _, err := w.eng.Done(ctx, w.taskOf("finn", "deactivate").ID, "ann", "deactivated", ""); err != nil {
			t.Fatal(err)
		}
		if got := w.account(u).State; got != account.Deactivated {
			t.Errorf("state %s after the deactivation, want deactivated", got)
		}
		// Reactivated: a reactivate task with the role.
		w.patchUser(u, `[{"op":"replace","value":{"active":true}}]`)
		w.dispatch()
		if tk := w.taskOf("finn", "reactivate"); tk.Status != task.Open || tk.Role != "User (Standard)" {
			t.Errorf("reactivate task %+v", tk)
		}
	})

	t.Run("a failed task is queued again", func(t *testing.T) {
		w := newWorld(t, roleByGroups(t))
		w.createUser("gus")
		w.dispatch()
		if _, err := w.eng.Fail(ctx, w.taskOf("gus", "create").ID, "ann", ""); err == nil {
			t.Error("a failure without a note was accepted")
		}
		if _, err := w.eng.Fail(ctx, w.taskOf("gus", "create").ID, "ann", "no licence left"); err != nil {
			t.Fatal(err)
		}
		w.wantTasks("gus create User_(Standard) failed", "gus create User_(Standard) open")
	})

	t.Run("a rejected grant blocks the account until the IdP asks for something else", func(t *testing.T) {
		w := newWorld(t, peopleAI(t))
		u := w.createUser("hal")
		w.dispatch()
		g := w.scim("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales Admins"}`, http.StatusCreated)["id"].(string)
		w.members(g, "add", u)
		w.dispatch()
		w.wantTasks("hal create User_(Standard) superseded", "hal create Admin awaiting_approval")
		if _, err := w.eng.Reject(ctx, w.taskOf("hal", "create").ID, "security-lead", "Admin needs a manager's request"); err != nil {
			t.Fatal(err)
		}
		w.patchUser(u, `[{"op":"replace","path":"title","value":"Rep"}]`)
		w.dispatch()
		w.wantTasks("hal create User_(Standard) superseded", "hal create Admin rejected")
		if got := w.account(u).State; got != account.Blocked {
			t.Errorf("state %s after the rejection, want blocked", got)
		}
		w.members(g, "remove", u)
		w.dispatch()
		w.wantTasks("hal create User_(Standard) superseded", "hal create Admin rejected", "hal create User_(Standard) open")
	})
}

// TestReplanKeepsLastLogin: planning rewrites the state the IdP sees but
// not the last login, which logins and imports record.
func TestReplanKeepsLastLogin(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, roleByGroups(t))
	u := w.createUser("ivy")
	w.dispatch()
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	err := w.db.Update(ctx, func(tx store.Tx) error {
		return tx.SetUserState(ctx, "peopleai", u, store.UserState{ProvisioningState: "pending", PendingActions: 1, LastLogin: &at})
	})
	if err != nil {
		t.Fatal(err)
	}
	w.patchUser(u, `[{"op":"replace","path":"title","value":"Rep"}]`)
	w.dispatch()
	ext := w.scim("GET", "/Users/"+u, "", http.StatusOK)["urn:scimbridge:params:scim:schemas:extension:2.0:User"].(map[string]any)
	if ext["lastLogin"] != "2026-11-30T09:00:00Z" || ext["provisioningState"] != "pending" {
		t.Errorf("extension after a replan: %v", ext)
	}
}
