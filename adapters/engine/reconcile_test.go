package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// previewCSV diffs an export of the People.ai app at now.
func (w *world) previewCSV(csv string, mode reconcile.Mode, now time.Time) reconcile.Result {
	w.t.Helper()
	f, err := reconcile.Parse(strings.NewReader(csv), reconcile.Columns{})
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := w.eng.Preview(context.Background(), "peopleai", f, mode, now)
	if err != nil {
		w.t.Fatal(err)
	}
	return res
}

// findingBriefs returns "kind user [task kind]" per finding.
func findingBriefs(res reconcile.Result) []string {
	out := []string{}
	for _, f := range res.Findings {
		s := string(f.Kind) + " " + strings.TrimSuffix(f.Email, "@example.com")
		if f.TaskKind != "" {
			s += " " + f.TaskKind
		}
		out = append(out, s)
	}
	return out
}

func wantFindings(t *testing.T, res reconcile.Result, want ...string) {
	t.Helper()
	if got := findingBriefs(res); !slices.Equal(got, want) {
		t.Errorf("findings:\n got  %q\n want %q", got, want)
		for _, f := range res.Findings {
			t.Logf("  %s %s: %s", f.Kind, f.Email, f.Detail)
		}
	}
}

func (w *world) openDrift() []string {
	w.t.Helper()
	list, err := queue.In(w.db.ReadSQL()).DriftOf(context.Background(), "peopleai", false)
	if err != nil {
		w.t.Fatal(err)
	}
	out := []string{}
	for _, d := range list {
		out = append(out, d.Kind+" "+d.Email)
	}
	return out
}

