package engine_test

import (
	"context"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// replacing is an executor whose app does the work while, meanwhile, the
// IdP changes the user so that the task it carries out is replaced.
type replacing struct {
	meanwhile func()
	appID     string
}

func (x *replacing) Execute(context.Context, task.Task, account.Account) (engine.Result, error) {
	x.meanwhile()
	return engine.Result{AppUserID: x.appID}, nil
}

// TestReplacedWhileCarriedOut: a task cancelled while its executor's call
// was in flight still tells what the app did. Here the IdP deactivates
// the user while the simulated first login creates them: the create is
// cancelled, yet the app now has an active account, which must be taken
// away, not forgotten.
func TestReplacedWhileCarriedOut(t *testing.T) {
	w := jitWorld(t, true)
	ann := w.createUser("ann")
	w.dispatch()
	first := w.taskOf("ann", "create")
	x := &replacing{appID: "app-42", meanwhile: func() {
		w.scim("PATCH", "/Users/"+ann, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","path":"active","value":false}]}`, 200)
		w.dispatch()
	}}
	if n := w.execute(x); n != 1 {
		t.Fatalf("%d tasks executed", n)
	}
	if got := w.taskOf("ann", "create"); got.ID != first.ID || got.Status == task.Open {
		t.Fatalf("the replaced create is %+v", got)
	}
	a, found, err := queue.In(w.db.ReadSQL()).Account(context.Background(), "peopleai", ann)
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if !a.Observed.Exists || a.AppUserID != "app-42" || a.LastLogin.IsZero() {
		t.Errorf("account after the late success: observed %+v, app id %q, last login %v", a.Observed, a.AppUserID, a.LastLogin)
	}
	w.wantTasks("ann create Insights_User cancelled", "ann deactivate Insights_User open")
}
