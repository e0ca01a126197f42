package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

// An import of an app's user list: Preview compares it with the queue,
// Import commits what the comparison found.

// ErrStale means that an account or task an import's diff looked at
// changed before the import was committed; diffing again is safe.
var ErrStale = errors.New("the app's accounts or tasks changed since the diff was made; run the import again")

// ErrUnknownApp means an app that is not configured.
var ErrUnknownApp = errors.New("no such app")

// importReason is what the audit trail and replanning say of an import.
const importReason = "import of the app's user list"

// Preview compares the export f of app, in mode, with the app's accounts,
// tasks and open drift as of now, and returns what importing it would
// change. It changes nothing.
func (e *Engine) Preview(ctx context.Context, app string, f reconcile.File, mode reconcile.Mode, now time.Time) (reconcile.Result, error) {
	cfg, ok := e.apps[app]
	if !ok {
		return reconcile.Result{}, fmt.Errorf("app %q: %w", app, ErrUnknownApp)
	}
	if _, err := reconcile.ParseMode(string(mode)); err != nil {
		return reconcile.Result{}, err
	}
	q := queue.In(e.db.ReadSQL())
	accounts, err := q.Accounts(ctx, app)
	if err != nil {
		return reconcile.Result{}, err
	}
	tasks, err := q.Tasks(ctx, queue.Filter{App: app})
	if err != nil {
		return reconcile.Result{}, err
	}
	open, err := q.DriftOf(ctx, app, false)
	if err != nil {
		return reconcile.Result{}, err
	}
	drift := make([]reconcile.DriftKey, len(open))
	for i, d := range open {
		drift[i] = reconcile.DriftKey{Email: d.Email, Kind: reconcile.Kind(d.Kind)}
	}
	roles := make([]string, len(cfg.Profile.Roles))
	for i, r := range cfg.Profile.Roles {
		roles[i] = r.Name
	}
	return reconcile.Diff(reconcile.Input{App: app, Accounts: accounts, Tasks: tasks, Drift: drift, Roles: roles,
		File: f, Mode: mode, Now: now.UTC(), Grace: cfg.Profile.GracePeriod}), nil
}

// Import commits res, a Preview of app, on actor's behalf, in one
// transaction: what is known of each account the export speaks of, the
// tasks it verifies or reopens, the drift it found or no longer finds,
// and the replanning of every account that changed, which queues the
// next step for a reopened or drifted account. If anything res looked at
// changed since, nothing is committed and the error is ErrStale.
func (e *Engine) Import(ctx context.Context, app string, res reconcile.Result, actor string) error {
	if _, ok := e.apps[app]; !ok {
		return fmt.Errorf("app %q: %w", app, ErrUnknownApp)
	}
	if res.App != app {
		return fmt.Errorf("the diff is of app %q, not %q", res.App, app)
	}
	return e.db.Update(ctx, func(tx store.Tx) error {
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		im := importer{e: e, tx: tx, q: q, app: app, res: res, actor: actor, seen: map[string]bool{}}
		return im.run(ctx)
	})
}

// importer is one Import in its transaction.
type importer struct {
	e       *Engine
	tx      store.Tx
	q       queue.Queue
	app     string
	res     reconcile.Result
	actor   string
	touched []string // users to replan, in order
	seen    map[string]bool
	items   []queue.DriftItem // fresh drift, for the notification
}

func (im *importer) touch(userID string) {
	if userID != "" && !im.seen[userID] {
		im.seen[userID] = true
		im.touched = append(im.touched, userID)
	}
}

func (im *importer) run(ctx context.Context) error {
	for _, o := range im.res.Observations {
		if err := im.observe(ctx, o); err != nil {
			return err
		}
	}
	for _, f := range im.res.Findings {
		if err := im.apply(ctx, f); err != nil {
			return err
		}
	}
	for _, id := range im.touched {
		if err := im.e.replan(ctx, im.tx, im.app, id, im.actor, importReason); err != nil {
			return fmt.Errorf("plan user %s of app %s: %w", id, im.app, err)
		}
	}
	if err := im.lastLogins(ctx); err != nil {
		return err
	}
	if err := im.e.checkOverLimit(ctx, im.q, im.app); err != nil {
		return err
	}
	return im.notify(ctx)
}

