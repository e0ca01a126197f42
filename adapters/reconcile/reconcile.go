// Package reconcile compares an export of an app's user list with what
// scimbridge believes about the app's accounts, and says what follows:
// which tasks marked done the export confirms (verify) or contradicts
// (reopen, or wait while the export may still lag), what is now known
// about each account, and the drift the IdP did not ask for (orphans,
// missing accounts, wrong roles). It only computes; package engine
// applies a Result.
//
// Two rules keep an import safe. Only what the file says is a fact: a
// column the file lacks, or an empty cell, never changes or removes
// anything. And the mode is explicit: a snapshot lists every account in
// the app, so an account it leaves out is gone; a delta lists some, so an
// account it leaves out is simply not mentioned.
package reconcile

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// Mode says what an account the file leaves out means.
type Mode string

// The import modes.
const (
	// Snapshot: the file lists every account in the app.
	Snapshot Mode = "snapshot"
	// Delta: the file lists some accounts; absence means nothing.
	Delta Mode = "delta"
)

// ParseMode reads a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(strings.ToLower(strings.TrimSpace(s))); m {
	case Snapshot, Delta:
		return m, nil
	}
	return "", fmt.Errorf("%q is not an import mode: use snapshot (the file lists every account) or delta (only the accounts listed)", s)
}

// Kind is what a finding is.
type Kind string

// The kinds of finding, in the order a Result lists them.
const (
	// Verify: the file shows what a done task claimed; it becomes verified.
	Verify Kind = "verify"
	// Reopen: the file contradicts a task done longer ago than the grace
	// period; it opens again.
	Reopen Kind = "reopen"
	// Wait: the file contradicts a task done within the grace period; the
	// export may lag, so the account is left as it is.
	Wait Kind = "wait"
	// Unconfirmed: the file can neither confirm nor contradict a done
	// task (it lacks the column that would tell); the task stays done.
	Unconfirmed Kind = "unconfirmed"
	// Observed: what is known of the account in the app changes.
	Observed Kind = "observed"
	// Missing: a snapshot leaves out an account the IdP wants and
	// scimbridge knew to exist (drift).
	Missing Kind = "missing"
	// WrongRole: the account's role in the app is not the one the IdP
	// wants and no task is under way to change it (drift).
	WrongRole Kind = "wrong_role"
	// Orphan: an account in the app that the IdP did not assign (drift).
	// Orphans are listed and kept, never acted on.
	Orphan Kind = "orphan"
	// Ambiguous: a row matches several users; it is left alone.
	Ambiguous Kind = "ambiguous"
	// Resolved: drift found before that this import no longer shows.
	Resolved Kind = "resolved"
)

// Kinds returns every kind, in the order a Result lists them.
func Kinds() []Kind {
	return []Kind{Verify, Reopen, Wait, Unconfirmed, Observed, Missing, WrongRole, Orphan, Ambiguous, Resolved}
}

// IsDrift reports whether findings of kind k are drift, kept until an
// import no longer shows them.
func (k Kind) IsDrift() bool { return k == Missing || k == WrongRole || k == Orphan }

// Finding is one thing an import found.
type Finding struct {
	Kind     Kind   `json:"kind"`
	Email    string `json:"email"`
	UserID   string `json:"userId,omitempty"`
	UserName string `json:"userName,omitempty"`
	// Row is the file's row, when the finding comes from one.
	Row int `json:"row,omitempty"`
	// TaskID and TaskKind name the task of verify, reopen, wait and
	// unconfirmed.
	TaskID   int64  `json:"taskId,omitempty"`
	TaskKind string `json:"taskKind,omitempty"`
	// Drift is the kind of drift a Resolved finding ends.
	Drift Kind `json:"drift,omitempty"`
	// Expected and Found are the two sides of drift.
	Expected string `json:"expected,omitempty"`
	Found    string `json:"found,omitempty"`
	Detail   string `json:"detail"`
}

