package engine_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// sixsense returns the sixsense profile with an SI limit of 3, an ABM
// limit of 2 and roles by group.
func sixsense(t *testing.T, simulate bool) *profile.Profile {
	t.Helper()
	all, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, err := all["sixsense"].With(profile.Override{
		RoleRules: &profile.RoleRules{Groups: []profile.GroupRule{
			{Group: "Sellers", Role: "Sales AE / SDR"},
			{Group: "Marketing", Role: "Marketing Administrator"},
			{Group: "Owners", Role: "Primary Administrator"},
		}},
		Seats:         []profile.SeatLimit{{Module: "SI", Limit: 3}, {Module: "ABM", Limit: 2}},
		SimulateLogin: &simulate,
	})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// jitWorld is a world whose app is a just-in-time app.
func jitWorld(t *testing.T, simulate bool) *world {
	t.Helper()
	p := sixsense(t, simulate)
	w := newWorld(t, p)
	w.apps["peopleai"] = engine.App{Profile: p, Adapter: plan.JIT{Role: p.JITRole, Simulate: simulate}}
	return w
}

// app is a stand-in for the app's side of a simulated login: it accepts
// or refuses, and remembers whom it saw.
type app struct {
	mu     sync.Mutex
	seen   []string
	answer func(email string) error
}

func (a *app) Execute(_ context.Context, t task.Task, acct account.Account) (engine.Result, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.seen = append(a.seen, acct.Email)
	if a.answer != nil {
		return engine.Result{}, a.answer(acct.Email)
	}
	return engine.Result{}, nil
}

func (w *world) execute(x engine.Executor) int {
	w.t.Helper()
	n, err := w.eng.Execute(context.Background(), map[string]engine.Executor{plan.ExecutorSAML: x})
	if err != nil {
		w.t.Fatal(err)
	}
	return n
}

func (w *world) group(name string, members ...string) string {
	w.t.Helper()
	var m []string
	for _, id := range members {
		m = append(m, `{"value":"`+id+`"}`)
	}
	return w.scim("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+
		`","members":[`+strings.Join(m, ",")+`]}`, http.StatusCreated)["id"].(string)
}

func (w *world) done(user, kind string) {
	w.t.Helper()
	if _, err := w.eng.Done(context.Background(), w.taskOf(user, kind).ID, "ann@example.com", "done in the console", ""); err != nil {
		w.t.Fatal(err)
	}
}

// TestJITSeats follows five users of a 6sense-like app: simulated first
// logins, promotion, the SI limit blocking the fourth seller until a
// leaver's seat is free.
func TestJITSeats(t *testing.T) {
	w := jitWorld(t, true)
	ids := map[string]string{}
	for _, n := range []string{"ann", "bob", "cat", "dan", "eve"} {
		ids[n] = w.createUser(n)
	}
	w.group("Sellers", ids["ann"], ids["bob"], ids["cat"], ids["dan"])
	w.group("Marketing", ids["eve"])
	w.dispatch()
	// Nobody exists in the app yet: a simulated first login each.
	w.wantTasks("ann create Insights_User open", "bob create Insights_User open", "cat create Insights_User open",
		"dan create Insights_User open", "eve create Insights_User open")
	if a := w.account(ids["ann"]); a.State != account.Pending {
		t.Errorf("ann is %s before the login", a.State)
	}

	x := &app{}
	if n := w.execute(x); n != 5 {
		t.Fatalf("%d tasks executed, want 5", n)
	}
	// Everyone now has the app's first-login role; sellers are promoted
	// while SI has seats, dan waits for one.
	w.wantTasks("ann create Insights_User verified", "bob create Insights_User verified", "cat create Insights_User verified",
		"dan create Insights_User verified", "eve create Insights_User verified",
		"ann set_role Sales_AE_/_SDR open", "bob set_role Sales_AE_/_SDR open", "cat set_role Sales_AE_/_SDR open",
		"dan free_seat Sales_AE_/_SDR open", "eve set_role Marketing_Administrator open")
	dan := w.account(ids["dan"])
	if dan.State != account.Blocked || !strings.Contains(dan.BlockedReason, "License limit exhausted") || !strings.Contains(dan.BlockedReason, "3 of 3") {
		t.Errorf("dan: %s %q", dan.State, dan.BlockedReason)
	}
	if a := w.account(ids["ann"]); a.LastLogin.IsZero() || a.Observed.Role != "Insights User" || a.Observed.Source != "login:simulated" {
		t.Errorf("ann after the simulated login: %+v", a)
	}
	steps := strings.Join(w.taskOf("dan", "free_seat").Steps, "\n")
	if !strings.Contains(steps, "dan@example.com cannot get the role Sales AE / SDR") || !strings.Contains(steps, "apps[].seats") {
		t.Errorf("free_seat steps:\n%s", steps)
	}

	for _, n := range []string{"ann", "bob", "cat", "eve"} {
		w.done(n, "set_role")
	}
	// ann leaves: her seat is held until the app disables her.
	w.patchUser(ids["ann"], `[{"op":"replace","path":"active","value":false}]`)
	w.dispatch()
	if dan := w.account(ids["dan"]); dan.State != account.Blocked {
		t.Errorf("dan is %s while ann still holds her seat", dan.State)
	}
	w.done("ann", "deactivate")
	if got := w.taskOf("dan", "free_seat").Status; got != task.Superseded {
		t.Errorf("dan's free_seat task is %s, want superseded", got)
	}
	if got := w.taskOf("dan", "set_role"); got.Status != task.Open || got.Role != "Sales AE / SDR" {
		t.Errorf("dan's promotion: %s %s", got.Role, got.Status)
	}
	if dan := w.account(ids["dan"]); dan.State != account.Pending || dan.BlockedReason != "" {
		t.Errorf("dan: %s %q", dan.State, dan.BlockedReason)
	}
	if a := w.account(ids["ann"]); a.State != account.Deactivated {
		t.Errorf("ann is %s", a.State)
	}
}

func TestSingleHolder(t *testing.T) {
	w := jitWorld(t, false)
	ann, bob := w.createUser("ann"), w.createUser("bob")
	w.group("Owners", ann, bob)
	w.dispatch()
	// Without simulated logins, accounts wait for the user.
	if a := w.account(ann); a.State != account.AwaitingLogin {
		t.Fatalf("ann is %s", a.State)
	}
	w.wantTasks()
	ctx := context.Background()
	for _, id := range []string{ann, bob} {
		if err := w.eng.RecordLogin(ctx, engine.Login{App: "peopleai", UserID: id, At: time.Now(), Source: engine.LoginProxy}); err != nil {
			t.Fatal(err)
		}
	}
	w.wantTasks("ann set_role Primary_Administrator awaiting_approval", "bob free_seat Primary_Administrator open")
	if b := w.account(bob); b.State != account.Blocked || !strings.Contains(b.BlockedReason, "one user only") {
		t.Errorf("bob: %s %q", b.State, b.BlockedReason)
	}
	// A login recorded again changes nothing.
	if err := w.eng.RecordLogin(ctx, engine.Login{App: "peopleai", UserID: ann, At: time.Now(), Source: engine.LoginHook}); err != nil {
		t.Fatal(err)
	}
	w.wantTasks("ann set_role Primary_Administrator awaiting_approval", "bob free_seat Primary_Administrator open")
	if err := w.eng.RecordLogin(ctx, engine.Login{App: "peopleai", UserID: "nobody", At: time.Now(), Source: engine.LoginHook}); !errors.Is(err, engine.ErrUnknownUser) {
		t.Errorf("login of an unknown user: %v", err)
	}
}

func TestExecutorFailures(t *testing.T) {
	cases := []struct {
		name     string
		answer   error
		runs     int
		executor string
		attempts int
	}{
		{"refused at once", engine.Refused(errors.New("403: License limit exhausted")), 1, task.Manual, 1},
		{"temporary, retried later", errors.New("502 from the app"), 1, plan.ExecutorSAML, 1},
		{"temporary until the attempts run out", errors.New("timeout"), 6, task.Manual, 6},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := jitWorld(t, true)
			w.createUser("ann")
			w.dispatch()
			x := &app{answer: func(string) error { return c.answer }}
			clock := time.Now()
			w.eng.SetClock(func() time.Time { return clock })
			for i := range c.runs {
				if n := w.execute(x); n != 1 {
					t.Fatalf("run %d: %d tasks executed", i+1, n)
				}
				if n := w.execute(x); n != 0 {
					t.Fatalf("run %d: a failed task ran again before its backoff", i+1)
				}
				clock = clock.Add(2 * time.Hour) // past any backoff
			}
			got := w.taskOf("ann", "create")
			if got.Status != task.Open || got.Executor != c.executor || got.Attempts != c.attempts || got.LastError == "" {
				t.Fatalf("task: %s executor %s attempts %d error %q", got.Status, got.Executor, got.Attempts, got.LastError)
			}
			if c.executor == task.Manual {
				if !strings.HasPrefix(got.Steps[0], "scimbridge's saml executor could not do this") || !strings.Contains(got.Steps[0], c.answer.Error()) {
					t.Errorf("steps: %q", got.Steps)
				}
				if n := w.execute(x); n != 0 {
					t.Errorf("a handed-over task ran again")
				}
			}
			list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{})
			if err != nil || len(list) != 1 {
				t.Errorf("%d tasks, %v: a failure must not add work", len(list), err)
			}
		})
	}
}

