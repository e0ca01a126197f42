package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/api"
)

// Config is what a run of the script needs.
type Config struct {
	// URL is scimbridge's public URL.
	URL string
	// SCIMTokens holds a SCIM token for each app, by app name.
	SCIMTokens map[string]string
	// AdminToken is the admin token of the company's IT, who works some
	// of the tasks during the script; AdminName is who it acts as.
	AdminToken string
	AdminName  string
	// Pace is the pause after each step, for a person to read it.
	Pace time.Duration
	// Out receives the story.
	Out io.Writer
	// Drained reports whether scimbridge's engine has taken in every
	// change the IdP made so far.
	Drained func(context.Context) (bool, error)
	// Notes, if set, returns what the stand-in apps did since it was
	// last called, one line each.
	Notes func() []string
	// Client makes the requests (default: one with a 30 s timeout).
	Client *http.Client
}

// Outcome is what the script leaves for the person to try.
type Outcome struct {
	Tips []string
}

// settleTimeout bounds the wait for scimbridge to finish what one step
// set off; the script goes on after it, saying so.
const settleTimeout = 30 * time.Second

// script is one run.
type script struct {
	cfg    Config
	out    io.Writer
	people map[string]*person
	roster []*person
	apps   []app
	scim   map[string]*scimClient
	groups map[string]map[string]string // app → group name → SCIM id
	admin  *adminClient
}