// State is what is known of an account in the app.
type State struct {
	Exists bool   `json:"exists"`
	Active bool   `json:"active"`
	Role   string `json:"role,omitempty"`
}

// Same reports whether s and o say the same; roles match in any case.
func (s State) Same(o State) bool {
	return s.Exists == o.Exists && s.Active == o.Active && strings.EqualFold(s.Role, o.Role)
}

func (s State) String() string {
	role := s.Role
	if role == "" {
		role = "-"
	}
	switch {
	case !s.Exists:
		return "no account"
	case !s.Active:
		return "deactivated (" + role + ")"
	}
	return "active (" + role + ")"
}

// StateOf is the State of an observation.
func StateOf(o account.Observed) State {
	return State{Exists: o.Exists, Active: o.Active, Role: o.Role}
}

// Observation is what an import makes known of one account: its observed
// state before (Was, to detect a change made since the diff) and after.
type Observation struct {
	UserID    string
	Email     string
	Was, Now  State
	LastLogin *time.Time
}

// Result is the outcome of Diff: what an import would change.
type Result struct {
	App string `json:"app"`
	// Source names what was imported, such as the file's name; Diff
	// leaves it to the caller.
	Source  string        `json:"source,omitempty"`
	Mode    Mode          `json:"mode"`
	Now     time.Time     `json:"now"`
	Grace   time.Duration `json:"-"`
	Rows    int           `json:"rows"`
	Columns Columns       `json:"columns"`
	// Findings are in the order of Kinds, then by email.
	Findings []Finding `json:"findings"`
	// Observations are the accounts the file speaks of, changed or not;
	// applying them records that the import saw them.
	Observations []Observation `json:"-"`
}

// Count returns how many findings are of kind k.
func (r Result) Count(k Kind) int {
	n := 0
	for _, f := range r.Findings {
		if f.Kind == k {
			n++
		}
	}
	return n
}

// Changes reports whether applying r would change anything but the time
// accounts were last seen.
func (r Result) Changes() bool {
	for _, f := range r.Findings {
		if f.Kind != Wait && f.Kind != Unconfirmed && f.Kind != Ambiguous {
			return true
		}
	}
	return false
}

// DriftKey names drift already recorded for the app.
type DriftKey struct {
	Email string
	Kind  Kind
}

// Input is everything Diff compares.
type Input struct {
	App      string
	Accounts []account.Account
	// Tasks are the app's tasks; Diff looks at the done and pending ones.
	Tasks []task.Task
	// Drift is the app's open drift, so that what the file no longer
	// shows is resolved.
	Drift []DriftKey
	// Roles are the app's role names, so that a role read from the file
	// is kept in the profile's spelling.
	Roles []string
	File  File
	Mode  Mode
	// Now is the time of the import; a task done longer than Grace before
	// it that the file contradicts is reopened.
	Now   time.Time
	Grace time.Duration
}

// Diff compares the export in in.File with the accounts and tasks. It
// reads nothing and changes nothing.
func Diff(in Input) Result {
	d := newDiffer(in)
	for i := range in.Accounts {
		d.account(i)
	}
	d.orphans()
	d.resolve()
	r := Result{App: in.App, Mode: in.Mode, Now: in.Now, Grace: in.Grace, Rows: len(in.File.Rows),
		Columns: in.File.Columns, Findings: d.findings, Observations: d.observations}
	rank := map[Kind]int{}
	for i, k := range Kinds() {
		rank[k] = i
	}
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		if c := rank[a.Kind] - rank[b.Kind]; c != 0 {
			return c
		}
		return strings.Compare(fold(a.Email), fold(b.Email))
	})
	if r.Findings == nil {
		r.Findings = []Finding{}
	}
	return r
}

