// Package engine turns the shadow directory's change events into work:
// it replans the accounts that events touch, queues tasks for the manual
// steps, and records what admins report. Everything it does for a batch
// of events commits in one transaction with the outbox cursor, so a
// crash at any point loses nothing and, because planning looks only at
// state, a batch done twice changes nothing.
package engine

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// batchTime bounds the work of one dispatch transaction, during which
// SCIM writes wait for the single writer.
const batchTime = 10 * time.Millisecond

// Consumer is the engine's default name on the outbox cursor.
const Consumer = "engine"

// System is the actor of what the engine does by itself.
const System = "scimbridge"

// App is one app as the engine handles it.
type App struct {
	Profile *profile.Profile
	Adapter plan.Adapter
	// Automatic names, per action kind, the executor that carries the
	// app's actions of that kind out by itself (such as "rest"); kinds
	// not named become admins' tasks.
	Automatic map[profile.ActionKind]string
}

// AdapterFor returns the adapter an app's profile names.
func AdapterFor(p *profile.Profile) (plan.Adapter, error) {
	switch p.Adapter {
	case profile.AdapterManual, "":
		return plan.Manual{}, nil
	case profile.AdapterJIT:
		return plan.JIT{Role: p.JITRole, Simulate: p.SimulateLogin, Invite: !p.JITOnly}, nil
	case profile.AdapterReassign:
		return plan.Reassign{}, nil
	case profile.AdapterRestore:
		return plan.Restore{}, nil
	}
	return nil, fmt.Errorf("profile %q names adapter %q, which this scimbridge does not have", p.Name, p.Adapter)
}

// Engine dispatches change events and works tasks.
type Engine struct {
	db       *sqlite.DB
	apps     map[string]App
	log      *slog.Logger
	consumer string
	batch    int
	now      func() time.Time
}

// New returns an engine over db for the apps by name.
func New(db *sqlite.DB, apps map[string]App, log *slog.Logger) *Engine {
	if log == nil {
		log = slog.Default()
	}
	return &Engine{db: db, apps: apps, log: log, consumer: Consumer, batch: 200, now: func() time.Time { return time.Now().UTC() }}
}