// Run pushes the company through its story, printing each step and what
// scimbridge made of it, and returns when the story is told or ctx ends.
func Run(ctx context.Context, cfg Config) (Outcome, error) {
	if cfg.Out == nil || cfg.Drained == nil {
		return Outcome{}, errors.New("demo script: Out and Drained are required")
	}
	if cfg.Pace < 0 {
		return Outcome{}, fmt.Errorf("demo script: the pace %s is negative", cfg.Pace)
	}
	hc := cfg.Client
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base := strings.TrimRight(cfg.URL, "/")
	s := &script{cfg: cfg, out: cfg.Out, people: map[string]*person{}, apps: apps(),
		scim: map[string]*scimClient{}, groups: map[string]map[string]string{},
		admin: newAdminClient(hc, base, cfg.AdminToken)}
	for _, p := range company() {
		s.people[p.key] = p
		s.roster = append(s.roster, p)
	}
	for _, a := range s.apps {
		tok := cfg.SCIMTokens[a.name]
		if tok == "" {
			return Outcome{}, fmt.Errorf("demo script: no SCIM token for app %s", a.name)
		}
		s.scim[a.name] = newSCIMClient(hc, base+"/apps/"+a.name+"/scim/v2", tok)
		s.groups[a.name] = map[string]string{}
	}
	steps := []struct {
		title string
		run   func(context.Context) error
	}{
		{"Okta connects four apps and pushes 10 people to them over SCIM: to each app, the groups assigned to it and their members", s.connect},
		{"IT works through the first tasks, through the admin API as " + cfg.AdminName, s.firstTasks},
		{"Joiner: Maya Chen starts as an Account Executive in Sales", func(ctx context.Context) error { return s.join(ctx, "maya") }},
		{"Joiner: Noah Fischer starts as a Software Engineer in Engineering", func(ctx context.Context) error { return s.join(ctx, "noah") }},
		{"Mover: Ben Okafor moves from Engineering to Security", s.move},
		{"Leaver: Luis Ortega leaves; Okta deactivates him in his four apps", s.leave},
		{"IT disables Luis Ortega in 6sense and SixMap, as their tasks say", s.disableLeaver},
		{"Leave: Erik Lund goes on a long leave; Okta deactivates him", s.goOnLeave},
		{"Return: Erik Lund comes back; Okta reactivates him", s.comeBack},
		{"Email change: Chloe Martin marries and becomes Chloe Dubois", s.rename},
	}
	for i, st := range steps {
		fmt.Fprintf(s.out, "\n[%d/%d] %s\n", i+1, len(steps), st.title)
		if err := st.run(ctx); err != nil {
			return Outcome{}, fmt.Errorf("step %d (%s): %w", i+1, st.title, err)
		}
		s.printNotes()
		if i < len(steps)-1 {
			if err := sleep(ctx, cfg.Pace); err != nil {
				return Outcome{}, err
			}
		}
	}
	return s.outcome(ctx)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// push creates p in every app the IdP assigns them, each time followed
// at once by their memberships of the app's groups, as Okta does.
// Together, the two reach scimbridge's engine nearly always in one batch,
// so that the user is planned with the role their groups give.
func (s *script) push(ctx context.Context, p *person) error {
	for _, a := range s.apps {
		if !a.assigned(p) {
			continue
		}
		c := s.scim[a.name]
		id, err := c.createUser(ctx, p)
		if err != nil {
			return fmt.Errorf("%s: %w", a.label, err)
		}
		p.ids[a.name] = id
		for _, g := range p.groups {
			if gid := s.groups[a.name][g]; gid != "" {
				if err := c.addMembers(ctx, gid, []member{{id, p.name()}}); err != nil {
					return fmt.Errorf("%s: %w", a.label, err)
				}
			}
		}
	}
	return nil
}

// connect is the IdP's first push: the groups assigned to each app, then
// the people.
func (s *script) connect(ctx context.Context) error {
	for _, a := range s.apps {
		for _, g := range a.groups {
			gid, err := s.scim[a.name].createGroup(ctx, g)
			if err != nil {
				return fmt.Errorf("%s: %w", a.label, err)
			}
			s.groups[a.name][g] = gid
		}
	}
	var first []*person
	for _, p := range s.roster {
		if slices.Contains(joiners(), p.key) {
			continue
		}
		first = append(first, p)
		if err := s.push(ctx, p); err != nil {
			return err
		}
	}
	return s.settleAndReport(ctx, time.Time{}, first...)
}

// firstTasks has IT invite the SixMap members and promote the 6sense
// users, and leaves People.ai's tasks for the person.
func (s *script) firstTasks(ctx context.Context) error {
	for _, p := range s.roster {
		if err := s.itDone(ctx, "sixmap", p, "create"); err != nil {
			return err
		}
	}
	for _, p := range s.roster {
		if err := s.itDone(ctx, "sixsense", p, "set_role"); err != nil {
			return err
		}
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	if err := s.printSeats(ctx, "sixsense"); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "  People.ai's tasks stay open for you to work in the console.")
	return nil
}

func (s *script) join(ctx context.Context, key string) error {
	since := time.Now()
	p := s.people[key]
	if err := s.push(ctx, p); err != nil {
		return err
	}
	return s.settleAndReport(ctx, since, p)
}

// move is a change of department: Okta updates the profile, then the
// group memberships.
func (s *script) move(ctx context.Context) error {
	since := time.Now()
	p := s.people[moverKey]
	p.groups = []string{moverTo}
	for _, a := range s.apps {
		id := p.ids[a.name]
		if id == "" {
			continue
		}
		c := s.scim[a.name]
		if err := c.replaceUser(ctx, id, p); err != nil {
			return fmt.Errorf("%s: %w", a.label, err)
		}
		if gid := s.groups[a.name][moverFrom]; gid != "" {
			if err := c.removeMember(ctx, gid, id); err != nil {
				return fmt.Errorf("%s: %w", a.label, err)
			}
		}
		if gid := s.groups[a.name][moverTo]; gid != "" {
			if err := c.addMembers(ctx, gid, []member{{id, p.name()}}); err != nil {
				return fmt.Errorf("%s: %w", a.label, err)
			}
		}
	}
	return s.settleAndReport(ctx, since, p)
}

// setActive has Okta deactivate or reactivate p in every app.
func (s *script) setActive(ctx context.Context, p *person, active bool) error {
	p.active = active
	for _, a := range s.apps {
		if id := p.ids[a.name]; id != "" {
			if err := s.scim[a.name].setActive(ctx, id, active); err != nil {
				return fmt.Errorf("%s: %w", a.label, err)
			}
		}
	}
	return nil
}

func (s *script) leave(ctx context.Context) error {
	since := time.Now()
	p := s.people[leaverKey]
	if err := s.setActive(ctx, p, false); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "  From now on scimbridge refuses his sign-ins to 6sense at once, before anyone acts in 6sense.")
	return s.settleAndReport(ctx, since, p)
}

