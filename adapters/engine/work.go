package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

// What admins report about tasks. Each report is one transaction: the
// task's move, what it tells about the account, and the replanning that
// follows.

// ErrNoteRequired means a report that must say what happened did not.
var ErrNoteRequired = errors.New("a note is required: say what was done or what went wrong")

// ErrNotClaimer means someone tried to give back a task that another
// person claimed, without the right to.
var ErrNotClaimer = errors.New("only the person who claimed a task, or an approver, can give it back")

// ErrOwnRequest means an approver tried to approve their own request.
var ErrOwnRequest = errors.New("a request cannot be approved or rejected by the person who made it")

// Claim marks task id as being worked on by actor.
func (e *Engine) Claim(ctx context.Context, id int64, actor string) (task.Task, error) {
	return e.report(ctx, id, queue.Change{To: task.Claimed, Actor: actor, Reason: "claimed"}, nil)
}

// Unclaim gives task id, claimed, back to the queue. Only the person who
// claimed it may, unless anyone is set (an approver freeing the work of
// someone who is away).
func (e *Engine) Unclaim(ctx context.Context, id int64, actor string, anyone bool) (task.Task, error) {
	check := func(t task.Task) error {
		if t.Status == task.Claimed && t.By != actor && !anyone {
			return ErrNotClaimer
		}
		return nil
	}
	return e.reportChecked(ctx, id, queue.Change{To: task.Open, Actor: actor, Reason: "given back to the queue"}, check, nil)
}

// Done records that actor did task id in the app. The account's observed
// state follows the task; when the app's profile takes an admin's word,
// the task is verified at once. Files, when given, are kept with the task
// as evidence in the same transaction.
func (e *Engine) Done(ctx context.Context, id int64, actor, note, evidence string, files ...queue.Evidence) (task.Task, error) {
	if note == "" {
		return task.Task{}, ErrNoteRequired
	}
	c := queue.Change{To: task.Done, Actor: actor, Note: note, Evidence: evidence, Reason: "done: " + note}
	return e.report(ctx, id, c, func(ctx context.Context, tx store.Tx, q queue.Queue, t task.Task) (task.Task, error) {
		for _, f := range files {
			f.TaskID = t.ID
			if err := q.AddEvidence(ctx, &f, actor); err != nil {
				return t, err
			}
		}
		if err := e.observe(ctx, q, t, actor); err != nil {
			return t, err
		}
		if err := e.checkOverLimit(ctx, q, t.App); err != nil {
			return t, err
		}
		if e.apps[t.App].Profile.Verification != profile.VerifyByAdmin {
			return t, nil
		}
		return q.Move(ctx, t.ID, queue.Change{To: task.Verified, Actor: System,
			Reason: "the app's profile takes an admin's word as verification"})
	})
}

// Fail records that task id could not be done, and why; the account is
// replanned, which queues the action again.
func (e *Engine) Fail(ctx context.Context, id int64, actor, note string) (task.Task, error) {
	if note == "" {
		return task.Task{}, ErrNoteRequired
	}
	c := queue.Change{To: task.Failed, Actor: actor, Note: note, Reason: "failed: " + note}
	return e.report(ctx, id, c, func(ctx context.Context, _ store.Tx, q queue.Queue, t task.Task) (task.Task, error) {
		// Webhooks hear of the failure in the transaction that records it.
		_, err := q.EnqueueTask(ctx, queue.TaskFailed, t)
		return t, err
	})
}

// Approve opens task id, which waited for approval, on actor's word.
func (e *Engine) Approve(ctx context.Context, id int64, actor string) (task.Task, error) {
	return e.report(ctx, id, queue.Change{To: task.Open, Actor: actor, Reason: "approved"}, nil)
}

// Reject refuses task id, which waited for approval; note, which may be
// empty, says why. The action is not planned again until the IdP asks
// for something else.
func (e *Engine) Reject(ctx context.Context, id int64, actor, note string) (task.Task, error) {
	reason := "rejected"
	if note != "" {
		reason += ": " + note
	}
	return e.report(ctx, id, queue.Change{To: task.Rejected, Actor: actor, Note: note, Reason: reason}, nil)
}

// report moves a task, runs then (if any) on the moved task, and
// replans its account, all in one transaction.
func (e *Engine) report(ctx context.Context, id int64, c queue.Change,
	then func(context.Context, store.Tx, queue.Queue, task.Task) (task.Task, error)) (task.Task, error) {
	return e.reportChecked(ctx, id, c, nil, then)
}

