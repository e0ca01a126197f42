package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

func sixclicks(t *testing.T) *profile.Profile {
	t.Helper()
	all, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := all["sixclicks"].With(profile.Override{Reassign: &profile.ReassignTarget{Default: "grc@example.com", ToManager: true}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// createWithManager pushes a user whose enterprise manager is manager.
func (w *world) createWithManager(name, manager string) string {
	w.t.Helper()
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
		"userName":"%s@example.com","active":true,"emails":[{"primary":true,"type":"work","value":"%s@example.com"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":{"value":"%s"}}}`, name, name, manager)
	return w.scim("POST", "/Users", body, http.StatusCreated)["id"].(string)
}

func (w *world) deactivate(id string) {
	w.t.Helper()
	w.patchUser(id, `[{"op":"replace","path":"active","value":false}]`)
}

// TestReassignLeavers: a leaver's items go to their manager, else to the
// default reassignee, else an admin chooses; reactivation leaves them.
func TestReassignLeavers(t *testing.T) {
	ctx := context.Background()
	p := sixclicks(t)
	w := newWorld(t, p)
	w.apps["peopleai"] = engine.App{Profile: p, Adapter: mustAdapter(t, p)}
	grc, mgr := w.createUser("grc"), w.createUser("mgr")
	ann := w.createWithManager("ann", mgr)
	bob, carl := w.createUser("bob"), w.createUser("carl")
	w.dispatch()
	for _, n := range []string{"grc", "mgr", "ann", "bob", "carl"} {
		w.done(n, "create")
	}
	w.deactivate(ann)
	w.deactivate(bob)
	w.dispatch()
	if got := w.taskOf("ann", "reassign").Params[engine.ParamTargetEmail]; got != "mgr@example.com" {
		t.Errorf("ann's items go to %q, want her manager", got)
	}
	if got := w.taskOf("bob", "reassign").Params[engine.ParamTargetEmail]; got != "grc@example.com" {
		t.Errorf("bob's items go to %q, want the default reassignee", got)
	}
	if steps := strings.Join(w.taskOf("bob", "reassign").Steps, "\n"); !strings.Contains(steps, "to grc@example.com") {
		t.Errorf("bob's reassign steps:\n%s", steps)
	}
	// With the default reassignee gone, an admin chooses.
	w.deactivate(grc)
	w.deactivate(carl)
	w.dispatch()
	choose := w.taskOf("carl", "reassign")
	if choose.Params[engine.ParamTargetUser] != "" || !strings.Contains(choose.Params[engine.ParamWhy], "the default reassignee grc@example.com is deactivated") ||
		choose.Params[engine.ParamCandidates] != "mgr@example.com" || choose.Executor != task.Manual {
		t.Errorf("carl's choose-the-receiver task: %+v", choose)
	}
	if steps := strings.Join(choose.Steps, "\n"); !strings.Contains(steps, "Candidates: mgr@example.com") {
		t.Errorf("choose steps:\n%s", steps)
	}

	trail, err := queue.In(w.db.ReadSQL()).AuditOf(ctx, queue.AuditFilter{TaskID: choose.ID})
	if err != nil || len(trail) == 0 || !strings.Contains(trail[0].Reason, "an admin chooses the receiver: the default reassignee grc@example.com is deactivated") {
		t.Errorf("audit of the choose task: %+v, %v", trail, err)
	}
	trail, err = queue.In(w.db.ReadSQL()).AuditOf(ctx, queue.AuditFilter{TaskID: w.taskOf("bob", "reassign").ID})
	if err != nil || len(trail) == 0 || !strings.Contains(trail[0].Reason, "items to grc@example.com") {
		t.Errorf("audit of bob's reassign task: %+v, %v", trail, err)
	}

	// Done: the items moved; the receiver and the admins are told once,
	// and nothing is planned again.
	w.done("ann", "reassign")
	w.done("ann", "deactivate")
	if a := w.account(ann); !a.Observed.Reassigned || a.Observed.Active {
		t.Errorf("ann: %+v", a.Observed)
	}
	list, err := queue.In(w.db.ReadSQL()).Notifications(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	reassigned := 0
	for _, n := range list {
		if n.Kind == queue.ItemsReassigned && strings.Contains(string(n.Payload), `"target_email":"mgr@example.com"`) {
			reassigned++
		}
	}
	if reassigned != 1 {
		t.Errorf("%d items.reassigned notifications for ann, want 1", reassigned)
	}
	// Back: reactivated; the items stay where they went.
	w.patchUser(ann, `[{"op":"replace","path":"active","value":true}]`)
	w.dispatch()
	re := w.taskOf("ann", "reactivate")
	if steps := strings.Join(re.Steps, "\n"); !strings.Contains(steps, "stay with their new owner") {
		t.Errorf("reactivate steps:\n%s", steps)
	}
	w.done("ann", "reactivate")
	if a := w.account(ann); a.Observed.Reassigned || !a.Observed.Active {
		t.Errorf("ann after reactivation: %+v", a.Observed)
	}
	// Leaving again reassigns again.
	w.deactivate(ann)
	w.dispatch()
	pending, err := queue.In(w.db.ReadSQL()).Pending(ctx, "peopleai", ann)
	if err != nil || len(pending) != 2 || pending[0].Kind != "reassign" || pending[1].Kind != "deactivate" {
		t.Errorf("ann leaving again: %+v, %v", pending, err)
	}
}

func mustAdapter(t *testing.T, p *profile.Profile) plan.Adapter {
	t.Helper()
	a, err := engine.AdapterFor(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