func (s *script) disableLeaver(ctx context.Context) error {
	since := time.Now()
	p := s.people[leaverKey]
	for _, app := range []string{"sixsense", "sixmap"} {
		if err := s.itDone(ctx, app, p, "deactivate"); err != nil {
			return err
		}
	}
	fmt.Fprintln(s.out, "  Disabling him in 6sense freed his SI seat; SixMap wiped his roles and factors, which scimbridge noted.")
	if err := s.settleAndReport(ctx, since, p, s.people["maya"]); err != nil {
		return err
	}
	return s.printSeats(ctx, "sixsense")
}

func (s *script) goOnLeave(ctx context.Context) error {
	since := time.Now()
	p := s.people[returnerKey]
	if err := s.setActive(ctx, p, false); err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	if err := s.itDone(ctx, "sixmap", p, "deactivate"); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "  SixMap wiped his roles and factors; scimbridge noted what he held, to restore it if he comes back.")
	return s.settleAndReport(ctx, since, p)
}

func (s *script) comeBack(ctx context.Context) error {
	since := time.Now()
	p := s.people[returnerKey]
	if err := s.setActive(ctx, p, true); err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	if err := s.itDone(ctx, "sixmap", p, "reactivate"); err != nil {
		return err
	}
	fmt.Fprintln(s.out, "  SixMap gives back only the roles it assigns itself: scimbridge opens a task for each thing it did not.")
	return s.settleAndReport(ctx, since, p)
}

// rename changes a person's name and address; Okta puts the whole user.
func (s *script) rename(ctx context.Context) error {
	since := time.Now()
	p := s.people[renamedKey]
	p.family = renamedFamily
	p.email = strings.ToLower(p.given+"."+p.family) + "@" + Domain
	for _, a := range s.apps {
		if id := p.ids[a.name]; id != "" {
			if err := s.scim[a.name].replaceUser(ctx, id, p); err != nil {
				return fmt.Errorf("%s: %w", a.label, err)
			}
		}
	}
	return s.settleAndReport(ctx, since, p)
}

// itDone has IT do p's open tasks of kind in app and report them done.
func (s *script) itDone(ctx context.Context, appName string, p *person, kind string) error {
	id := p.ids[appName]
	if id == "" {
		return nil
	}
	tasks, err := s.admin.tasks(ctx, url.Values{"app": {appName}, "user": {id}, "status": {"open"}})
	if err != nil {
		return err
	}
	label := s.label(appName)
	for _, t := range tasks {
		if t.Kind != kind {
			continue
		}
		if err := s.admin.done(ctx, t.ID, fmt.Sprintf("Done by hand in %s, following the task's steps.", label)); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "  IT did task #%d in %s by hand: %s, for %s\n", t.ID, label, action(t), p.name())
	}
	return nil
}

func (s *script) label(appName string) string {
	for _, a := range s.apps {
		if a.name == appName {
			return a.label
		}
	}
	return appName
}

