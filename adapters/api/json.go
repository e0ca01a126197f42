package api

import (
	"cmp"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// The JSON shapes below are shared with the command line's -json output,
// so that a script can move between the two without translating.

// Task is a task as JSON.
type Task struct {
	ID           int64     `json:"id"`
	App          string    `json:"app"`
	Kind         string    `json:"kind"`
	Status       string    `json:"status"`
	UserID       string    `json:"userId"`
	UserName     string    `json:"userName"`
	Role         string    `json:"role,omitempty"`
	PreviousRole string    `json:"previousRole,omitempty"`
	Assignee     string    `json:"assignee,omitempty"`
	Due          *string   `json:"due"`
	Overdue      bool      `json:"overdue"`
	Steps        []string  `json:"steps"`
	Note         string    `json:"note,omitempty"`
	Evidence     string    `json:"evidence,omitempty"`
	By           string    `json:"by"`
	Created      time.Time `json:"created"`
	Updated      time.Time `json:"updated"`
	SupersededBy int64     `json:"supersededBy,omitempty"`
	// Executor is "manual" for an admin's task, or the executor that
	// carries it out by itself, with its attempts so far and last error.
	Executor  string `json:"executor"`
	Attempts  int    `json:"attempts,omitempty"`
	LastError string `json:"lastError,omitempty"`
	// Params are the action's further values, such as a reassignment's
	// receiver (target_email) or, when an admin must choose, the
	// candidates and why.
	Params map[string]string `json:"params,omitempty"`
}

// TaskJSON returns t as JSON; now decides whether it is overdue.
func TaskJSON(t task.Task, now time.Time) Task {
	j := Task{ID: t.ID, App: t.App, Kind: t.Kind, Status: string(t.Status), UserID: t.UserID, UserName: t.UserName,
		Role: t.Role, PreviousRole: t.PreviousRole, Assignee: t.Assignee, Overdue: t.Overdue(now), Steps: t.Steps,
		Note: t.Note, Evidence: t.Evidence, By: t.By, Created: t.Created, Updated: t.Updated, SupersededBy: t.SupersededBy,
		Executor: cmp.Or(t.Executor, task.Manual), Attempts: t.Attempts, LastError: t.LastError, Params: t.Params}
	if j.Steps == nil {
		j.Steps = []string{}
	}
	if !t.Due.IsZero() {
		d := t.Due.UTC().Format(time.RFC3339)
		j.Due = &d
	}
	return j
}

// Account is an account as JSON.
type Account struct {
	App      string       `json:"app"`
	UserID   string       `json:"userId"`
	UserName string       `json:"userName"`
	Email    string       `json:"email"`
	State    string       `json:"state"`
	Desired  AccountState `json:"desired"`
	Observed AccountState `json:"observed"`
	Source   string       `json:"observedSource,omitempty"`
	At       *time.Time   `json:"observedAt,omitempty"`
	Updated  time.Time    `json:"updated"`
	// LastLogin is the last known sign-in to the app; BlockedReason why
	// a blocked account is blocked.
	LastLogin     *time.Time `json:"lastLogin,omitempty"`
	BlockedReason string     `json:"blockedReason,omitempty"`
}

// AccountState is the desired or the observed side of an account.
type AccountState struct {
	Exists bool   `json:"exists"`
	Active bool   `json:"active"`
	Role   string `json:"role,omitempty"`
}

// AccountJSON returns a as JSON.
func AccountJSON(a account.Account) Account {
	j := Account{App: a.App, UserID: a.UserID, UserName: a.UserName, Email: a.Email, State: string(a.State),
		Desired:  AccountState{a.Desired.Exists, a.Desired.Active, a.Desired.Role},
		Observed: AccountState{a.Observed.Exists, a.Observed.Active, a.Observed.Role},
		Source:   a.Observed.Source, Updated: a.Updated}
	if !a.Observed.At.IsZero() {
		at := a.Observed.At
		j.At = &at
	}
	if !a.LastLogin.IsZero() {
		at := a.LastLogin
		j.LastLogin = &at
	}
	j.BlockedReason = a.BlockedReason
	return j
}

// AuditEntry is one line of the audit trail as JSON.
type AuditEntry struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Actor  string    `json:"actor"`
	App    string    `json:"app"`
	UserID string    `json:"userId"`
	TaskID int64     `json:"taskId,omitempty"`
	What   string    `json:"what"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason"`
}

// AuditJSON returns e as JSON.
func AuditJSON(e queue.AuditEntry) AuditEntry {
	return AuditEntry{Seq: e.Seq, Time: e.Time, Actor: e.Actor, App: e.App, UserID: e.UserID, TaskID: e.TaskID,
		What: e.What, From: e.From, To: e.To, Reason: e.Reason}
}

// Seats is an app's seat ledger as JSON.
type Seats struct {
	App              string        `json:"app"`
	Modules          []ModuleSeats `json:"modules"`
	Blocked          []Account     `json:"blocked"`
	Reclaimable      []Reclaimable `json:"reclaimable"`
	ReclaimAfterDays int           `json:"reclaimAfterDays"`
}

// ModuleSeats is one module's seats as JSON.
type ModuleSeats struct {
	Module   string `json:"module"`
	Limit    int    `json:"limit"` // 0: no limit known
	Enforced bool   `json:"enforced"`
	Used     int    `json:"used"`
	Pending  int    `json:"pending"`
	Over     bool   `json:"overProvisioned"`
}

// Reclaimable is an account whose seats nobody seems to use, as JSON.
type Reclaimable struct {
	UserID    string     `json:"userId"`
	UserName  string     `json:"userName"`
	Role      string     `json:"role"`
	Modules   []string   `json:"modules"`
	LastLogin *time.Time `json:"lastLogin"`
}

// SeatsJSON returns s as JSON.
func SeatsJSON(s engine.Seats) Seats {
	j := Seats{App: s.App, Modules: []ModuleSeats{}, Blocked: []Account{}, Reclaimable: []Reclaimable{},
		ReclaimAfterDays: int(s.ReclaimAfter / (24 * time.Hour))}
	for _, m := range s.Modules {
		j.Modules = append(j.Modules, ModuleSeats(m))
	}
	for _, a := range s.Blocked {
		j.Blocked = append(j.Blocked, AccountJSON(a))
	}
	for _, r := range s.Reclaimable {
		x := Reclaimable{UserID: r.UserID, UserName: r.UserName, Role: r.Role, Modules: r.Modules}
		if !r.LastLogin.IsZero() {
			at := r.LastLogin
			x.LastLogin = &at
		}
		j.Reclaimable = append(j.Reclaimable, x)
	}
	return j
}
