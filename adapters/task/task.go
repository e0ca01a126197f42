// Package task is a manual action in the queue: one step an admin
// performs in an app's console, and the rules of its life.
package task

import (
	"fmt"
	"slices"
	"time"
)

// Status is where a task stands.
type Status string

// The task statuses. Done is what an admin claims; verified is what
// scimbridge confirmed.
const (
	AwaitingApproval Status = "awaiting_approval"
	Open             Status = "open"
	Claimed          Status = "claimed"
	Done             Status = "done"
	Verified         Status = "verified"
	Failed           Status = "failed"
	Cancelled        Status = "cancelled"
	Superseded       Status = "superseded"
	Rejected         Status = "rejected"
)

// Pending reports whether the task still waits for someone.
func (s Status) Pending() bool {
	return s == AwaitingApproval || s == Open || s == Claimed
}

// moves are the transitions an admin or scimbridge may make.
var moves = map[Status][]Status{
	AwaitingApproval: {Open, Rejected, Cancelled, Superseded},
	Open:             {Claimed, Done, Failed, Cancelled, Superseded},
	Claimed:          {Open, Done, Failed, Cancelled, Superseded},
	Done:             {Verified, Open},
	Failed:           {},
	Verified:         {},
	Cancelled:        {},
	Superseded:       {},
	Rejected:         {},
}

// Known reports whether s is a task status.
func Known(s Status) bool {
	_, ok := moves[s]
	return ok
}

// CanMove reports whether a task may go from one status to another.
func CanMove(from, to Status) bool { return slices.Contains(moves[from], to) }

// MoveError is a transition the rules forbid.
type MoveError struct {
	ID       int64
	From, To Status
}

func (e *MoveError) Error() string {
	return fmt.Sprintf("task %d is %s; it cannot become %s", e.ID, e.From, e.To)
}

// Task is one manual action.
type Task struct {
	ID       int64
	App      string
	UserID   string
	UserName string
	Kind     string // a profile.ActionKind
	Status   Status
	// Role is the role the action gives; PreviousRole the one it replaces.
	Role         string
	PreviousRole string
	Steps        []string // the runbook, rendered for this user
	Assignee     string
	Due          time.Time
	Created      time.Time
	Updated      time.Time
	// Note and Evidence are what the admin said when finishing it.
	Note     string
	Evidence string
	// By is who last moved it; SupersededBy the task that replaced it.
	By           string
	SupersededBy int64
	// Params are the action's further values, such as the user whose
	// items a reassignment goes to (see the adapters that set them).
	Params map[string]string
	// Executor carries the task out: Manual (an admin) or the name of an
	// executor that does it by itself, which keeps its retry state here.
	Executor    string
	Attempts    int
	NextAttempt time.Time
	LastError   string
}

// Manual is the executor of tasks that admins do.
const Manual = "manual"

// Automatic reports whether an executor, not an admin, carries t out.
func (t Task) Automatic() bool { return t.Executor != "" && t.Executor != Manual }

// Overdue reports whether a pending task is past its deadline at now.
func (t Task) Overdue(now time.Time) bool {
	return t.Status.Pending() && !t.Due.IsZero() && now.After(t.Due)
}
