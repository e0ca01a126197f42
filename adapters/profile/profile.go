// Package profile holds the built-in knowledge of each kind of downstream
// app: its roles and role rules, how soon each kind of change is due,
// which changes need approval, how finished work is verified and the
// runbook steps an admin follows. Profiles ship inside the binary as YAML;
// an app's settings in the config file adjust them through an Override.
package profile

import (
	"bytes"
	"cmp"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"
)

// ActionKind names one step that moves an account towards its desired state.
type ActionKind string

// The kinds of action a profile knows.
const (
	Create     ActionKind = "create"     // give the user an account with its role(s)
	SetRole    ActionKind = "set_role"   // change the account's role(s)
	Deactivate ActionKind = "deactivate" // take access away, keeping the account
	Reactivate ActionKind = "reactivate" // give a deactivated account its access back
	Delete     ActionKind = "delete"     // remove the account
	// Restore gives back, after a reactivation, a role or setting the
	// app dropped on deactivation; only AdapterRestore plans it.
	Restore ActionKind = "restore"
	// ChangeEmail changes the account's email address, where that has
	// consequences an admin must know of; only AdapterRestore plans it.
	ChangeEmail ActionKind = "change_email"
	// Reassign gives the items a leaver owns in the app to another user;
	// only apps whose adapter is AdapterReassign plan it.
	Reassign ActionKind = "reassign"
)

// Kinds returns every action kind, in lifecycle order.
func Kinds() []ActionKind {
	return []ActionKind{Create, SetRole, Deactivate, Reactivate, Delete, Reassign, Restore, ChangeEmail}
}

// needsRunbook reports whether a profile must have steps for kind: every
// kind its adapter may plan.
func (p *Profile) needsRunbook(k ActionKind) bool {
	switch k {
	case Reassign:
		return p.Adapter == AdapterReassign
	case Restore, ChangeEmail:
		return p.Adapter == AdapterRestore
	}
	return true
}

func known(k ActionKind) bool { return slices.Contains(Kinds(), k) }

func kindList() string {
	names := make([]string, 0, len(Kinds()))
	for _, k := range Kinds() {
		names = append(names, string(k))
	}
	return strings.Join(names, ", ")
}

// Ways of verifying that a task marked done really happened in the app.
const (
	// VerifyByImport: an export of the app's users must show the change.
	VerifyByImport = "import"
	// VerifyByAdmin: the admin's word that it is done counts as verified.
	VerifyByAdmin = "admin"
)

// ExecutorManual carries actions out as tasks for admins. It is the only
// executor so far; the profile says which one an app needs.
const ExecutorManual = "manual"

// Defaults for what a profile leaves out.
const (
	// DefaultGracePeriod is how long an export may still lag behind a
	// task marked done before it counts as contradicting it.
	DefaultGracePeriod = 24 * time.Hour
	// DefaultDeadline applies to every kind without its own deadline.
	DefaultDeadline = 72 * time.Hour
)

// Profile is the knowledge of one kind of app. Profiles are shared between
// apps: treat one as read-only and use With to derive a changed copy.
type Profile struct {
	Name        string
	Description string
	// Executor carries out the profile's actions: ExecutorManual.
	Executor string
	// Adapter plans the app's actions: AdapterManual or AdapterJIT.
	Adapter string
	// JITRole is the role a just-in-time app gives an account at its
	// first login.
	JITRole string
	// JITOnly says that a just-in-time app creates accounts only at a
	// login. An app whose plan also lets admins add users ahead of it (an
	// invite, or the app's own SCIM add-on) sets it false, and gets a
	// create task instead of waiting.
	JITOnly bool
	// SimulateLogin makes scimbridge create a just-in-time account by
	// posting an SSO login for the user to the app, instead of waiting
	// for the user's own.
	SimulateLogin bool
	// Modules are the licensed modules whose seats are counted; each
	// role names the modules it takes a seat of.
	Modules []Module
	// ReclaimAfter is how long an assigned account may go without a
	// login before its seat counts as reclaimable.
	ReclaimAfter time.Duration
	// ReassignTo says where a leaver's items go, for AdapterReassign.
	ReassignTo ReassignTarget
	// SingleRole says that a user holds one role in the app; use Role
	// rather than RolesFor to pick it.
	SingleRole bool
	// DomainRolesByApp says that the app gives the roles of the domain
	// rules by itself (SixMap's organization settings), so that they come
	// back on their own after a reactivation.
	DomainRolesByApp bool
	// MFARequired says that the app's members must use MFA, which an
	// app that wipes factors on deactivation must be told again.
	MFARequired bool
	// Roles are the app's roles, the most privileged first: for a
	// single-role app the first matching role wins.
	Roles []Role
	// DefaultRole is the role a user gets when no rule matches; it is one
	// of Roles.
	DefaultRole string
	// Rules give roles by group membership and email domain.
	Rules RoleRules
	// Verification is VerifyByImport or VerifyByAdmin.
	Verification string
	// GracePeriod is how long after "done" an export may still lag before
	// it contradicts the task.
	GracePeriod time.Duration
	// Deadlines holds, for every kind, how soon after it is planned an
	// action is due.
	Deadlines map[ActionKind]time.Duration
	// Assignee is who a new task of the kind goes to (an email address or
	// a team name); a kind that is missing has no default assignee.
	Assignee map[ActionKind]string
	// Approval lists the actions that need approval before a task opens.
	Approval []ApprovalRule
	// Runbooks holds, per kind, the text/template source of each step.
	// Render uses the copies parsed when the profile was loaded.
	Runbooks map[ActionKind][]string

	steps map[ActionKind][]*template.Template
}