func TestSeatLedger(t *testing.T) {
	w := jitWorld(t, true)
	ids := map[string]string{}
	for _, n := range []string{"ann", "bob", "cat", "dan", "eve"} {
		ids[n] = w.createUser(n)
	}
	w.group("Sellers", ids["ann"], ids["bob"], ids["cat"], ids["dan"])
	w.dispatch()
	w.execute(&app{})
	w.done("ann", "set_role")
	start := time.Now()
	seats, err := w.eng.Seats(context.Background(), "peopleai", start)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]engine.ModuleSeats{}
	for _, m := range seats.Modules {
		got[m.Module] = m
	}
	// ann is a seller now; bob and cat are about to be; dan waits; eve
	// and the three others still hold Insights User, an ABM seat.
	want := map[string]engine.ModuleSeats{
		"SI":  {Module: "SI", Limit: 3, Enforced: true, Used: 1, Pending: 2},
		"ABM": {Module: "ABM", Limit: 2, Used: 4, Over: true},
		"CE":  {Module: "CE"},
	}
	for name, m := range want {
		if got[name] != m {
			t.Errorf("%s: %+v, want %+v", name, got[name], m)
		}
	}
	// SeatUse, which metrics read, gives the same modules.
	use, err := w.eng.SeatUse(context.Background(), "peopleai")
	if err != nil || !slices.Equal(use, seats.Modules) {
		t.Errorf("SeatUse = %+v, %v; want %+v", use, err, seats.Modules)
	}
	if _, err := w.eng.SeatUse(context.Background(), "nope"); err == nil {
		t.Error("SeatUse of an unknown app succeeded")
	}
	if len(seats.Blocked) != 1 || seats.Blocked[0].UserID != ids["dan"] {
		t.Errorf("blocked: %+v", seats.Blocked)
	}
	if len(seats.Reclaimable) != 0 {
		t.Errorf("reclaimable right after the logins: %+v", seats.Reclaimable)
	}
	later, err := w.eng.Seats(context.Background(), "peopleai", start.Add(91*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(later.Reclaimable) != 5 {
		t.Errorf("%d reclaimable after 91 days without a login, want 5", len(later.Reclaimable))
	}
}

// TestJITLoginSources: without simulated logins, an account appears when
// an import lists the user or an admin says they signed in.
func TestJITLoginSources(t *testing.T) {
	ctx := context.Background()
	w := jitWorld(t, false)
	ann, bob := w.createUser("ann"), w.createUser("bob")
	w.group("Sellers", ann, bob)
	w.dispatch()
	for _, id := range []string{ann, bob} {
		if a := w.account(id); a.State != account.AwaitingLogin {
			t.Fatalf("%s is %s", id, a.State)
		}
	}
	lastLogin := time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	res := w.previewCSV("email,status,role,last login\nann@example.com,active,Insights User,2026-11-20T09:00:00Z\n",
		reconcile.Delta, time.Now())
	if err := w.eng.Import(ctx, "peopleai", res, "ann.admin"); err != nil {
		t.Fatal(err)
	}
	a := w.account(ann)
	if !a.Observed.Exists || a.Observed.Role != "Insights User" || !a.LastLogin.Equal(lastLogin) {
		t.Errorf("ann after the import: %+v", a)
	}
	if err := w.eng.RecordLogin(ctx, engine.Login{App: "peopleai", UserID: bob, At: time.Now(), Source: engine.LoginAdmin, Actor: "ann.admin"}); err != nil {
		t.Fatal(err)
	}
	w.wantTasks("ann set_role Sales_AE_/_SDR open", "bob set_role Sales_AE_/_SDR open")
	trail, err := queue.In(w.db.ReadSQL()).Audit(ctx, "peopleai", bob)
	if err != nil {
		t.Fatal(err)
	}
	last := trail[len(trail)-2] // the login, before the replan's own entry
	if last.Actor != "ann.admin" || !strings.Contains(last.Reason, "first login (admin)") {
		t.Errorf("audit: %+v", trail)
	}
}

func TestJITInvite(t *testing.T) {
	no := false
	p, err := sixsense(t, false).With(profile.Override{JITOnly: &no})
	if err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, p)
	ad, err := engine.AdapterFor(p)
	if err != nil {
		t.Fatal(err)
	}
	w.apps["peopleai"] = engine.App{Profile: p, Adapter: ad}
	ann := w.createUser("ann")
	w.group("Sellers", ann)
	w.dispatch()
	// The app lets admins add users ahead of a login: invite with the role.
	w.wantTasks("ann create Sales_AE_/_SDR open")
}

