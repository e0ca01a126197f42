package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Where a login became known.
const (
	LoginProxy     = "proxy"     // through scimbridge's SSO proxy
	LoginSimulated = "simulated" // the saml executor's simulated first login
	LoginHook      = "okta-hook" // an Okta event hook
	LoginImport    = "import"    // the last-login column of an import
	LoginAdmin     = "admin"     // an admin's confirmation
)

// ErrUnknownUser means a login names a user the app's shadow directory
// does not have.
var ErrUnknownUser = errors.New("no such user in the app")

// Login is a user's sign-in to an app, as one of the sources saw it.
type Login struct {
	App    string
	UserID string
	At     time.Time
	Source string
	// Role is the role the app gave, when the source knows it (a proxied
	// login whose assertion carried the role); empty otherwise.
	Role string
	// Actor is who reported it, for the audit trail.
	Actor string
}

// RecordLogin notes a sign-in: the account exists in the app and is
// active; at a first login it has the role the app gives then. A create
// task that waited for the login is done and verified. Recording the same
// login twice changes nothing more.
func (e *Engine) RecordLogin(ctx context.Context, l Login) error {
	cfg, ok := e.apps[l.App]
	if !ok {
		return fmt.Errorf("app %q is not configured", l.App)
	}
	actor := l.Actor
	if actor == "" {
		actor = System
	}
	return e.db.Update(ctx, func(tx store.Tx) error {
		if _, err := tx.GetUser(ctx, l.App, l.UserID, store.Load{}); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("login of user %s: %w", l.UserID, ErrUnknownUser)
			}
			return err
		}
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		acct, found, err := q.Account(ctx, l.App, l.UserID)
		if err != nil {
			return err
		}
		if !found {
			acct = account.Account{App: l.App, UserID: l.UserID}
		}
		first := !acct.Observed.Exists
		o := &acct.Observed
		switch {
		case l.Role != "":
			o.Role = l.Role
		case first:
			o.Role = cfg.Profile.JITRole
			if o.Role == "" {
				o.Role = cfg.Profile.DefaultRole
			}
		}
		if first || !o.Active || l.Role != "" {
			o.Exists, o.Active, o.Source, o.At = true, true, "login:"+l.Source, l.At
		}
		if l.At.After(acct.LastLogin) {
			acct.LastLogin = l.At
		}
		what := "login"
		if first {
			what = "first login"
		}
		reason := fmt.Sprintf("%s (%s)", what, l.Source)
		if err := q.PutAccount(ctx, &acct, actor, reason); err != nil {
			return err
		}
		if first {
			if err := closeCreate(ctx, q, l, actor, reason); err != nil {
				return err
			}
		}
		if err := e.replan(ctx, tx, l.App, l.UserID, actor, reason); err != nil {
			return err
		}
		return e.checkOverLimit(ctx, q, l.App)
	})
}

// closeCreate marks the pending create tasks of the login's user done
// and verified: the login is the proof.
func closeCreate(ctx context.Context, q queue.Queue, l Login, actor, reason string) error {
	pending, err := q.Pending(ctx, l.App, l.UserID)
	if err != nil {
		return err
	}
	for _, t := range pending {
		if t.Kind != string(profile.Create) || t.Status == task.AwaitingApproval {
			continue
		}
		note := fmt.Sprintf("the account exists: %s", reason)
		if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Done, Actor: actor, Note: note, Reason: note}); err != nil {
			return err
		}
		if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Verified, Actor: actor, Reason: note}); err != nil {
			return err
		}
	}
	return nil
}
