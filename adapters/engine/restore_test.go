package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// TestSixMapRestore: roles by domain and by group; deactivation notes
// what SixMap is about to drop, and reactivation asks for exactly what
// it does not give back by itself.
func TestSixMapRestore(t *testing.T) {
	ctx := context.Background()
	all, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	p, err := all["sixmap"].With(profile.Override{
		RoleRules: &profile.RoleRules{
			Domains: []profile.DomainRule{{Domain: "example.com", Role: "Organization manager"}},
			Groups:  []profile.GroupRule{{Group: "SixMap Admins", Role: "Admin"}},
		},
		MFARequired: &yes,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, p)
	w.apps["peopleai"] = engine.App{Profile: p, Adapter: mustAdapter(t, p)}
	ann, bob := w.createUser("ann"), w.createUser("bob")
	w.group("SixMap Admins", ann)
	w.dispatch()
	w.wantTasks("ann create Admin,_Organization_manager,_User open", "bob create Organization_manager,_User open")
	w.done("ann", "create")
	w.done("bob", "create")

	w.deactivate(ann)
	w.dispatch()
	steps := strings.Join(w.taskOf("ann", "deactivate").Steps, "\n")
	if !strings.Contains(steps, "deletes all of the member's authentication factors") {
		t.Errorf("deactivate steps:\n%s", steps)
	}
	w.done("ann", "deactivate")
	a := w.account(ann)
	if a.Observed.Snapshot == nil || strings.Join(a.Observed.Snapshot.Roles, ", ") != "Admin, Organization manager, User" || !a.Observed.Snapshot.MFA {
		t.Fatalf("snapshot: %+v", a.Observed.Snapshot)
	}

	w.patchUser(ann, `[{"op":"replace","path":"active","value":true}]`)
	w.dispatch()
	re := w.taskOf("ann", "reactivate")
	if steps := strings.Join(re.Steps, "\n"); !strings.Contains(steps, "enrol their authentication factors again") {
		t.Errorf("reactivate steps:\n%s", steps)
	}
	w.done("ann", "reactivate")
	// SixMap gives back User and, by domain, Organization manager; the
	// group's Admin and the MFA requirement are restored by hand.
	if got := w.account(ann).Observed.Role; got != "Organization manager, User" {
		t.Errorf("roles after the reactivation: %q", got)
	}
	restores, err := queue.In(w.db.ReadSQL()).Pending(ctx, "peopleai", ann)
	if err != nil {
		t.Fatal(err)
	}
	if len(restores) != 2 || restores[0].Kind != "restore" || restores[0].Role != "Admin" || restores[0].Status != task.AwaitingApproval ||
		restores[1].Kind != "restore" || restores[1].Params["setting"] != profile.SettingMFA {
		t.Fatalf("restores: %+v", restores)
	}
	if steps := strings.Join(restores[1].Steps, "\n"); !strings.Contains(steps, "Require MFA for this Member") {
		t.Errorf("MFA restore steps:\n%s", steps)
	}
	if _, err := w.eng.Approve(ctx, restores[0].ID, "ann.admin"); err != nil {
		t.Fatal(err)
	}
	for _, tk := range restores {
		if _, err := w.eng.Done(ctx, tk.ID, "ann.admin", "restored", ""); err != nil {
			t.Fatal(err)
		}
	}
	a = w.account(ann)
	if a.State != account.Active || a.Observed.Role != "Admin, Organization manager, User" || a.Observed.Snapshot != nil {
		t.Errorf("ann at the end: %s %q %+v", a.State, a.Observed.Role, a.Observed.Snapshot)
	}
	if pending, _ := queue.In(w.db.ReadSQL()).Pending(ctx, "peopleai", ann); len(pending) != 0 {
		t.Errorf("work left: %+v", pending)
	}
	// bob never left: nothing was noted or restored.
	if b := w.account(bob); b.Observed.Snapshot != nil || b.State != account.Active || b.Observed.Email != "bob@example.com" {
		t.Errorf("bob: %+v", b)
	}
	// bob's address changes: SixMap then ends his sessions and SSO
	// registrations, so an admin does it knowingly.
	w.patchUser(bob, `[{"op":"replace","path":"emails[type eq \"work\"].value","value":"robert@example.com"}]`)
	w.dispatch()
	change := w.taskOf("bob", "change_email")
	steps = strings.Join(change.Steps, "\n")
	if !strings.Contains(steps, "revokes all their sessions") || !strings.Contains(steps, "from bob@example.com to robert@example.com") {
		t.Errorf("change_email steps:\n%s", steps)
	}
	if _, err := w.eng.Done(ctx, change.ID, "ann.admin", "changed", ""); err != nil {
		t.Fatal(err)
	}
	if b := w.account(bob); b.State != account.Active || b.Observed.Email != "robert@example.com" {
		t.Errorf("bob after the change: %s %q", b.State, b.Observed.Email)
	}
}
