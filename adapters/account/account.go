// Package account holds scimbridge's record of a user's account inside a
// downstream app: what the IdP wants it to be (desired), what is known to
// be true in the app (observed), and where it stands between the two.
package account

import "time"

// State is where an account stands.
type State string

// The account states. An account is pending while work towards its
// desired state is outstanding; the others say what it is once nothing
// is.
const (
	Pending     State = "pending"
	Active      State = "active"
	Deactivated State = "deactivated"
	Deleted     State = "deleted"
	// Absent: the user is not active in the IdP and never had an account.
	Absent State = "absent"
	// Blocked: the last attempt failed and nothing new is planned, or
	// the app has no seat for the role (BlockedReason says which).
	Blocked State = "blocked"
	// AwaitingLogin: a just-in-time app creates the account at the
	// user's first SSO login, which has not happened yet.
	AwaitingLogin State = "awaiting_login"
)

// Desired is what the IdP's assignment means for the account.
type Desired struct {
	Exists bool // the user is in the shadow directory
	Active bool
	Role   string
	// Email is the user's address in the IdP now; only adapters of apps
	// where changing it has consequences look at it.
	Email string
}

// Observed is what is known to be true in the app: from an admin's
// completed task, an import of the app's user list, or an executor.
type Observed struct {
	Exists bool
	Active bool
	Role   string
	// Email is the address the account has in the app, when known.
	Email string
	// Snapshot is what the app dropped when the account was deactivated,
	// to be restored when it comes back; nil when nothing waits.
	Snapshot *Snapshot
	// Reassigned says that the items the user owns in the app were given
	// to someone else since they last left; only adapters that reassign
	// track it.
	Reassigned bool
	// Source says how it became known ("task", "import"), At when.
	Source string
	At     time.Time
}

// Account is one user's account in one app.
type Account struct {
	App      string
	UserID   string
	UserName string
	Email    string
	Desired  Desired
	Observed Observed
	State    State
	Updated  time.Time
	// LastLogin is the user's last known sign-in to the app (zero when
	// none is known).
	LastLogin time.Time
	// BlockedReason is why a blocked account is blocked, in the words the
	// app would use.
	BlockedReason string
	// AppUserID is the app's own id of the account, when an API told it.
	AppUserID string
}

// Settled returns the state of an account with no outstanding work.
func Settled(o Observed, d Desired) State {
	switch {
	case o.Exists && o.Active:
		return Active
	case o.Exists:
		return Deactivated
	case d.Exists:
		return Absent
	}
	return Deleted
}

// Snapshot is what an account held when it was deactivated in an app
// that drops roles and settings then (SixMap).
type Snapshot struct {
	Roles []string `json:"roles,omitempty"`
	MFA   bool     `json:"mfa,omitempty"` // MFA was required of the member
}

// Empty reports whether nothing is left to restore.
func (s *Snapshot) Empty() bool { return s == nil || (len(s.Roles) == 0 && !s.MFA) }