// observe records what the export shows of one account.
func (im *importer) observe(ctx context.Context, o reconcile.Observation) error {
	a, found, err := im.q.Account(ctx, im.app, o.UserID)
	if err != nil {
		return err
	}
	if !found || !reconcile.StateOf(a.Observed).Same(o.Was) {
		return fmt.Errorf("account of %s: %w", o.Email, ErrStale)
	}
	// The export tells existence, status and role; what else is known of
	// the account (a snapshot, a reassignment) stays.
	ob := &a.Observed
	ob.Exists, ob.Active, ob.Role, ob.Source, ob.At = o.Now.Exists, o.Now.Active, o.Now.Role, "import", im.res.Now
	if o.Now.Exists {
		ob.Email = o.Email
	}
	if !o.Now.Same(o.Was) {
		if err := im.q.NoteObserved(ctx, im.app, o.UserID, im.actor, o.Was.String(), o.Now.String(), importReason); err != nil {
			return err
		}
		im.touch(o.UserID)
	}
	return im.q.PutAccount(ctx, &a, im.actor, importReason)
}

func (im *importer) apply(ctx context.Context, f reconcile.Finding) error {
	switch f.Kind {
	case reconcile.Verify:
		return im.move(ctx, f, queue.Change{To: task.Verified, Actor: im.actor, Reason: "verified by import: " + f.Detail})
	case reconcile.Reopen:
		why := "reopened by import: " + f.Detail
		return im.move(ctx, f, queue.Change{To: task.Open, Actor: im.actor, Note: why, Reason: why})
	case reconcile.Orphan, reconcile.Missing, reconcile.WrongRole:
		fresh, err := im.q.RaiseDrift(ctx, queue.Drift{App: im.app, Email: f.Email, Kind: string(f.Kind), UserID: f.UserID,
			Detail: f.Detail, LastSeen: im.res.Now}, im.actor)
		if err != nil || !fresh {
			return err
		}
		// Nothing else: an orphan is never acted on, and the account of
		// other drift changed with its observation.
		im.items = append(im.items, queue.DriftItem{UserID: f.UserID, UserName: driftName(f), What: driftWhat(f.Kind),
			Expected: f.Expected, Found: f.Found})
	case reconcile.Resolved:
		return im.q.ResolveDrift(ctx, im.app, f.Email, string(f.Drift), im.res.Now, im.actor, f.Detail)
	}
	return nil
}

func (im *importer) move(ctx context.Context, f reconcile.Finding, c queue.Change) error {
	t, err := im.q.Move(ctx, f.TaskID, c)
	var me *task.MoveError
	if errors.As(err, &me) {
		return fmt.Errorf("task %d is %s now: %w", f.TaskID, me.From, ErrStale)
	}
	if err != nil {
		return err
	}
	if c.To == task.Open {
		// The task waits for someone again, as a new one would.
		if _, err := im.q.EnqueueTask(ctx, queue.TaskOpened, t); err != nil {
			return err
		}
	}
	im.touch(t.UserID)
	return nil
}

// lastLogins shows each last login the export gives in the user's
// scimbridge extension, and keeps it on the account, where it tells
// which seats nobody uses.
func (im *importer) lastLogins(ctx context.Context) error {
	for _, o := range im.res.Observations {
		if o.LastLogin == nil {
			continue
		}
		a, found, err := im.q.Account(ctx, im.app, o.UserID)
		if err != nil {
			return err
		}
		if found && o.LastLogin.After(a.LastLogin) {
			a.LastLogin = o.LastLogin.UTC()
			if err := im.q.PutAccount(ctx, &a, im.actor, importReason); err != nil {
				return err
			}
		}
		u, err := im.tx.GetUser(ctx, im.app, o.UserID, store.Load{State: true})
		if errors.Is(err, store.ErrNotFound) {
			continue // removed from the IdP
		}
		if err != nil {
			return err
		}
		var s store.UserState
		if u.State != nil {
			s = *u.State
		}
		at := o.LastLogin.UTC()
		s.LastLogin = &at
		if err := im.tx.SetUserState(ctx, im.app, o.UserID, s); err != nil {
			return err
		}
	}
	return nil
}

// notify tells webhooks of the drift this import found first, naming the
// task it led to, if any.
func (im *importer) notify(ctx context.Context) error {
	if len(im.items) == 0 {
		return nil
	}
	for i, it := range im.items {
		if it.UserID == "" {
			continue
		}
		pending, err := im.q.Pending(ctx, im.app, it.UserID)
		if err != nil {
			return err
		}
		if len(pending) > 0 {
			im.items[i].TaskID = pending[0].ID
		}
	}
	_, err := im.q.EnqueueDrift(ctx, im.app, queue.DriftReport{Import: im.res.Source, Items: im.items})
	return err
}

func driftName(f reconcile.Finding) string {
	if f.UserName != "" {
		return f.UserName
	}
	return f.Email
}

// driftWhat is the short code of a drift notification item.
func driftWhat(k reconcile.Kind) string {
	switch k {
	case reconcile.Orphan:
		return "unexpected account"
	case reconcile.Missing:
		return "missing account"
	case reconcile.WrongRole:
		return "role"
	}
	return string(k)
}