// TestImportPeopleAI drives a People.ai app, whose tasks only an export
// of its user list verifies: done creates are verified by a matching
// snapshot; a done deactivation that a later export contradicts waits
// out the grace period and is then reopened; an account nobody assigned
// is kept as drift and left alone.
func TestImportPeopleAI(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, peopleAI(t))
	w.createUser("alice")
	w.createUser("bob")
	carol := w.createUser("carol")
	w.dispatch()
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := w.eng.Done(ctx, w.taskOf(name, "create").ID, "it-admin", "added in the console", ""); err != nil {
			t.Fatal(err)
		}
	}
	w.wantTasks(
		"alice create User_(Standard) done",
		"bob create User_(Standard) done",
		"carol create User_(Standard) done",
	)

	export := "Email,Status,Role,Last Login\n" +
		"alice@example.com,Active,User (Standard),2026-05-04T09:30:00Z\n" +
		"bob@example.com,Active,user (standard),\n" +
		"carol@example.com,Active,User (Standard),never\n"
	res := w.previewCSV(export, reconcile.Snapshot, time.Now())
	wantFindings(t, res, "verify alice create", "verify bob create", "verify carol create")
	// A preview is a dry run.
	w.wantTasks(
		"alice create User_(Standard) done",
		"bob create User_(Standard) done",
		"carol create User_(Standard) done",
	)
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	w.wantTasks(
		"alice create User_(Standard) verified",
		"bob create User_(Standard) verified",
		"carol create User_(Standard) verified",
	)
	accounts, err := queue.In(w.db.ReadSQL()).Accounts(ctx, "peopleai")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range accounts {
		if a.Observed.Source != "import" || !a.Observed.At.Equal(res.Now) || a.State != "active" || a.Observed.Role != "User (Standard)" {
			t.Errorf("account of %s after the import: %+v", a.UserName, a)
		}
	}
	ext := w.scim("GET", "/Users/"+w.taskOf("alice", "create").UserID, "", http.StatusOK)["urn:scimbridge:params:scim:schemas:extension:2.0:User"].(map[string]any)
	if ext["lastLogin"] != "2026-05-04T09:30:00Z" || ext["provisioningState"] != "active" {
		t.Errorf("alice's extension after the import: %v", ext)
	}
	// Applying the same diff twice is refused: its tasks moved on.
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); !errors.Is(err, engine.ErrStale) {
		t.Errorf("second import of one diff: %v, want ErrStale", err)
	}

	// Carol leaves; the admin reports her deactivated, but the next
	// export still lists her as active, beside an account nobody
	// assigned.
	w.scim("PATCH", "/Users/"+carol, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[
		{"op":"replace","value":{"active":false}}]}`, http.StatusOK)
	w.dispatch()
	deactivate := w.taskOf("carol", "deactivate")
	if _, err := w.eng.Done(ctx, deactivate.ID, "it-admin", "deactivated", ""); err != nil {
		t.Fatal(err)
	}
	stale := "Email,Status,Role\n" +
		"alice@example.com,Active,User (Standard)\n" +
		"bob@example.com,Active,User (Standard)\n" +
		"carol@example.com,Active,User (Standard)\n" +
		"mallory@example.com,Active,Admin\n"

	// Within the grace period the export may lag: nothing happens to
	// carol; the orphan is recorded.
	res = w.previewCSV(stale, reconcile.Snapshot, time.Now())
	wantFindings(t, res, "wait carol deactivate", "orphan mallory")
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	if got := w.taskOf("carol", "deactivate"); got.ID != deactivate.ID || got.Status != task.Done {
		t.Errorf("carol's deactivation within the grace period: task %d %s", got.ID, got.Status)
	}
	if got := w.openDrift(); !slices.Equal(got, []string{"orphan mallory@example.com"}) {
		t.Errorf("open drift %q", got)
	}

	// Past the grace period the same export contradicts the task: it
	// opens again, and stays the one task for the step (replanning keeps
	// it rather than queueing another).
	later := time.Now().Add(peopleAI(t).GracePeriod + time.Minute)
	res = w.previewCSV(stale, reconcile.Snapshot, later)
	wantFindings(t, res, "reopen carol deactivate", "observed carol", "orphan mallory")
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	w.wantTasks(
		"alice create User_(Standard) verified",
		"bob create User_(Standard) verified",
		"carol create User_(Standard) verified",
		"carol deactivate User_(Standard) open",
	)
	reopened := w.taskOf("carol", "deactivate")
	if reopened.ID != deactivate.ID || !strings.HasPrefix(reopened.Note, "reopened by import: export: active; done ") || reopened.By != "ann" {
		t.Errorf("reopened task: %+v", reopened)
	}
	ext = w.scim("GET", "/Users/"+carol, "", http.StatusOK)["urn:scimbridge:params:scim:schemas:extension:2.0:User"].(map[string]any)
	if ext["provisioningState"] != "pending" || ext["pendingActions"] != float64(1) {
		t.Errorf("the IdP sees %v after the reopening", ext)
	}
	trail, err := queue.In(w.db.ReadSQL()).Audit(ctx, "peopleai", carol)
	if err != nil {
		t.Fatal(err)
	}
	var moves []string
	for _, e := range trail {
		if e.TaskID == deactivate.ID || e.What == "observed" {
			moves = append(moves, e.Actor+" "+e.What+": "+e.From+" -> "+e.To)
		}
	}
	wantMoves := []string{
		"scimbridge task deactivate:  -> open",
		"it-admin task deactivate: open -> done",
		"ann observed: deactivated (User (Standard)) -> active (User (Standard))",
		"ann task deactivate: done -> open",
	}
	if !slices.Equal(moves, wantMoves) {
		t.Errorf("carol's audit trail:\n got  %q\n want %q", moves, wantMoves)
	}

	// The orphan stays listed, first seen at the earlier import; nothing
	// was queued for it.
	drift, err := queue.In(w.db.ReadSQL()).DriftOf(ctx, "peopleai", false)
	if err != nil {
		t.Fatal(err)
	}
	if len(drift) != 1 || drift[0].Email != "mallory@example.com" || drift[0].Kind != "orphan" || drift[0].UserID != "" ||
		!drift[0].LastSeen.Equal(res.Now) || !drift[0].FirstSeen.Before(drift[0].LastSeen) {
		t.Errorf("drift %+v", drift)
	}

	// Carol is deactivated at last, and mallory removed: a snapshot that
	// shows both verifies the task and resolves the drift.
	if _, err := w.eng.Done(ctx, deactivate.ID, "it-admin", "deactivated, this time saved", ""); err != nil {
		t.Fatal(err)
	}
	res = w.previewCSV("Email,Status\nalice@example.com,active\nbob@example.com,active\ncarol@example.com,suspended\n",
		reconcile.Snapshot, later.Add(time.Hour))
	wantFindings(t, res, "verify carol deactivate", "resolved mallory")
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	if got := w.openDrift(); len(got) != 0 {
		t.Errorf("open drift after it was resolved: %q", got)
	}
	all, err := queue.In(w.db.ReadSQL()).DriftOf(ctx, "peopleai", true)
	if err != nil || len(all) != 1 || all[0].Resolved.IsZero() {
		t.Errorf("resolved drift is not kept: %+v %v", all, err)
	}
	if got := w.taskOf("carol", "deactivate").Status; got != task.Verified {
		t.Errorf("carol's deactivation is %s", got)
	}
}

// TestImportDrift checks that a snapshot re-tickets an account that went
// missing or has the wrong role, that a diff of accounts that changed
// since commits nothing, and that drift an export no longer shows is
// resolved.
func TestImportDrift(t *testing.T) {
	ctx := context.Background()
	// The admin's word verifies a task here: only drift is left to find.
	p, err := peopleAI(t).With(profile.Override{Verification: profile.VerifyByAdmin})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, p)
	w.createUser("alice")
	w.createUser("bob")
	w.dispatch()
	for _, name := range []string{"alice", "bob"} {
		if _, err := w.eng.Done(ctx, w.taskOf(name, "create").ID, "it-admin", "added", ""); err != nil {
			t.Fatal(err)
		}
	}
	res := w.previewCSV("Email,Role\nbob@example.com,Admin\n", reconcile.Snapshot, time.Now())
	wantFindings(t, res, "observed alice", "observed bob", "missing alice", "wrong_role bob")
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	w.wantTasks(
		"alice create User_(Standard) verified",
		"bob create User_(Standard) verified",
		"alice create User_(Standard) open",
		"bob set_role User_(Standard) open",
	)
	if got := w.openDrift(); !slices.Equal(got, []string{"missing alice@example.com", "wrong_role bob@example.com"}) {
		t.Errorf("open drift %q", got)
	}

	// The accounts changed with that import: the same diff is stale now,
	// and commits nothing.
	before := w.tasks()
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); !errors.Is(err, engine.ErrStale) {
		t.Fatalf("stale import: %v", err)
	}
	w.wantTasks(before...)
	if err := w.eng.Import(ctx, "nope", res, "ann"); !errors.Is(err, engine.ErrUnknownApp) {
		t.Errorf("import into an unknown app: %v", err)
	}

	// The admin fixes both; the next snapshot resolves the drift.
	for _, k := range [][2]string{{"alice", "create"}, {"bob", "set_role"}} {
		if _, err := w.eng.Done(ctx, w.taskOf(k[0], k[1]).ID, "it-admin", "fixed", ""); err != nil {
			t.Fatal(err)
		}
	}
	res = w.previewCSV("Email,Role\nalice@example.com,User (Standard)\nbob@example.com,User (Standard)\n", reconcile.Snapshot, time.Now())
	wantFindings(t, res, "resolved alice", "resolved bob")
	if err := w.eng.Import(ctx, "peopleai", res, "ann"); err != nil {
		t.Fatal(err)
	}
	if got := w.openDrift(); len(got) != 0 {
		t.Errorf("open drift %q", got)
	}
}