// settle waits until scimbridge has taken in every change and carried
// out every automatic task it planned for them.
func (s *script) settle(ctx context.Context) error {
	deadline := time.Now().Add(settleTimeout)
	for {
		ok, err := s.settled(ctx)
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			fmt.Fprintln(s.out, "  (scimbridge is still at work on this step; the console shows how far it got)")
			return nil
		}
		if err := sleep(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

func (s *script) settled(ctx context.Context) (bool, error) {
	drained, err := s.cfg.Drained(ctx)
	if err != nil || !drained {
		return false, err
	}
	pending, err := s.admin.tasks(ctx, url.Values{"status": {"pending"}})
	if err != nil {
		return false, err
	}
	for _, t := range pending {
		if t.Executor != "manual" {
			return false, nil
		}
	}
	return true, nil
}

func (s *script) settleAndReport(ctx context.Context, since time.Time, who ...*person) error {
	if err := s.settle(ctx); err != nil {
		return err
	}
	return s.report(ctx, since, who...)
}

// report prints, per person and app, what happened to the account's
// tasks since since, and where the account stands now. Apps that the
// step did not touch are left out. After the first push (since zero),
// tasks replaced within it are left out too: the users arrive before
// their groups, so scimbridge plans each twice.
func (s *script) report(ctx context.Context, since time.Time, who ...*person) error {
	accounts := map[string]map[string]api.Account{}
	for _, a := range s.apps {
		list, err := s.admin.accounts(ctx, a.name)
		if err != nil {
			return err
		}
		accounts[a.name] = map[string]api.Account{}
		for _, acct := range list {
			accounts[a.name][acct.UserID] = acct
		}
	}
	for _, p := range who {
		fmt.Fprintf(s.out, "  %s\n", p.label())
		for _, a := range s.apps {
			id := p.ids[a.name]
			if id == "" {
				continue
			}
			tasks, err := s.admin.tasks(ctx, url.Values{"app": {a.name}, "user": {id}})
			if err != nil {
				return err
			}
			var changed []api.Task
			for _, t := range tasks {
				replaced := t.Status == "cancelled" || t.Status == "superseded"
				if !t.Updated.Before(since) && !(since.IsZero() && replaced) {
					changed = append(changed, t)
				}
			}
			acct, found := accounts[a.name][id]
			if len(changed) == 0 && (!found || acct.Updated.Before(since)) {
				continue
			}
			line := describe(changed)
			if st := accountState(acct); found && st != "" {
				switch {
				case line == "":
					line = "nothing to do; " + st
				default:
					line += "; now " + st
				}
			}
			fmt.Fprintf(s.out, "    %-10s %s\n", a.label, line)
		}
	}
	return nil
}

// describe says what became of tasks, in order; consecutive calls to
// the app's API are told as one.
func describe(tasks []api.Task) string {
	var parts, calls []string
	flush := func() {
		if len(calls) > 0 {
			parts = append(parts, "through the app's API: "+strings.Join(calls, ", then "))
			calls = nil
		}
	}
	for _, t := range tasks {
		if t.Executor == "rest" && (t.Status == "done" || t.Status == "verified") {
			calls = append(calls, action(t))
			continue
		}
		flush()
		parts = append(parts, taskState(t))
	}
	flush()
	return strings.Join(parts, "; ")
}

// printNotes prints what the stand-in apps did.
func (s *script) printNotes() {
	if s.cfg.Notes == nil {
		return
	}
	for _, n := range s.cfg.Notes() {
		fmt.Fprintf(s.out, "    %s\n", n)
	}
}

// printSeats prints an app's seat ledger in a line.
func (s *script) printSeats(ctx context.Context, appName string) error {
	seats, err := s.admin.seats(ctx, appName)
	if err != nil {
		return err
	}
	var parts []string
	for _, m := range seats.Modules {
		if m.Limit == 0 {
			continue
		}
		p := fmt.Sprintf("%s %d of %d in use", m.Module, m.Used, m.Limit)
		if m.Pending > 0 {
			p = fmt.Sprintf("%s %d of %d in use and %d promised to an open task", m.Module, m.Used, m.Limit, m.Pending)
		}
		if m.Enforced {
			p += " (enforced by the app)"
		}
		parts = append(parts, p)
	}
	fmt.Fprintf(s.out, "  %s seats: %s\n", s.label(appName), strings.Join(parts, ", "))
	return nil
}

// accountState says where an account stands, or "" when its tasks say it.
func accountState(a api.Account) string {
	switch a.State {
	case "active":
		return "active as " + a.Observed.Role
	case "deactivated":
		return "deactivated"
	case "blocked":
		return "blocked: " + a.BlockedReason
	case "awaiting_login":
		return "waits for the user's first sign-in"
	case "absent", "deleted":
		return "no account in the app"
	}
	return ""
}

// taskState says what became of a task.
func taskState(t api.Task) string {
	what := action(t)
	switch t.Status {
	case "done", "verified":
		if t.Executor == "saml" {
			return "scimbridge signed them in once, so the app created the account, as " + t.Role
		}
		return fmt.Sprintf("task #%d done: %s", t.ID, what)
	case "awaiting_approval":
		return fmt.Sprintf("task #%d waits for an approver: %s", t.ID, what)
	case "open", "claimed":
		return fmt.Sprintf("task #%d for an admin: %s", t.ID, what)
	case "cancelled", "superseded":
		return fmt.Sprintf("task #%d no longer needed (%s)", t.ID, what)
	}
	return fmt.Sprintf("task #%d %s: %s", t.ID, t.Status, what)
}

// action says what a task does, in a few words.
func action(t api.Task) string {
	switch t.Kind {
	case "create":
		return "add as " + t.Role
	case "set_role":
		if t.PreviousRole != "" {
			return fmt.Sprintf("change the role from %s to %s", t.PreviousRole, t.Role)
		}
		return "give the role " + t.Role
	case "deactivate":
		return "deactivate"
	case "reactivate":
		return "reactivate as " + t.Role
	case "delete":
		return "delete"
	case "reassign":
		if to := t.Params["target_email"]; to != "" {
			return "hand their items to " + to
		}
		return "choose who takes over their items"
	case "restore":
		if t.Role != "" {
			return "restore the role " + t.Role
		}
		return "restore the MFA requirement"
	case "change_email":
		return fmt.Sprintf("change the address from %s to %s", t.Params["previous_email"], t.Params["email"])
	case "free_seat":
		return "free a seat for " + t.Role + ", or buy one"
	}
	return t.Kind
}

// outcome finds the tasks the person can work now.
func (s *script) outcome(ctx context.Context) (Outcome, error) {
	console := strings.TrimRight(s.cfg.URL, "/") + "/console"
	find := func(appName, key, kind, status string) []int64 {
		id := s.people[key].ids[appName]
		if id == "" {
			return nil
		}
		tasks, err := s.admin.tasks(ctx, url.Values{"app": {appName}, "user": {id}, "status": {status}})
		if err != nil {
			return nil
		}
		var out []int64
		for _, t := range tasks {
			if t.Kind == kind {
				out = append(out, t.ID)
			}
		}
		return out
	}
	ids := func(list []int64) string {
		var s []string
		for _, id := range list {
			s = append(s, fmt.Sprintf("#%d", id))
		}
		return strings.Join(s, " and ")
	}
	tips := []string{fmt.Sprintf("Open the queue, %s/tasks: what scimbridge could not do by itself, each task with its steps.", console)}
	if t := find("peopleai", "maya", "create", "open"); len(t) > 0 {
		tips = append(tips, fmt.Sprintf("Claim People.ai task %s (add Maya Chen), then mark it done with a note: %s/tasks/%d", ids(t), console, t[0]))
	}
	if t := find("peopleai", "sara", "create", "awaiting_approval"); len(t) > 0 {
		tips = append(tips, fmt.Sprintf("Approve task %s: Sara Kim is to be Admin in People.ai, which waits for an approver.", ids(t)))
	}
	if t := find("sixmap", returnerKey, "restore", "open"); len(t) > 0 {
		tips = append(tips, fmt.Sprintf("SixMap tasks %s restore what SixMap dropped when Erik Lund left and came back.", ids(t)))
	}
	tips = append(tips,
		fmt.Sprintf("The overview, %s/: the accounts of each app by state, and 6sense's seats per module.", console),
		fmt.Sprintf("The audit log, %s/audit: every change, by scimbridge, by %s, and next by you.", console, s.cfg.AdminName))
	return Outcome{Tips: tips}, nil
}