// ApprovalRule says that actions of Kind need approval when they concern
// Role: the role granted (create, set_role, reactivate) or held
// (deactivate, delete). An empty Role means any role.
type ApprovalRule struct {
	Kind ActionKind `yaml:"kind"`
	Role string     `yaml:"role"`
}

// NeedsApproval reports whether an action of kind concerning role needs
// approval before its task opens.
func (p *Profile) NeedsApproval(kind ActionKind, role string) bool {
	for _, a := range p.Approval {
		if a.Kind == kind && (a.Role == "" || strings.EqualFold(a.Role, role)) {
			return true
		}
	}
	return false
}

// Override is an app's changes to its profile, as written in the app's
// block of the config file. Zero fields leave the profile as it is.
type Override struct {
	// Roles replaces the profile's roles when not empty.
	Roles []Role `yaml:"roles"`
	// DefaultRole replaces the default role when not empty.
	DefaultRole string `yaml:"default_role"`
	// RoleRules replaces the profile's role rules as a whole when set.
	RoleRules *RoleRules `yaml:"role_rules"`
	// Runbooks replaces the steps of each kind it names.
	Runbooks map[ActionKind][]string `yaml:"runbooks"`
	// Deadlines sets the deadline of each kind it names, as a Go
	// duration such as "24h" or "90m".
	Deadlines map[ActionKind]string `yaml:"deadlines"`
	// Assignees sets the default assignee of each kind it names; an
	// empty value removes the profile's.
	Assignees map[ActionKind]string `yaml:"assignees"`
	// Approval replaces the approval rules when not nil; an empty list
	// means that nothing needs approval.
	Approval []ApprovalRule `yaml:"approval"`
	// Verification replaces the verification method when not empty.
	Verification string `yaml:"verification"`
	// GracePeriod replaces the grace period when not empty (a Go duration).
	GracePeriod string `yaml:"grace_period"`
	// Seats sets the seat limit of modules of the profile.
	Seats []SeatLimit `yaml:"seats"`
	// SimulateLogin, when set, says whether scimbridge simulates a
	// just-in-time account's first login.
	SimulateLogin *bool `yaml:"simulate_login"`
	// JITOnly, when set, says whether the just-in-time app creates
	// accounts only at a login (see Profile.JITOnly).
	JITOnly *bool `yaml:"jit_only"`
	// ReclaimAfter replaces how long without a login makes a seat
	// reclaimable (a duration such as 2160h or 90d).
	ReclaimAfter string `yaml:"reclaim_after"`
	// Reassign says where a leaver's items go.
	Reassign *ReassignTarget `yaml:"reassign"`
	// MFARequired, when set, says whether the app's members must use MFA.
	MFARequired *bool `yaml:"mfa_required"`
}

// ReassignTarget says who receives a leaver's items.
type ReassignTarget struct {
	// Default is the userName (or email) of the app's default
	// reassignee, a user the IdP assigns to the app.
	Default string `yaml:"default"`
	// ToManager prefers the leaver's manager, from the enterprise
	// extension, when the manager is an active user of the app.
	ToManager bool `yaml:"to_manager"`
}