type differ struct {
	in           Input
	rows         map[string]*Row // by folded email
	owner        map[string]int  // row email → account index
	rowOf        map[int]*Row    // account index → its row
	skip         map[int]bool    // accounts the file cannot be said to list or leave out
	byKey        map[string]int  // folded email or user name → an account
	done         map[string][]task.Task
	pending      map[string][]task.Task
	held         map[string]bool // emails whose facts this import does not apply
	raised       map[DriftKey]bool
	findings     []Finding
	observations []Observation
}

func newDiffer(in Input) *differ {
	d := &differ{in: in, rows: map[string]*Row{}, owner: map[string]int{}, rowOf: map[int]*Row{}, skip: map[int]bool{}, byKey: map[string]int{},
		done: map[string][]task.Task{}, pending: map[string][]task.Task{}, held: map[string]bool{}, raised: map[DriftKey]bool{}}
	for i := range in.File.Rows {
		r := &in.File.Rows[i]
		d.rows[fold(r.Email)] = r
	}
	for _, t := range in.Tasks {
		switch {
		case t.Status == task.Done:
			d.done[t.UserID] = append(d.done[t.UserID], t)
		case t.Status.Pending():
			d.pending[t.UserID] = append(d.pending[t.UserID], t)
		}
	}
	for _, list := range d.done {
		slices.SortFunc(list, func(a, b task.Task) int { return cmp.Compare(a.ID, b.ID) })
	}
	d.match()
	return d
}

// match gives each row the account it speaks of: by the account's email,
// else its user name. Several accounts can share an email (a user the
// IdP removed and one it added later): the one the IdP assigns wins, then
// one with work under way; a tie is ambiguous.
func (d *differ) match() {
	cands := map[string][]int{}
	for i, a := range d.in.Accounts {
		for _, k := range []string{fold(a.Email), fold(a.UserName)} {
			if _, ok := d.byKey[k]; !ok && k != "" {
				d.byKey[k] = i
			}
		}
		for _, k := range []string{fold(a.Email), fold(a.UserName)} {
			if _, ok := d.rows[k]; ok && k != "" {
				cands[k] = append(cands[k], i)
				break
			}
		}
	}
	for email, list := range cands {
		best, at := 0, []int{}
		for _, i := range list {
			switch r := d.rank(i); {
			case r > best:
				best, at = r, []int{i}
			case r == best && r > 0:
				at = append(at, i)
			}
		}
		// The row may be the account of any of them: those it is not
		// given to are neither listed nor left out, and are left as they
		// are.
		for _, i := range list {
			if len(at) != 1 || i != at[0] {
				d.skip[i] = true
			}
		}
		switch {
		case len(at) == 1:
			d.owner[email] = at[0]
			d.rowOf[at[0]] = d.rows[email]
		case len(at) > 1:
			row := d.rows[email]
			var ids []string
			for _, i := range at {
				d.held[fold(d.in.Accounts[i].Email)] = true
				ids = append(ids, d.in.Accounts[i].UserID)
			}
			slices.Sort(ids)
			d.held[email] = true
			d.owner[email] = -1
			d.add(Finding{Kind: Ambiguous, Email: row.Email, Row: row.Row,
				Detail: "matches several users (" + strings.Join(ids, ", ") + "); give them distinct emails in the IdP"})
		}
	}
}

// rank is how strongly account i claims a row that matches it.
func (d *differ) rank(i int) int {
	a := d.in.Accounts[i]
	switch {
	case a.Desired.Exists:
		return 2
	case len(d.done[a.UserID]) > 0 || len(d.pending[a.UserID]) > 0:
		return 1
	}
	return 0
}

func (d *differ) add(f Finding) { d.findings = append(d.findings, f) }

// facts are what the file says of one account; a nil field is unknown.
type facts struct {
	listed *bool
	active *bool
	role   string // "" unknown
}

func (d *differ) factsOf(row *Row) facts {
	if row == nil {
		if d.in.Mode != Snapshot {
			return facts{}
		}
		no := false
		return facts{listed: &no, active: &no} // gone, so without access
	}
	yes := true
	return facts{listed: &yes, active: row.Active, role: row.Role}
}