// reportChecked is report with check (if any) asked about the task
// before it moves.
func (e *Engine) reportChecked(ctx context.Context, id int64, c queue.Change, check func(task.Task) error,
	then func(context.Context, store.Tx, queue.Queue, task.Task) (task.Task, error)) (task.Task, error) {
	var out task.Task
	err := e.db.Update(ctx, func(tx store.Tx) error {
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		t, err := q.Task(ctx, id)
		if err != nil {
			return err
		}
		if _, ok := e.apps[t.App]; !ok {
			return fmt.Errorf("task %d belongs to app %q, which is not configured", id, t.App)
		}
		if t.Status == task.AwaitingApproval && t.By == c.Actor {
			return ErrOwnRequest
		}
		if check != nil {
			if err := check(t); err != nil {
				return err
			}
		}
		if t, err = q.Move(ctx, id, c); err != nil {
			return err
		}
		if then != nil {
			if t, err = then(ctx, tx, q, t); err != nil {
				return err
			}
		}
		out = t
		return e.replan(ctx, tx, t.App, t.UserID, c.Actor, fmt.Sprintf("task %d %s", t.ID, t.Status))
	})
	return out, err
}

// observe records what a done task makes true in the app.
func (e *Engine) observe(ctx context.Context, q queue.Queue, t task.Task, actor string) error {
	a, found, err := q.Account(ctx, t.App, t.UserID)
	if err != nil {
		return err
	}
	if !found {
		a = account.Account{App: t.App, UserID: t.UserID, UserName: t.UserName}
	}
	o := &a.Observed
	p := e.apps[t.App].Profile
	restoring := p != nil && p.Adapter == profile.AdapterRestore
	switch profile.ActionKind(t.Kind) {
	case profile.Create, profile.Reactivate:
		// Items reassigned when the user left stay with their receiver.
		o.Exists, o.Active, o.Role, o.Reassigned, o.Email = true, true, t.Role, false, a.Email
		if restoring && t.Kind == string(profile.Reactivate) && !o.Snapshot.Empty() {
			// The app gives back only the roles it assigns itself.
			o.Role = p.JoinRoles(p.AutoRoles(a.Email))
			held := profile.SplitRoles(o.Role)
			o.Snapshot = &account.Snapshot{MFA: o.Snapshot.MFA,
				Roles: slices.DeleteFunc(slices.Clone(o.Snapshot.Roles), func(r string) bool { return slices.Contains(held, r) })}
			if o.Snapshot.Empty() {
				o.Snapshot = nil
			}
		}
	case profile.Reassign:
		o.Reassigned = true
	case profile.ChangeEmail:
		o.Email = t.Params["email"]
	case profile.Restore:
		o.Snapshot = restored(o.Snapshot, t)
		if t.Role != "" {
			o.Role = p.JoinRoles(append(profile.SplitRoles(o.Role), t.Role))
		}
	case profile.SetRole:
		o.Role = t.Role
	case profile.Deactivate:
		o.Active = false
		if restoring {
			// What the app is about to drop, to give back later.
			o.Snapshot = &account.Snapshot{Roles: profile.SplitRoles(o.Role), MFA: p.MFARequired}
		}
	case profile.Delete:
		o.Exists, o.Active, o.Role = false, false, ""
	}
	o.Source, o.At = "task", e.now()
	if profile.ActionKind(t.Kind) == profile.Reassign {
		// The receiver and the admins hear of it; the receiver is in the
		// task's params.
		if _, err := q.EnqueueTask(ctx, queue.ItemsReassigned, t); err != nil {
			return err
		}
	}
	return q.PutAccount(ctx, &a, actor, fmt.Sprintf("task %d done", t.ID))
}

// restored returns s without what task t gave back.
func restored(s *account.Snapshot, t task.Task) *account.Snapshot {
	if s == nil {
		return nil
	}
	out := &account.Snapshot{Roles: slices.DeleteFunc(slices.Clone(s.Roles), func(r string) bool { return r == t.Role }), MFA: s.MFA}
	if t.Params["setting"] == profile.SettingMFA {
		out.MFA = false
	}
	if out.Empty() {
		return nil
	}
	return out
}