// Run dispatches events as they arrive, polling every interval, until
// ctx ends.
func (e *Engine) Run(ctx context.Context, interval time.Duration) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	// An unwritable database fails every poll until an operator acts:
	// say so once, and once more when it passes.
	unwritable := false
	for {
		for {
			n, err := e.Dispatch(ctx)
			if ctx.Err() != nil {
				return nil
			}
			var cause *store.UnavailableError
			switch {
			case errors.As(err, &cause):
				if !unwritable {
					e.log.Error("dispatching change events waits: the database cannot be written",
						"reason", cause.Reason, "code", cause.Code)
				}
				unwritable = true
			case err != nil:
				e.log.Error("dispatching change events failed; retrying", "error", err)
			case unwritable:
				e.log.Info("dispatching change events goes on: the database can be written again")
				unwritable = false
			}
			if err != nil || n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Dispatch handles the next batch of events and returns how many it
// handled.
func (e *Engine) Dispatch(ctx context.Context) (int, error) {
	var n int
	err := e.db.Update(ctx, func(tx store.Tx) error {
		after, err := tx.Cursor(ctx, e.consumer)
		if err != nil {
			return err
		}
		events, err := tx.Events(ctx, "", after, e.batch)
		if err != nil || len(events) == 0 {
			return err
		}
		// SCIM writes wait while this transaction runs: stop after
		// batchTime of work and mark only the events handled so far.
		start := time.Now()
		done := map[userKey]bool{}
		for _, ev := range events {
			touched, err := e.touched(ctx, tx, []store.Event{ev})
			if err != nil {
				return err
			}
			for _, u := range touched {
				if done[u] {
					continue
				}
				done[u] = true
				if err := e.replan(ctx, tx, u.app, u.id, System, "a change from the IdP"); err != nil {
					return fmt.Errorf("plan user %s of app %s: %w", u.id, u.app, err)
				}
			}
			n++
			if time.Since(start) > batchTime {
				break
			}
		}
		return tx.MarkProcessed(ctx, e.consumer, events[n-1].Seq)
	})
	return n, err
}

type userKey struct{ app, id string }

// touched lists, once each and in order, the users whose accounts the
// events may change.
func (e *Engine) touched(ctx context.Context, tx store.Tx, events []store.Event) ([]userKey, error) {
	var out []userKey
	seen := map[userKey]bool{}
	add := func(app, id string) {
		k := userKey{app, id}
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, ev := range events {
		cfg, ok := e.apps[ev.App]
		if !ok {
			continue // an app no longer configured
		}
		// Membership decides nothing but roles by group: an app without
		// group rules has nothing to replan when members come and go.
		byGroup := len(cfg.Profile.Rules.Groups) > 0
		switch {
		case ev.ResourceType == "User":
			add(ev.App, ev.ResourceID)
		case !byGroup:
		case ev.MemberID != "":
			add(ev.App, ev.MemberID)
		case ev.Type == store.GroupRenamed || ev.Type == store.GroupUpdated:
			// Role rules name groups: every member may change role.
			g, err := tx.GetGroup(ctx, ev.App, ev.ResourceID, store.Load{Members: true})
			if errors.Is(err, store.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			for _, m := range g.Members {
				add(ev.App, m.ID)
			}
		}
	}
	return out, nil
}

// desired derives what the IdP wants of user id's account.
func desired(ctx context.Context, tx store.Reader, p *profile.Profile, app, id string) (account.Desired, store.User, error) {
	u, err := tx.GetUser(ctx, app, id, store.Load{Groups: true, State: true})
	if errors.Is(err, store.ErrNotFound) {
		return account.Desired{}, store.User{}, nil
	}
	if err != nil {
		return account.Desired{}, u, err
	}
	doc, err := userFields(u)
	if err != nil {
		return account.Desired{}, u, err
	}
	groups := make([]string, len(u.Groups))
	for i, g := range u.Groups {
		groups[i] = g.DisplayName
	}
	return account.Desired{Exists: true, Active: doc.active, Role: p.Desired(doc.email, groups), Email: doc.email}, u, nil
}

// replan brings the account of user id in app and its queue in line with
// the shadow directory. When the app counts seats and the account is not
// blocked, the blocked accounts of the app are planned again too, since
// this one may have freed a seat.
func (e *Engine) replan(ctx context.Context, tx store.Tx, app, id, actor, reason string) error {
	state, err := e.replanOne(ctx, tx, app, id, actor, reason)
	cfg, ok := e.apps[app]
	if err != nil || !ok || state == account.Blocked || !cfg.Profile.Counted() {
		return err
	}
	q, err := queueOf(tx)
	if err != nil {
		return err
	}
	blocked, err := q.Blocked(ctx, app, cascadeLimit)
	if err != nil {
		return err
	}
	for _, other := range blocked {
		if other == id {
			continue
		}
		if _, err := e.replanOne(ctx, tx, app, other, actor, "a seat may be free after "+reason); err != nil {
			return err
		}
	}
	return nil
}

// replanOne replans one account and returns its new state.
func (e *Engine) replanOne(ctx context.Context, tx store.Tx, app, id, actor, reason string) (account.State, error) {
	cfg, ok := e.apps[app]
	if !ok {
		return "", nil
	}
	q, err := queueOf(tx)
	if err != nil {
		return "", err
	}
	want, u, err := desired(ctx, tx, cfg.Profile, app, id)
	if err != nil {
		return "", err
	}
	acct, found, err := q.Account(ctx, app, id)
	if err != nil {
		return "", err
	}
	if !found {
		if !want.Exists {
			return "", nil // created and deleted before anything was planned
		}
		acct = account.Account{App: app, UserID: id}
	}
	acct.Desired = want
	if want.Exists {
		f, err := userFields(u)
		if err != nil {
			return "", err
		}
		acct.UserName, acct.Email = u.UserName, f.email
	}
	pending, err := q.Pending(ctx, app, id)
	if err != nil {
		return "", err
	}
	actions, rejected, err := notRejected(ctx, q, app, id, cfg.Adapter.Plan(want, acct.Observed))
	if err != nil {
		return "", err
	}
	actions, noSeat, err := e.checkSeats(ctx, q, cfg.Profile, acct, actions, pending)
	if err != nil {
		return "", err
	}
	if actions, err = e.reassignTargets(ctx, q, cfg.Profile, acct, u, actions); err != nil {
		return "", err
	}
	d := plan.Decide(actions, pending)
	var first int64
	for _, a := range d.New {
		t, err := e.newTask(cfg, acct, u, a, noSeat)
		if err != nil {
			return "", err
		}
		why := reason
		if a.Kind == profile.Reassign {
			// The audit trail says where the items go, or why an admin
			// chooses.
			if to := a.Params[ParamTargetEmail]; to != "" {
				why += "; items to " + to
			} else {
				why += "; an admin chooses the receiver: " + a.Params[ParamWhy]
			}
		}
		if err := q.AddTask(ctx, &t, actor, why); err != nil {
			return "", err
		}
		// Webhooks hear of the new task; enqueued in this transaction, so
		// only if the task commits. Work an executor does by itself
		// concerns admins only if it comes to them.
		if !t.Automatic() {
			if _, err := q.EnqueueTask(ctx, queue.TaskOpened, t); err != nil {
				return "", err
			}
		}
		if first == 0 {
			first = t.ID
		}
	}
	for _, t := range d.Supersede {
		if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Superseded, Actor: actor, SupersededBy: first,
			Reason: fmt.Sprintf("replaced by task %d", first)}); err != nil {
			return "", err
		}
	}
	for _, t := range d.Cancel {
		if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Cancelled, Actor: actor,
			Reason: "no longer needed after " + reason}); err != nil {
			return "", err
		}
	}
	open := len(d.Keep) + len(d.New)
	acct.BlockedReason = noSeat
	switch {
	case noSeat != "":
		acct.State = account.Blocked
	case open > 0:
		acct.State = account.Pending
	case rejected:
		acct.State = account.Blocked
	default:
		acct.State = account.Settled(acct.Observed, want)
		if s, ok := cfg.Adapter.(plan.Settler); ok {
			acct.State = s.Settle(want, acct.Observed)
		}
	}
	if err := q.PutAccount(ctx, &acct, actor, reason); err != nil {
		return "", err
	}
	if !want.Exists {
		return acct.State, nil
	}
	// The last login is the import's and the SSO side's to set; keep the
	// later of the account's and the user's.
	st := store.UserState{ProvisioningState: string(acct.State), PendingActions: open}
	if u.State != nil {
		st.LastLogin = u.State.LastLogin
	}
	if !acct.LastLogin.IsZero() && (st.LastLogin == nil || acct.LastLogin.After(*st.LastLogin)) {
		at := acct.LastLogin
		st.LastLogin = &at
	}
	return acct.State, tx.SetUserState(ctx, app, id, st)
}