func (d *differ) account(i int) {
	if d.skip[i] {
		return
	}
	a := d.in.Accounts[i]
	row := d.rowOf[i]
	if row == nil && d.in.Mode != Snapshot {
		return // a delta says nothing of accounts it leaves out
	}
	f := d.factsOf(row)
	was := StateOf(a.Observed)
	base := Finding{Email: a.Email, UserID: a.UserID, UserName: a.UserName}
	if row != nil {
		base.Row = row.Row
	}

	verdicts := d.verdicts(a, f)
	waiting := false
	for _, v := range verdicts {
		if v.kind == Wait {
			waiting = true
		}
	}
	reopened := false
	for _, v := range verdicts {
		fd := base
		fd.TaskID, fd.TaskKind, fd.Kind, fd.Detail = v.task.ID, v.task.Kind, v.kind, v.detail
		if waiting && v.kind == Reopen {
			fd.Kind = Wait
			fd.Detail += "; left done while another task of the user is within its grace period"
		}
		if fd.Kind == Reopen {
			reopened = true
		}
		d.add(fd)
	}
	if waiting {
		// The export may predate a task: none of its facts about this
		// account are applied, and its drift is neither raised nor
		// resolved.
		d.held[fold(a.Email)] = true
		if row != nil {
			d.held[fold(row.Email)] = true
		}
		return
	}

	now := d.next(a, was, row)
	if row == nil && !was.Exists {
		return // left out of a snapshot and not known to exist: nothing to record
	}
	o := Observation{UserID: a.UserID, Email: a.Email, Was: was, Now: now}
	if row != nil {
		o.LastLogin = row.LastLogin
	}
	d.observations = append(d.observations, o)
	if !now.Same(was) {
		fd := base
		fd.Kind, fd.Detail = Observed, was.String()+" -> "+now.String()
		d.add(fd)
	}
	switch {
	case row == nil && was.Exists && a.Desired.Exists && len(d.done[a.UserID]) == 0:
		fd := base
		fd.Kind, fd.Detail = Missing, "not in the app's user list, but known as "+was.String()
		fd.Expected, fd.Found = was.String(), "not listed"
		d.raise(fd)
	case row != nil && row.Role != "" && a.Desired.Exists && a.Desired.Active && !reopened &&
		!strings.EqualFold(row.Role, a.Desired.Role) && len(d.pending[a.UserID]) == 0:
		fd := base
		fd.Kind, fd.Detail = WrongRole, fmt.Sprintf("role %s in the app; the IdP wants %s", row.Role, a.Desired.Role)
		fd.Expected, fd.Found = a.Desired.Role, row.Role
		d.raise(fd)
	}
}

// next is the account's observed state once the file's facts apply.
func (d *differ) next(a account.Account, was State, row *Row) State {
	if row == nil {
		return State{} // left out of a snapshot: gone
	}
	now := was
	if !was.Exists {
		// Seen for the first time: an export without a status or role
		// column lists users as they are meant to be.
		now = State{Active: true, Role: a.Desired.Role}
	}
	now.Exists = true
	if row.Active != nil {
		now.Active = *row.Active
	}
	if row.Role != "" {
		now.Role = d.spell(row.Role)
	}
	return now
}

// spell returns role in the spelling of the app's roles.
func (d *differ) spell(role string) string {
	for _, r := range d.in.Roles {
		if strings.EqualFold(r, role) {
			return r
		}
	}
	return role
}

func (d *differ) raise(f Finding) {
	d.raised[DriftKey{fold(f.Email), f.Kind}] = true
	d.add(f)
}

