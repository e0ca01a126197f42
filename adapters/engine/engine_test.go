package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// world is an app behind the real SCIM handler over real SQLite, and the
// engine that works its events.
type world struct {
	t     *testing.T
	srv   *httptest.Server
	db    *sqlite.DB
	eng   *engine.Engine
	token string
	apps  map[string]engine.App
}

func newWorld(t *testing.T, p *profile.Profile) *world {
	t.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	s, err := scim.NewServer(scim.Config{Store: db, Apps: []string{"peopleai"}, BaseURL: "https://scim.example.test", Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, srv: httptest.NewServer(s.Handler()), db: db}
	t.Cleanup(func() { w.srv.Close(); s.Close(); db.Close() })
	if w.token, _, err = scim.IssueToken(ctx, db, "peopleai", "test"); err != nil {
		t.Fatal(err)
	}
	w.apps = map[string]engine.App{"peopleai": {Profile: p, Adapter: plan.Manual{}}}
	w.eng = engine.New(db, w.apps, log)
	return w
}

func (w *world) scim(method, path, body string, status int) map[string]any {
	w.t.Helper()
	req, err := http.NewRequest(method, w.srv.URL+"/apps/peopleai/scim/v2"+path, strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.token)
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("User-Agent", "Okta SCIM Client 1.0.0")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != status {
		w.t.Fatalf("%s %s: status %d, want %d: %s", method, path, res.StatusCode, status, b)
	}
	var m map[string]any
	if len(b) > 0 {
		json.Unmarshal(b, &m)
	}
	return m
}

// createUser pushes a user as Okta does and returns its id.
func (w *world) createUser(name string) string {
	w.t.Helper()
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s@example.com",
		"name":{"givenName":"%s","familyName":"Doe"},"emails":[{"primary":true,"type":"work","value":"%s@example.com"}],
		"displayName":"%s Doe","active":true,"password":"Secret#1","groups":[]}`, name, name, name, name)
	return w.scim("POST", "/Users", body, http.StatusCreated)["id"].(string)
}

// dispatch runs the engine until the outbox is drained.
func (w *world) dispatch() {
	w.t.Helper()
	for {
		n, err := w.eng.Dispatch(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// tasks returns "user kind role status" per task, in id order.
func (w *world) tasks() []string {
	w.t.Helper()
	list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, t := range list {
		out = append(out, fmt.Sprintf("%s %s %s %s", strings.TrimSuffix(t.UserName, "@example.com"), t.Kind, dashed(t.Role), t.Status))
	}
	return out
}

func dashed(s string) string {
	if s == "" {
		return "-"
	}
	return strings.ReplaceAll(s, " ", "_")
}

func (w *world) wantTasks(want ...string) {
	w.t.Helper()
	if got := w.tasks(); !slices.Equal(got, want) {
		w.t.Fatalf("tasks:\n got  %q\n want %q", got, want)
	}
}

// taskOf returns the newest task of user (by name) and kind.
func (w *world) taskOf(user, kind string) task.Task {
	w.t.Helper()
	list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{})
	if err != nil {
		w.t.Fatal(err)
	}
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].UserName == user+"@example.com" && list[i].Kind == kind {
			return list[i]
		}
	}
	w.t.Fatalf("no %s task for %s", kind, user)
	return task.Task{}
}

func peopleAI(t *testing.T) *profile.Profile {
	t.Helper()
	all, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := all["peopleai"].With(profile.Override{
		RoleRules: &profile.RoleRules{Groups: []profile.GroupRule{{Group: "Sales Admins", Role: "Admin"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPeopleAILifecycle drives a People.ai app the way Okta would and
// checks the exact tasks, their runbooks, supersession, approval and the
// state the IdP sees in the scimbridge extension.
func TestPeopleAILifecycle(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, peopleAI(t))
	alice, bob, carol := w.createUser("alice"), w.createUser("bob"), w.createUser("carol")
	w.dispatch()
	w.wantTasks(
		"alice create User_(Standard) open",
		"bob create User_(Standard) open",
		"carol create User_(Standard) open",
	)
	steps := strings.Join(w.taskOf("alice", "create").Steps, "\n")
	if !strings.Contains(steps, "alice@example.com") || !strings.Contains(steps, "User (Standard)") {
		t.Errorf("create steps are not rendered for alice:\n%s", steps)
	}
	ext := w.scim("GET", "/Users/"+alice, "", http.StatusOK)["urn:scimbridge:params:scim:schemas:extension:2.0:User"].(map[string]any)
	if ext["provisioningState"] != "pending" || ext["pendingActions"] != float64(1) {
		t.Errorf("the IdP sees %v while the create is pending", ext)
	}

	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := w.eng.Done(ctx, w.taskOf(name, "create").ID, "it-admin", "added in the console", ""); err != nil {
			t.Fatal(err)
		}
	}
	ext = w.scim("GET", "/Users/"+alice, "", http.StatusOK)["urn:scimbridge:params:scim:schemas:extension:2.0:User"].(map[string]any)
	if ext["provisioningState"] != "active" || ext["pendingActions"] != float64(0) {
		t.Errorf("the IdP sees %v after the create was done", ext)
	}

	// A role change through a group: granting Admin waits for approval.
	g := w.scim("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Sales Admins","members":[]}`, http.StatusCreated)["id"].(string)
	w.scim("PATCH", "/Groups/"+g, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"add","path":"members","value":[{"value":"`+bob+`"}]}]}`, http.StatusNoContent)
	w.scim("PATCH", "/Users/"+carol, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"active":false}}]}`, http.StatusOK)
	w.scim("DELETE", "/Users/"+alice, "", http.StatusNoContent)
	w.dispatch()
	w.wantTasks(
		"alice create User_(Standard) done",
		"bob create User_(Standard) done",
		"carol create User_(Standard) done",
		"bob set_role Admin awaiting_approval",
		"carol deactivate User_(Standard) open",
		"alice delete - open",
	)
	setRole := w.taskOf("bob", "set_role")
	if setRole.PreviousRole != "User (Standard)" {
		t.Errorf("set_role previous role %q", setRole.PreviousRole)
	}
	if _, err := w.eng.Approve(ctx, setRole.ID, engine.System); err == nil {
		t.Error("the requester approved its own request")
	}
	if _, err := w.eng.Done(ctx, setRole.ID, "it-admin", "done", ""); err == nil {
		t.Error("a task awaiting approval was marked done")
	}
	if _, err := w.eng.Approve(ctx, setRole.ID, "security-lead"); err != nil {
		t.Fatal(err)
	}

	// Supersession: created and deactivated before anyone acted.
	dave := w.createUser("dave")
	w.dispatch()
	w.scim("PATCH", "/Users/"+dave, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","path":"active","value":"False"}]}`, http.StatusOK)
	w.dispatch()
	if got := w.taskOf("dave", "create").Status; got != task.Cancelled {
		t.Errorf("dave's create is %s, want cancelled", got)
	}
	w.wantTasks(
		"alice create User_(Standard) done",
		"bob create User_(Standard) done",
		"carol create User_(Standard) done",
		"bob set_role Admin open",
		"carol deactivate User_(Standard) open",
		"alice delete - open",
		"dave create User_(Standard) cancelled",
	)

	// The admins finish the work; People.ai's export confirms it.
	for _, done := range []struct{ user, kind string }{{"bob", "set_role"}, {"carol", "deactivate"}, {"alice", "delete"}} {
		if _, err := w.eng.Done(ctx, w.taskOf(done.user, done.kind).ID, "it-admin", "done in the console", ""); err != nil {
			t.Fatal(err)
		}
	}
	doneAt := time.Now()
	export := "Email,Status,Role\nbob@example.com,active,Admin\ncarol@example.com,inactive,User (Standard)\n"
	res := w.previewCSV(export, reconcile.Snapshot, doneAt.Add(time.Minute))
	if err := w.eng.Import(ctx, "peopleai", res, "it-admin"); err != nil {
		t.Fatal(err)
	}
	w.wantTasks(
		"alice create User_(Standard) verified",
		"bob create User_(Standard) verified",
		"carol create User_(Standard) verified",
		"bob set_role Admin verified",
		"carol deactivate User_(Standard) verified",
		"alice delete - verified",
		"dave create User_(Standard) cancelled",
	)

	// A later export, past the grace period, contradicts the deactivation
	// and shows an account nobody assigned: the work is reopened and the
	// orphan reported.
	export = "Email,Status,Role\nbob@example.com,active,Admin\ncarol@example.com,active,User (Standard)\nmallory@example.com,active,Admin\n"
	res = w.previewCSV(export, reconcile.Snapshot, doneAt.Add(48*time.Hour))
	if err := w.eng.Import(ctx, "peopleai", res, "it-admin"); err != nil {
		t.Fatal(err)
	}
	if got := w.taskOf("carol", "deactivate").Status; got != task.Open {
		t.Errorf("carol's deactivation is %s after the contradicting export, want open again", got)
	}
	if drift := w.openDrift(); !slices.ContainsFunc(drift, func(d string) bool { return strings.Contains(d, "mallory") }) {
		t.Errorf("open drift %q lacks the orphan", drift)
	}

	// Replaying every event under another cursor changes nothing.
	before := w.tasks()
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
	if after := w.tasks(); !slices.Equal(after, before) {
		t.Errorf("replaying the outbox changed the tasks:\n before %q\n after  %q", before, after)
	}
}