// notRejected leaves out of actions the one an approver last rejected:
// it comes back only when the IdP asks for something else.
func notRejected(ctx context.Context, q queue.Queue, app, id string, actions []plan.Action) ([]plan.Action, bool, error) {
	last, found, err := q.LastClosed(ctx, app, id)
	if err != nil || !found || last.Status != task.Rejected {
		return actions, false, err
	}
	var out []plan.Action
	rejected := false
	for _, a := range actions {
		if string(a.Kind) == last.Kind && a.Role == last.Role {
			rejected = true
			continue
		}
		out = append(out, a)
	}
	return out, rejected, nil
}

// newTask builds the task for action a on acct; noSeat is why the app
// has no seat, for a FreeSeat action.
func (e *Engine) newTask(app App, acct account.Account, u store.User, a plan.Action, noSeat string) (task.Task, error) {
	p := app.Profile
	f, err := userFields(u)
	if err != nil {
		return task.Task{}, err
	}
	userName := acct.UserName
	// A FreeSeat task is due and assigned like the role change it waits for.
	kind := a.Kind
	var steps []string
	if a.Kind == plan.FreeSeat {
		kind = profile.SetRole
		steps = freeSeatSteps(p, acct, a.Role, noSeat)
	} else if steps, err = p.Render(a.Kind, profile.RunbookData{
		App: acct.App, UserName: userName, Email: acct.Email, DisplayName: f.displayName,
		GivenName: f.givenName, FamilyName: f.familyName, Role: a.Role, PreviousRole: a.PreviousRole,
		Target: a.Params[ParamTargetEmail], Candidates: splitList(a.Params[ParamCandidates]), Setting: a.Params["setting"],
		PreviousEmail: a.Params["previous_email"],
	}); err != nil {
		return task.Task{}, err
	}
	executor := a.Executor
	// A reassignment without a receiver waits for an admin's choice.
	if executor == "" && !(a.Kind == profile.Reassign && a.Params[ParamTargetUser] == "") {
		executor = app.Automatic[a.Kind]
	}
	t := task.Task{
		App: acct.App, UserID: acct.UserID, UserName: userName, Kind: string(a.Kind), Status: task.Open,
		Role: a.Role, PreviousRole: a.PreviousRole, Steps: steps, Assignee: p.Assignee[kind],
		Executor: cmp.Or(executor, task.Manual), Params: a.Params,
	}
	if d := p.Deadlines[kind]; d > 0 {
		t.Due = e.now().Add(d)
	}
	if t.Automatic() {
		t.Assignee = System
		return t, nil
	}
	if p.NeedsApproval(a.Kind, a.Role) {
		t.Status = task.AwaitingApproval
	}
	return t, nil
}

