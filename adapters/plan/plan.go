// Package plan works out the actions that bring an account from what is
// observed in the app to what the IdP wants, and what becomes of the
// work already queued for it. Planning looks only at state, never at the
// event that prompted it, so planning twice changes nothing.
package plan

import (
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// Action is one step the plan asks for.
type Action struct {
	Kind         profile.ActionKind
	Role         string // the role the account must end with
	PreviousRole string // the role it has now, for role changes
	// Executor carries the action out; empty means an admin, by task.
	Executor string
	// Params are further values of the action, such as a reassignment's
	// receiver; they do not make two actions different.
	Params map[string]string
}

// FreeSeat is the action of an account that the app has no seat for: an
// admin frees one or raises the limit. It is not an action in the app,
// so profiles have no runbook for it.
const FreeSeat profile.ActionKind = "free_seat"

// ExecutorSAML makes a just-in-time app create an account by posting an
// SSO login for the user to it.
const ExecutorSAML = "saml"

// Adapter plans actions for one kind of app. The core is Plan; abilities
// some apps have (reassigning a leaver's items, restoring roles after a
// reactivation) come as further interfaces that adapters may implement.
type Adapter interface {
	Plan(d account.Desired, o account.Observed) []Action
}

// Manual is the adapter of an app where every change is made by hand:
// one action at a time, each of which an admin can do in the console.
type Manual struct{}

// Plan asks for at most one action: the next step towards desired.
func (Manual) Plan(d account.Desired, o account.Observed) []Action {
	switch {
	case !d.Exists:
		if o.Exists {
			return []Action{{Kind: profile.Delete, PreviousRole: o.Role}}
		}
	case !d.Active:
		if o.Exists && o.Active {
			return []Action{{Kind: profile.Deactivate, Role: o.Role}}
		}
	case !o.Exists:
		return []Action{{Kind: profile.Create, Role: d.Role}}
	case !o.Active:
		return []Action{{Kind: profile.Reactivate, Role: d.Role, PreviousRole: o.Role}}
	case o.Role != d.Role:
		return []Action{{Kind: profile.SetRole, Role: d.Role, PreviousRole: o.Role}}
	}
	return nil
}

// Reassign is the adapter of an app where a leaver owns items (tasks,
// records) that must go to someone who stays: the manual plan, and for a
// leaver whose items were not reassigned yet, a Reassign action first.
// The engine picks the receiver and sets it on the action's params.
type Reassign struct{ Manual }

// Plan asks for the manual plan's action, preceded for a leaver by the
// reassignment of their items.
func (r Reassign) Plan(d account.Desired, o account.Observed) []Action {
	actions := r.Manual.Plan(d, o)
	leaving := !d.Exists || !d.Active
	if leaving && o.Exists && !o.Reassigned {
		actions = append([]Action{{Kind: profile.Reassign}}, actions...)
	}
	return actions
}

// Restore is the adapter of an app that drops roles and settings when an
// account is deactivated (SixMap wipes factors, sessions and role
// assignments but the ones it gives itself): after the reactivation, one
// Restore action per role the account held or should hold and lacks, and
// one for the MFA requirement, instead of a role change.
type Restore struct{ Manual }

// Plan asks for the manual plan's action, or, for a reactivated account
// with a snapshot, the restores.
func (r Restore) Plan(d account.Desired, o account.Observed) []Action {
	if !d.Exists || !d.Active || !o.Exists || !o.Active || o.Snapshot.Empty() {
		actions := r.Manual.Plan(d, o)
		// A new address in the app ends the member's sessions and SSO
		// registrations: an admin changes it knowingly.
		if len(actions) == 0 && d.Active && o.Active && o.Email != "" && d.Email != "" && !strings.EqualFold(o.Email, d.Email) {
			actions = []Action{{Kind: profile.ChangeEmail, Params: map[string]string{"email": d.Email, "previous_email": o.Email}}}
		}
		return actions
	}
	have := profile.SplitRoles(o.Role)
	var out []Action
	seen := map[string]bool{}
	for _, role := range append(slices.Clone(o.Snapshot.Roles), profile.SplitRoles(d.Role)...) {
		if seen[role] || slices.Contains(have, role) {
			continue
		}
		seen[role] = true
		out = append(out, Action{Kind: profile.Restore, Role: role})
	}
	if o.Snapshot.MFA {
		out = append(out, Action{Kind: profile.Restore, Params: map[string]string{"setting": profile.SettingMFA}})
	}
	return out
}

// Settler is an adapter that says itself where an account with no
// outstanding work stands, instead of account.Settled.
type Settler interface {
	Settle(d account.Desired, o account.Observed) account.State
}

// JIT is the adapter of an app that creates an account at the user's
// first SSO login, with Role, and cannot delete accounts: a leaver is
// disabled. Until the login, the account waits; with Simulate, the
// saml executor makes the login happen; with Invite (an app that also
// lets admins add users ahead of a login), an admin's create task gives
// the account its role at once.
type JIT struct {
	Role     string
	Simulate bool
	Invite   bool
}

// Plan asks for at most one action: the next step towards desired.
func (j JIT) Plan(d account.Desired, o account.Observed) []Action {
	switch {
	case !d.Exists || !d.Active:
		if o.Exists && o.Active {
			return []Action{{Kind: profile.Deactivate, Role: o.Role}}
		}
	case !o.Exists:
		if j.Simulate {
			return []Action{{Kind: profile.Create, Role: j.Role, Executor: ExecutorSAML}}
		}
		if j.Invite {
			return []Action{{Kind: profile.Create, Role: d.Role}}
		}
	case !o.Active:
		return []Action{{Kind: profile.Reactivate, Role: d.Role, PreviousRole: o.Role}}
	case o.Role != d.Role:
		return []Action{{Kind: profile.SetRole, Role: d.Role, PreviousRole: o.Role}}
	}
	return nil
}

// Settle says that an assigned user without an account awaits their
// first login.
func (JIT) Settle(d account.Desired, o account.Observed) account.State {
	if d.Exists && d.Active && !o.Exists {
		return account.AwaitingLogin
	}
	return account.Settled(o, d)
}

// Decision is what becomes of an account's queue.
type Decision struct {
	// Keep are pending tasks that still do what is needed.
	Keep []task.Task
	// Supersede are pending tasks that new ones replace (a role changed
	// again before anyone acted); Cancel are those no longer needed at
	// all (a user created and deactivated before anyone acted).
	Supersede []task.Task
	Cancel    []task.Task
	// New are the actions no pending task covers.
	New []Action
}

// Decide matches the planned actions against the pending tasks.
func Decide(actions []Action, pending []task.Task) Decision {
	var d Decision
	covered := make([]bool, len(actions))
	for _, t := range pending {
		i := matching(actions, covered, t)
		if i >= 0 {
			covered[i] = true
			d.Keep = append(d.Keep, t)
			continue
		}
		if len(actions) > 0 {
			d.Supersede = append(d.Supersede, t)
		} else {
			d.Cancel = append(d.Cancel, t)
		}
	}
	for i, a := range actions {
		if !covered[i] {
			d.New = append(d.New, a)
		}
	}
	// A superseded task whose action is kept by another is just
	// cancelled: nothing new replaces it.
	if len(d.New) == 0 && len(d.Supersede) > 0 {
		d.Cancel, d.Supersede = append(d.Cancel, d.Supersede...), nil
	}
	return d
}

func matching(actions []Action, covered []bool, t task.Task) int {
	for i, a := range actions {
		if !covered[i] && string(a.Kind) == t.Kind && a.Role == t.Role {
			return i
		}
	}
	return -1
}