// KeyError is a problem with one setting of a profile or override. Path
// leads to it as YAML keys, with list indexes as decimal numbers, so that
// a caller can find where the setting was written.
type KeyError struct {
	Path []string
	Err  error
}

func (e *KeyError) Error() string {
	var b strings.Builder
	for i, k := range e.Path {
		if _, err := strconv.Atoi(k); err == nil && i > 0 {
			b.WriteString("[" + k + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(k)
	}
	return b.String() + ": " + e.Err.Error()
}

func (e *KeyError) Unwrap() error { return e.Err }

func keyErr(err error, path ...string) error { return &KeyError{Path: path, Err: err} }

func keyErrf(path []string, format string, args ...any) error {
	return &KeyError{Path: path, Err: fmt.Errorf(format, args...)}
}

func index(i int) string { return strconv.Itoa(i) }

// With returns a validated copy of p changed by o. p itself is never
// changed, since profiles are shared between apps.
func (p *Profile) With(o Override) (*Profile, error) {
	if p == nil {
		return nil, errors.New("profile: With on a nil profile")
	}
	q := p.clone()
	if err := q.apply(o); err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	if err := q.validate(o); err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return q, nil
}

func (p *Profile) clone() *Profile {
	q := *p
	q.Roles = slices.Clone(p.Roles)
	q.Rules = RoleRules{Groups: slices.Clone(p.Rules.Groups), Domains: slices.Clone(p.Rules.Domains)}
	q.Deadlines = maps.Clone(p.Deadlines)
	q.Assignee = maps.Clone(p.Assignee)
	q.Approval = slices.Clone(p.Approval)
	q.Modules = slices.Clone(p.Modules)
	for i := range q.Roles {
		q.Roles[i].Modules = slices.Clone(p.Roles[i].Modules)
	}
	q.Runbooks = make(map[ActionKind][]string, len(p.Runbooks))
	for k, steps := range p.Runbooks {
		q.Runbooks[k] = slices.Clone(steps)
	}
	// validate parses the copy's steps from its own Runbooks.
	q.steps = nil
	if q.Deadlines == nil {
		q.Deadlines = map[ActionKind]time.Duration{}
	}
	if q.Assignee == nil {
		q.Assignee = map[ActionKind]string{}
	}
	return &q
}

// apply copies o's settings into p, checking what can be checked on its
// own: kinds and durations.
func (p *Profile) apply(o Override) error {
	if len(o.Roles) > 0 {
		p.Roles = slices.Clone(o.Roles)
	}
	if o.DefaultRole != "" {
		p.DefaultRole = o.DefaultRole
	}
	if o.RoleRules != nil {
		p.Rules = RoleRules{Groups: slices.Clone(o.RoleRules.Groups), Domains: slices.Clone(o.RoleRules.Domains)}
	}
	// Sorted, so that of several mistakes the same one is reported.
	for _, k := range slices.Sorted(maps.Keys(o.Runbooks)) {
		if !known(k) {
			return keyErrf([]string{"runbooks", string(k)}, "unknown action kind %q (known: %s)", k, kindList())
		}
		p.Runbooks[k] = slices.Clone(o.Runbooks[k])
	}
	for _, k := range slices.Sorted(maps.Keys(o.Deadlines)) {
		path := []string{"deadlines", string(k)}
		if !known(k) {
			return keyErrf(path, "unknown action kind %q (known: %s)", k, kindList())
		}
		d, err := parseDuration(o.Deadlines[k])
		if err != nil {
			return keyErr(err, path...)
		}
		if d <= 0 {
			return keyErrf(path, "%s: a deadline must be positive", o.Deadlines[k])
		}
		p.Deadlines[k] = d
	}
	for _, k := range slices.Sorted(maps.Keys(o.Assignees)) {
		if !known(k) {
			return keyErrf([]string{"assignees", string(k)}, "unknown action kind %q (known: %s)", k, kindList())
		}
		if a := strings.TrimSpace(o.Assignees[k]); a != "" {
			p.Assignee[k] = a
		} else {
			delete(p.Assignee, k)
		}
	}
	if o.Approval != nil {
		p.Approval = slices.Clone(o.Approval)
	}
	if o.Verification != "" {
		p.Verification = o.Verification
	}
	if o.SimulateLogin != nil {
		p.SimulateLogin = *o.SimulateLogin
	}
	if o.MFARequired != nil {
		p.MFARequired = *o.MFARequired
	}
	if o.Reassign != nil {
		if p.Adapter != AdapterReassign {
			return keyErrf([]string{"reassign"}, "only an app whose profile reassigns a leaver's items (adapter %s) has a reassignee", AdapterReassign)
		}
		p.ReassignTo = ReassignTarget{Default: strings.TrimSpace(o.Reassign.Default), ToManager: o.Reassign.ToManager}
	}
	if o.JITOnly != nil {
		if p.Adapter != AdapterJIT {
			return keyErrf([]string{"jit_only"}, "only a just-in-time app (adapter %s) creates accounts at a login", AdapterJIT)
		}
		p.JITOnly = *o.JITOnly
	}
	if o.ReclaimAfter != "" {
		d, err := parseDuration(o.ReclaimAfter)
		if err != nil {
			return keyErr(err, "reclaim_after")
		}
		if d <= 0 {
			return keyErrf([]string{"reclaim_after"}, "%s: must be positive", o.ReclaimAfter)
		}
		p.ReclaimAfter = d
	}
	if o.GracePeriod != "" {
		d, err := parseDuration(o.GracePeriod)
		if err != nil {
			return keyErr(err, "grace_period")
		}
		if d < 0 {
			return keyErrf([]string{"grace_period"}, "%s: must not be negative", o.GracePeriod)
		}
		p.GracePeriod = d
	}
	return nil
}

// parseDuration reads a Go duration, or a number of days such as "90d",
// since deadlines and idle periods are often counted in days.
func parseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(t, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 && n <= 36500 {
			return time.Duration(n) * 24 * time.Hour, nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		// time's message adds nothing an admin needs.
		return 0, fmt.Errorf("%q is not a duration such as 24h, 90m or 30d", s)
	}
	return d, nil
}

// validate checks the whole profile after o was applied, puts role names
// in the spelling of Roles, fills in default deadlines and parses the
// runbooks. o says which keys were set, so that a role that went missing
// is blamed on the key that removed it.
func (p *Profile) validate(o Override) error {
	if p.Executor != ExecutorManual {
		return keyErrf([]string{"executor"}, "%q is not a known executor (known: %s)", p.Executor, ExecutorManual)
	}
	if err := p.checkRoles(); err != nil {
		return err
	}
	if err := p.checkSeats(o); err != nil {
		return err
	}
	// rolePath is where a bad role reference is blamed: on the key that
	// set it, or on roles when an override of roles dropped it.
	rolePath := func(set bool, path ...string) []string {
		if !set && len(o.Roles) > 0 {
			return []string{"roles"}
		}
		return path
	}
	role, ok := p.role(p.DefaultRole)
	if !ok {
		return keyErrf(rolePath(o.DefaultRole != "", "default_role"),
			"the default role %q is not one of the roles (%s)", p.DefaultRole, p.roleList())
	}
	p.DefaultRole = role
	if err := p.checkRules(o.RoleRules != nil, rolePath); err != nil {
		return err
	}
	for i, a := range p.Approval {
		set := o.Approval != nil
		if !known(a.Kind) {
			return keyErrf([]string{"approval", index(i), "kind"}, "unknown action kind %q (known: %s)", a.Kind, kindList())
		}
		if a.Role == "" {
			continue
		}
		role, ok := p.role(a.Role)
		if !ok {
			return keyErrf(rolePath(set, "approval", index(i), "role"), "%q is not one of the roles (%s)", a.Role, p.roleList())
		}
		p.Approval[i].Role = role
	}
	switch p.Verification {
	case VerifyByImport, VerifyByAdmin:
	default:
		return keyErrf([]string{"verification"}, "%q is neither %s nor %s", p.Verification, VerifyByImport, VerifyByAdmin)
	}
	if p.GracePeriod < 0 {
		return keyErrf([]string{"grace_period"}, "%s: must not be negative", p.GracePeriod)
	}
	for _, k := range Kinds() {
		if _, ok := p.Deadlines[k]; !ok {
			p.Deadlines[k] = DefaultDeadline
		}
	}
	// Only a profile built by hand can get here with these.
	for _, k := range slices.Sorted(maps.Keys(p.Deadlines)) {
		path := []string{"deadlines", string(k)}
		if !known(k) {
			return keyErrf(path, "unknown action kind %q (known: %s)", k, kindList())
		}
		if p.Deadlines[k] <= 0 {
			return keyErrf(path, "%s: a deadline must be positive", p.Deadlines[k])
		}
	}
	return p.parseRunbooks()
}

func (p *Profile) checkRoles() error {
	if len(p.Roles) == 0 {
		return keyErrf([]string{"roles"}, "the app needs at least one role")
	}
	seen := map[string]bool{}
	for i := range p.Roles {
		r := &p.Roles[i]
		r.Name = strings.TrimSpace(r.Name)
		path := []string{"roles", index(i)}
		if r.Name == "" {
			return keyErrf(path, "a role needs a name")
		}
		if seen[strings.ToLower(r.Name)] {
			return keyErrf(path, "role %q is listed twice", r.Name)
		}
		seen[strings.ToLower(r.Name)] = true
	}
	return nil
}

// parseRunbooks parses every step and renders it once with sample data,
// since a reference to a field that does not exist only shows when a
// template runs.
func (p *Profile) parseRunbooks() error {
	for k := range p.Runbooks {
		if !known(k) {
			return keyErrf([]string{"runbooks", string(k)}, "unknown action kind %q (known: %s)", k, kindList())
		}
	}
	sample := RunbookData{
		App: "example", UserName: "jane.doe@example.com", Email: "jane.doe@example.com",
		DisplayName: "Jane Doe", GivenName: "Jane", FamilyName: "Doe",
		Role: p.Roles[0].Name, PreviousRole: p.DefaultRole,
		Target: "john.roe@example.com", Candidates: []string{"john.roe@example.com", "ann.poe@example.com"},
		Setting: SettingMFA, PreviousEmail: "j.doe@example.com",
	}
	p.steps = make(map[ActionKind][]*template.Template, len(Kinds()))
	for _, k := range Kinds() {
		if !p.needsRunbook(k) && len(p.Runbooks[k]) == 0 {
			continue
		}
		// A task without steps would leave its admin guessing.
		if len(p.Runbooks[k]) == 0 {
			return keyErrf([]string{"runbooks", string(k)}, "no steps: every kind needs a runbook for the %s executor", p.Executor)
		}
		steps, err := parseSteps(k, p.Runbooks[k])
		if err != nil {
			return err
		}
		if _, err := renderSteps(k, steps, sample); err != nil {
			return err
		}
		p.steps[k] = steps
	}
	return nil
}

//go:embed profiles/*.yaml
var files embed.FS

// Names returns the names of the built-in profiles, sorted.
func Names() []string {
	// The pattern is constant and valid, so Glob cannot fail.
	paths, _ := fs.Glob(files, "profiles/*.yaml")
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(path.Base(p), ".yaml")
	}
	slices.Sort(names)
	return names
}

// Builtin loads and checks every built-in profile, by name. Each call
// returns new profiles.
func Builtin() (map[string]*Profile, error) {
	m := make(map[string]*Profile)
	for _, name := range Names() {
		data, err := files.ReadFile("profiles/" + name + ".yaml")
		if err != nil {
			return nil, fmt.Errorf("profile %s: %w", name, err)
		}
		p, err := load(name, data)
		if err != nil {
			return nil, err
		}
		m[name] = p
	}
	return m, nil
}

// file is the YAML form of a built-in profile: what only a profile says,
// and everything an app may override.
type file struct {
	Description string   `yaml:"description"`
	Executor    string   `yaml:"executor"`
	Adapter     string   `yaml:"adapter"`
	JITRole     string   `yaml:"jit_role"`
	Modules     []Module `yaml:"modules"`
	SingleRole  bool     `yaml:"single_role"`
	// DomainRolesByApp: see Profile.
	DomainRolesByApp bool `yaml:"domain_roles_by_app"`
	Override         `yaml:",inline"`
}

// load reads one built-in profile; the name comes from its file name.
func load(name string, data []byte) (*Profile, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f file
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("profile %s: %w", name, err)
	}
	if strings.TrimSpace(f.Description) == "" {
		return nil, fmt.Errorf("profile %s: %w", name, keyErrf([]string{"description"}, "a profile needs a description"))
	}
	base := &Profile{
		Name:             name,
		Description:      strings.TrimSpace(f.Description),
		Executor:         f.Executor,
		Adapter:          cmp.Or(f.Adapter, AdapterManual),
		JITOnly:          f.Adapter == AdapterJIT,
		JITRole:          f.JITRole,
		Modules:          f.Modules,
		SingleRole:       f.SingleRole,
		DomainRolesByApp: f.DomainRolesByApp,
		GracePeriod:      DefaultGracePeriod,
		ReclaimAfter:     DefaultReclaimAfter,
	}
	return base.With(f.Override)
}