// TestSeatsOverNotified: ABM has a limit of 2 that 6sense does not
// enforce; the third Insights User is told once.
func TestSeatsOverNotified(t *testing.T) {
	ctx := context.Background()
	w := jitWorld(t, true)
	for _, n := range []string{"ann", "bob", "cat", "dan"} {
		w.createUser(n)
	}
	w.dispatch()
	w.execute(&app{})
	list, err := queue.In(w.db.ReadSQL()).Notifications(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var over []string
	for _, n := range list {
		if n.Kind == queue.SeatsOver {
			over = append(over, string(n.Payload))
		}
	}
	if len(over) != 1 || !strings.Contains(over[0], `"module":"ABM","used":3,"limit":2`) {
		t.Errorf("seats.over notifications: %q", over)
	}
}

// TestLoginWithRole: an app that maps a SAML role attribute got the
// desired role with the assertion, so there is nothing to promote.
func TestLoginWithRole(t *testing.T) {
	w := jitWorld(t, false)
	ann := w.createUser("ann")
	w.group("Marketing", ann)
	w.dispatch()
	err := w.eng.RecordLogin(context.Background(), engine.Login{App: "peopleai", UserID: ann, At: time.Now(),
		Source: engine.LoginProxy, Role: "Marketing Administrator"})
	if err != nil {
		t.Fatal(err)
	}
	w.wantTasks()
	if a := w.account(ann); a.State != account.Active || a.Observed.Role != "Marketing Administrator" {
		t.Errorf("ann: %s %q", a.State, a.Observed.Role)
	}
}

// TestRetryAfterIsHonoured: an executor that passes on the app's
// Retry-After has its task tried again then, not after the backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	w := jitWorld(t, true)
	w.createUser("ann")
	w.dispatch()
	clock := time.Now()
	w.eng.SetClock(func() time.Time { return clock })
	x := &app{answer: func(string) error { return engine.RetryAfter(errors.New("429 from the app"), 2*time.Second) }}
	w.execute(x)
	clock = clock.Add(time.Second)
	if n := w.execute(x); n != 0 {
		t.Fatal("retried before the app's Retry-After")
	}
	clock = clock.Add(1500 * time.Millisecond) // well before any backoff
	x.answer = nil
	if n := w.execute(x); n != 1 {
		t.Fatal("not retried once the app's Retry-After passed")
	}
	if got := w.taskOf("ann", "create"); got.Status != task.Verified {
		t.Errorf("task: %s", got.Status)
	}
}

// TestLaterCostsNoAttempt: a task the executor put off (its own rate
// limit) is not handed to an admin however often that happens.
func TestLaterCostsNoAttempt(t *testing.T) {
	w := jitWorld(t, true)
	w.createUser("ann")
	w.dispatch()
	clock := time.Now()
	w.eng.SetClock(func() time.Time { return clock })
	x := &app{answer: func(string) error { return engine.Later(errors.New("rate limit reached"), time.Second) }}
	for range 10 {
		if n := w.execute(x); n != 1 {
			t.Fatal("a put-off task was not tried again once due")
		}
		clock = clock.Add(2 * time.Second)
	}
	if got := w.taskOf("ann", "create"); got.Executor != plan.ExecutorSAML || got.Attempts != 0 || got.Status != task.Open {
		t.Errorf("after 10 put-offs: executor %s, attempts %d, %s", got.Executor, got.Attempts, got.Status)
	}
}