// errNotSQLite means the engine was given a store it cannot keep its
// queue in.
var errNotSQLite = errors.New("engine: the queue needs the SQLite store")

func queueOf(tx store.Tx) (queue.Queue, error) {
	s, ok := sqlite.TxSQL(tx)
	if !ok {
		return queue.Queue{}, errNotSQLite
	}
	return queue.In(s), nil
}

// fields are the user attributes planning and runbooks use.
type fields struct {
	active                                    bool
	email, displayName, givenName, familyName string
}

func userFields(u store.User) (fields, error) {
	var doc struct {
		Active      *bool  `json:"active"`
		DisplayName string `json:"displayName"`
		Name        struct {
			GivenName  string `json:"givenName"`
			FamilyName string `json:"familyName"`
		} `json:"name"`
		Emails []struct {
			Value   string `json:"value"`
			Type    string `json:"type"`
			Primary bool   `json:"primary"`
		} `json:"emails"`
	}
	if len(u.Attributes) > 0 {
		if err := json.Unmarshal(u.Attributes, &doc); err != nil {
			return fields{}, fmt.Errorf("user %s: %w", u.ID, err)
		}
	}
	f := fields{active: doc.Active == nil || *doc.Active, displayName: doc.DisplayName,
		givenName: doc.Name.GivenName, familyName: doc.Name.FamilyName, email: u.UserName}
	// The work email, else the primary one, else the first; the userName
	// when the user has none (IdPs usually make it the sign-in address).
	// Reads of the store leave u.Emails empty; the attributes hold them.
	emails := u.Emails
	if len(emails) == 0 {
		for _, em := range doc.Emails {
			emails = append(emails, store.Email{Value: em.Value, Type: em.Type, Primary: em.Primary})
		}
	}
	best := -1
	for _, em := range emails {
		if strings.TrimSpace(em.Value) == "" {
			continue
		}
		rank := 1
		switch {
		case strings.EqualFold(em.Type, "work"):
			rank = 3
		case em.Primary:
			rank = 2
		}
		if best < 0 || rank > best {
			best, f.email = rank, em.Value
		}
	}
	return f, nil
}

// Details are the parts of a user that runbooks and SSO assertions show.
type Details struct {
	Active                                    bool
	Email, DisplayName, GivenName, FamilyName string
}

// UserDetails returns u's details; a user whose attributes cannot be read
// has only its userName as email.
func UserDetails(u store.User) Details {
	f, err := userFields(u)
	if err != nil {
		return Details{Email: u.UserName}
	}
	return Details{Active: f.active, Email: f.email, DisplayName: f.displayName, GivenName: f.givenName, FamilyName: f.familyName}
}

// splitList splits a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}