// orphans reports the rows that no account the IdP assigns claims.
func (d *differ) orphans() {
	for i := range d.in.File.Rows {
		row := &d.in.File.Rows[i]
		email := fold(row.Email)
		if _, owned := d.owner[email]; owned {
			continue
		}
		detail := "in the app, but the IdP did not assign it"
		if i, ok := d.byKey[email]; ok {
			detail = "in the app, but the IdP removed the user (" + d.in.Accounts[i].UserID + ")"
		}
		said := []string{"listed"}
		if row.Active != nil {
			said = append(said, map[bool]string{true: "active", false: "inactive"}[*row.Active])
		}
		if row.Role != "" {
			said = append(said, "role "+row.Role)
		}
		found := strings.Join(said, ", ")
		d.raise(Finding{Kind: Orphan, Email: row.Email, Row: row.Row, Detail: detail + "; " + found,
			Expected: "no account", Found: found})
	}
}

// resolve ends open drift that this import could have seen and did not.
func (d *differ) resolve() {
	for _, k := range d.in.Drift {
		email := fold(k.Email)
		if d.raised[DriftKey{email, k.Kind}] || d.held[email] {
			continue
		}
		_, listed := d.rows[email]
		if !listed && d.in.Mode != Snapshot {
			continue // a delta says nothing of it
		}
		if k.Kind == WrongRole && listed && d.in.File.Columns.Role == "" {
			continue // nothing says what the role is now
		}
		var why string
		switch k.Kind {
		case Orphan:
			why = "no longer an unassigned account in the app"
		case Missing:
			why = "no longer missing from the app"
		case WrongRole:
			why = "the role in the app is no longer wrong"
		default:
			why = "no longer found"
		}
		d.add(Finding{Kind: Resolved, Email: k.Email, Drift: k.Kind, Detail: why})
	}
}

// verdict is what the file says of one done task.
type verdict struct {
	task   task.Task
	kind   Kind // Verify, Reopen, Wait or Unconfirmed
	detail string
}

// aspect is one thing a task makes true of an account.
type aspect int

const (
	exists aspect = 1 << iota
	active
	role
)

// claim is what a done task makes true: the aspects it sets, those the
// file must show for the task to be verified, and their values.
type claim struct {
	sets, must    aspect
	exists, activ bool
	role          string
	// gone: the task removes the account, so only its absence counts.
	gone bool
}

func claimOf(t task.Task) claim {
	switch profile.ActionKind(t.Kind) {
	case profile.Create:
		// The user being listed is enough: status and role are checked
		// when the file has them.
		return claim{sets: exists | active | role, must: exists, exists: true, activ: true, role: t.Role}
	case profile.Reactivate:
		// Exports without a status column may list deactivated users too.
		return claim{sets: exists | active | role, must: exists | active, exists: true, activ: true, role: t.Role}
	case profile.SetRole:
		return claim{sets: exists | role, must: exists | role, exists: true, role: t.Role}
	case profile.Deactivate:
		return claim{sets: active, must: active, activ: false}
	case profile.Delete:
		// Only absence from a snapshot confirms a delete: a listed user,
		// even inactive, still has an account.
		return claim{sets: exists | active | role, must: exists, gone: true}
	}
	return claim{}
}

// verdicts checks the account's done tasks against the file. A task is
// checked only on what no later done task changed again: a create
// followed by a deactivate is not contradicted by the user being
// inactive. A task whose every effect a later one overtook follows the
// newest task's verdict.
func (d *differ) verdicts(a account.Account, f facts) []verdict {
	done := d.done[a.UserID]
	out := make([]verdict, len(done))
	var later aspect
	for i := len(done) - 1; i >= 0; i-- {
		t := done[i]
		c := claimOf(t)
		c.sets &^= later
		c.must &= c.sets
		later |= claimOf(t).sets
		out[i] = d.check(t, c, f)
		if c.sets == 0 && i < len(done)-1 {
			newest := out[len(done)-1]
			out[i].kind = newest.kind
			out[i].detail = fmt.Sprintf("overtaken by task %d; follows it", newest.task.ID)
			if newest.kind == Reopen {
				out[i].kind = Unconfirmed
			}
		}
	}
	return out
}

func (d *differ) check(t task.Task, c claim, f facts) verdict {
	if claimOf(t).sets == 0 {
		return verdict{task: t, kind: Unconfirmed, detail: fmt.Sprintf("an import cannot verify a %s task", t.Kind)}
	}
	if c.gone {
		c.sets &= exists
	}
	// Absent from a snapshot, an account has no access and no role; when
	// the task claims the account exists, that one contradiction says it.
	absent := f.listed != nil && !*f.listed
	var wrong, unknown, right []string
	if c.sets&exists != 0 {
		switch {
		case f.listed == nil:
			if c.must&exists != 0 {
				unknown = append(unknown, "not in the file")
			}
		case *f.listed != c.exists:
			wrong = append(wrong, map[bool]string{true: "still listed", false: "not listed"}[*f.listed])
		default:
			right = append(right, map[bool]string{true: "listed", false: "not listed"}[*f.listed])
		}
	}
	if c.sets&active != 0 && !(absent && c.sets&exists != 0) {
		switch {
		case f.active == nil:
			if c.must&active != 0 {
				unknown = append(unknown, d.missing("status"))
			}
		case *f.active != c.activ:
			wrong = append(wrong, map[bool]string{true: "active", false: "not active"}[*f.active])
		case absent:
			right = append(right, "not listed")
		default:
			right = append(right, map[bool]string{true: "active", false: "inactive"}[*f.active])
		}
	}
	if c.sets&role != 0 && !absent {
		switch {
		case f.role == "":
			if c.must&role != 0 {
				unknown = append(unknown, d.missing("role"))
			}
		case !strings.EqualFold(f.role, c.role):
			wrong = append(wrong, "role "+f.role+", not "+c.role)
		default:
			right = append(right, "role "+c.role)
		}
	}
	v := verdict{task: t}
	switch {
	case len(wrong) > 0:
		ago := d.in.Now.Sub(t.Updated)
		if ago > d.in.Grace {
			v.kind, v.detail = Reopen, fmt.Sprintf("export: %s; done %s ago, past the %s grace period",
				strings.Join(wrong, ", "), Human(ago), Human(d.in.Grace))
		} else {
			v.kind, v.detail = Wait, fmt.Sprintf("export: %s; done %s ago, the export may lag until %s",
				strings.Join(wrong, ", "), Human(ago), t.Updated.Add(d.in.Grace).UTC().Format(time.RFC3339))
		}
	case len(unknown) > 0:
		v.kind, v.detail = Unconfirmed, "cannot tell: "+strings.Join(unknown, ", ")
	default:
		v.kind, v.detail = Verify, "export: "+strings.Join(right, ", ")
	}
	return v
}

func (d *differ) missing(col string) string {
	if (col == "status" && d.in.File.Columns.Status == "") || (col == "role" && d.in.File.Columns.Role == "") {
		return "the file has no " + col + " column"
	}
	return "the " + col + " cell is empty"
}

// Human is a duration as people write it, to the minute: 25h, 1h30m,
// 45m; under a minute, to the second.
func Human(d time.Duration) string {
	if d > -time.Minute && d < time.Minute {
		return d.Round(time.Second).String()
	}
	d = d.Round(time.Minute)
	s := strings.TrimSuffix(d.String(), "0s") // 25h0m, 1h30m, 45m
	if h, ok := strings.CutSuffix(s, "h0m"); ok {
		s = h + "h"
	}
	return s
}

// Report is an import's outcome as the CLI's -json and the admin API
// print it.
type Report struct {
	Result
	GracePeriod string         `json:"gracePeriod"`
	Applied     bool           `json:"applied"`
	Summary     map[string]int `json:"summary"`
}

// NewReport reports res, applied or not.
func NewReport(res Result, applied bool) Report {
	summary := map[string]int{}
	for _, k := range Kinds() {
		summary[string(k)] = res.Count(k)
	}
	return Report{Result: res, GracePeriod: Human(res.Grace), Applied: applied, Summary: summary}
}
