package profile

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

func builtin(t *testing.T, name string) *Profile {
	t.Helper()
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	p, ok := all[name]
	if !ok {
		t.Fatalf("no built-in profile %q", name)
	}
	return p
}

func TestBuiltinProfilesLoadAndRender(t *testing.T) {
	if got, want := Names(), []string{"manual", "peopleai", "sixclicks", "sixmap", "sixsense"}; !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
	all, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(Names()) {
		t.Fatalf("Builtin() has %d profiles, Names() %d", len(all), len(Names()))
	}
	data := RunbookData{
		App: "sales-tools", UserName: "sam.lee@example.com", Email: "sam.lee@example.com",
		DisplayName: "Sam Lee", GivenName: "Sam", FamilyName: "Lee", PreviousRole: "Old Role",
	}
	for name, p := range all {
		if p.Name != name || p.Description == "" || p.Executor != ExecutorManual {
			t.Errorf("%s: name %q, description %q, executor %q", name, p.Name, p.Description, p.Executor)
		}
		for _, k := range Kinds() {
			if p.Deadlines[k] <= 0 {
				t.Errorf("%s: no deadline for %s", name, k)
			}
			if !p.needsRunbook(k) {
				continue
			}
			for _, r := range p.Roles {
				data.Role = r.Name
				steps, err := p.Render(k, data)
				if err != nil {
					t.Errorf("%s %s: %v", name, k, err)
					continue
				}
				if len(steps) < 2 {
					t.Errorf("%s %s: only %d steps", name, k, len(steps))
				}
				text := strings.Join(steps, "\n")
				if !strings.Contains(text, data.Email) || strings.Contains(text, "<no value>") || strings.Contains(text, "{{") {
					t.Errorf("%s %s: steps not specialised for the user:\n%s", name, k, text)
				}
				if (k == Create || k == SetRole || k == Reactivate) && !strings.Contains(text, r.Name) {
					t.Errorf("%s %s: steps do not name the role %q:\n%s", name, k, r.Name, text)
				}
			}
		}
	}
}

func TestPeopleAI(t *testing.T) {
	p := builtin(t, "peopleai")
	var roles []string
	for _, r := range p.Roles {
		roles = append(roles, r.Name)
	}
	if !slices.Equal(roles, []string{"Admin", "User (Standard)"}) || p.DefaultRole != "User (Standard)" || !p.SingleRole {
		t.Errorf("roles %v, default %q, single %v", roles, p.DefaultRole, p.SingleRole)
	}
	if p.Verification != VerifyByImport || p.GracePeriod != 24*time.Hour {
		t.Errorf("verification %q, grace %s", p.Verification, p.GracePeriod)
	}
	if p.Deadlines[Create] != 24*time.Hour || p.Deadlines[Deactivate] != 4*time.Hour || p.Deadlines[Delete] != DefaultDeadline {
		t.Errorf("deadlines %v", p.Deadlines)
	}
	steps, err := p.Render(Create, RunbookData{Email: "ann@example.com", Role: "Admin"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Sign in to People.ai with an account that has administrative access.",
		"Open the user-management area of People.ai's administrative settings.",
		"Add the user with the work email address ann@example.com and the role Admin.",
		"If People.ai uses SSO, confirm that ann@example.com is assigned to the People.ai app in the IdP before their first login.",
	}
	if !slices.Equal(steps, want) {
		t.Errorf("create steps:\n%q\nwant\n%q", steps, want)
	}
	m := builtin(t, "manual")
	if m.Verification != VerifyByAdmin || m.DefaultRole != "Member" || len(m.Approval) != 0 {
		t.Errorf("manual: verification %q, default %q, approval %v", m.Verification, m.DefaultRole, m.Approval)
	}
}

func TestWith(t *testing.T) {
	base := builtin(t, "peopleai")
	cases := []struct {
		name  string
		o     Override
		check func(t *testing.T, p *Profile)
	}{
		{"nothing", Override{}, func(t *testing.T, p *Profile) {
			if !reflect.DeepEqual(p.Roles, base.Roles) || p.DefaultRole != base.DefaultRole {
				t.Errorf("changed: %+v", p)
			}
		}},
		{"roles given by name, role names in any case", Override{
			Roles:       []Role{{Name: "Viewer"}, {Name: " Editor "}},
			DefaultRole: "viewer",
			Approval:    []ApprovalRule{{Kind: SetRole, Role: "EDITOR"}},
		}, func(t *testing.T, p *Profile) {
			if p.Roles[1].Name != "Editor" || p.DefaultRole != "Viewer" || p.Approval[0].Role != "Editor" {
				t.Errorf("roles %v default %q approval %v", p.Roles, p.DefaultRole, p.Approval)
			}
		}},
		{"rules, deadlines, assignees, runbook", Override{
			RoleRules: &RoleRules{
				Groups:  []GroupRule{{Group: " Sales Ops Admins ", Role: "admin"}},
				Domains: []DomainRule{{Domain: "*.Contractor.Example.com", Role: "User (Standard)"}},
			},
			Deadlines:    map[ActionKind]string{Create: "8h", Deactivate: "90m"},
			Assignees:    map[ActionKind]string{Create: "it-ops@example.com"},
			Runbooks:     map[ActionKind][]string{Delete: {"Ask {{.App}}'s support to delete {{.Email}}."}},
			Verification: "admin",
			GracePeriod:  "48h",
		}, func(t *testing.T, p *Profile) {
			if g := p.Rules.Groups[0]; g.Group != "Sales Ops Admins" || g.Role != "Admin" {
				t.Errorf("group rule %+v", g)
			}
			if d := p.Rules.Domains[0]; d.Domain != "*.contractor.example.com" {
				t.Errorf("domain rule %+v", d)
			}
			if p.Deadlines[Create] != 8*time.Hour || p.Deadlines[Deactivate] != 90*time.Minute || p.Deadlines[SetRole] != base.Deadlines[SetRole] {
				t.Errorf("deadlines %v", p.Deadlines)
			}
			if p.Assignee[Create] != "it-ops@example.com" || p.Assignee[Delete] != "" {
				t.Errorf("assignees %v", p.Assignee)
			}
			if p.Verification != VerifyByAdmin || p.GracePeriod != 48*time.Hour {
				t.Errorf("verification %q grace %s", p.Verification, p.GracePeriod)
			}
			steps, err := p.Render(Delete, RunbookData{App: "pai", Email: "x@example.com"})
			if err != nil || !slices.Equal(steps, []string{"Ask pai's support to delete x@example.com."}) {
				t.Errorf("delete steps %q, %v", steps, err)
			}
			if steps, _ := p.Render(Create, RunbookData{Email: "x@example.com", Role: "Admin"}); len(steps) != 4 {
				t.Errorf("create steps replaced too: %q", steps)
			}
		}},
		{"empty approval list: nothing needs approval", Override{Approval: []ApprovalRule{}}, func(t *testing.T, p *Profile) {
			if p.NeedsApproval(Create, "Admin") {
				t.Error("still needs approval")
			}
		}},
		{"zero grace period", Override{GracePeriod: "0s"}, func(t *testing.T, p *Profile) {
			if p.GracePeriod != 0 {
				t.Errorf("grace %s", p.GracePeriod)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := base.With(c.o)
			if err != nil {
				t.Fatal(err)
			}
			c.check(t, p)
		})
	}
}

func TestWithErrors(t *testing.T) {
	base := builtin(t, "peopleai")
	cases := []struct {
		name string
		o    Override
		path string // the KeyError's path
		want string // substring of the message
	}{
		{"unknown default role", Override{DefaultRole: "Boss"}, "default_role", `the default role "Boss" is not one of the roles (Admin, User (Standard))`},
		{"roles without the default role", Override{Roles: []Role{{Name: "Viewer"}}}, "roles", `the default role "User (Standard)"`},
		{"roles that drop an approval role", Override{Roles: []Role{{Name: "Viewer"}}, DefaultRole: "Viewer"}, "roles", `"Admin" is not one of the roles (Viewer)`},
		{"duplicate role", Override{Roles: []Role{{Name: "A"}, {Name: "a"}}, DefaultRole: "A"}, "roles[1]", `role "a" is listed twice`},
		{"nameless role", Override{Roles: []Role{{Name: "A"}, {Description: "x"}}, DefaultRole: "A"}, "roles[1]", "a role needs a name"},
		{"group rule with an unknown role", Override{RoleRules: &RoleRules{Groups: []GroupRule{{Group: "G", Role: "Owner"}}}}, "role_rules.groups[0].role", `group "G": "Owner" is not one of the roles`},
		{"group rule without a group", Override{RoleRules: &RoleRules{Groups: []GroupRule{{Role: "Admin"}}}}, "role_rules.groups[0].group", "needs a group name"},
		{"domain rule with an unknown role", Override{RoleRules: &RoleRules{Domains: []DomainRule{{Domain: "example.com", Role: "Owner"}}}}, "role_rules.domains[0].role", `domain "example.com": "Owner"`},
		{"bad domain", Override{RoleRules: &RoleRules{Domains: []DomainRule{{Domain: "@example.com", Role: "Admin"}}}}, "role_rules.domains[0].domain", `"@example.com" is not a domain`},
		{"unknown runbook kind", Override{Runbooks: map[ActionKind][]string{"creat": {"x"}}}, "runbooks.creat", `unknown action kind "creat" (known: create, set_role, deactivate, reactivate, delete, reassign, restore, change_email)`},
		{"empty runbook", Override{Runbooks: map[ActionKind][]string{Delete: {}}}, "runbooks.delete", "no steps"},
		{"blank step", Override{Runbooks: map[ActionKind][]string{Delete: {"ok", "  "}}}, "runbooks.delete[1]", "the step is empty"},
		{"bad template", Override{Runbooks: map[ActionKind][]string{Create: {"Add {{.Email}"}}}, "runbooks.create[0]", "template: step"},
		{"unknown field", Override{Runbooks: map[ActionKind][]string{Create: {"Add {{.Mail}}."}}}, "runbooks.create[0]", "can't evaluate field Mail"},
		{"unknown function", Override{Runbooks: map[ActionKind][]string{Create: {"{{shout .Email}}"}}}, "runbooks.create[0]", `function "shout" not defined`},
		{"bad deadline", Override{Deadlines: map[ActionKind]string{Create: "2 days"}}, "deadlines.create", `"2 days" is not a duration such as 24h, 90m or 30d`},
		{"zero deadline", Override{Deadlines: map[ActionKind]string{Create: "0s"}}, "deadlines.create", "must be positive"},
		{"deadline of an unknown kind", Override{Deadlines: map[ActionKind]string{"remove": "1h"}}, "deadlines.remove", `unknown action kind "remove"`},
		{"assignee of an unknown kind", Override{Assignees: map[ActionKind]string{"remove": "x"}}, "assignees.remove", `unknown action kind "remove"`},
		{"approval of an unknown kind", Override{Approval: []ApprovalRule{{Kind: "grant"}}}, "approval[0].kind", `unknown action kind "grant"`},
		{"approval of an unknown role", Override{Approval: []ApprovalRule{{Kind: Create, Role: "Root"}}}, "approval[0].role", `"Root" is not one of the roles`},
		{"bad verification", Override{Verification: "trust"}, "verification", `"trust" is neither import nor admin`},
		{"bad grace period", Override{GracePeriod: "a day"}, "grace_period", `"a day" is not a duration`},
		{"negative grace period", Override{GracePeriod: "-1h"}, "grace_period", "must not be negative"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := base.With(c.o)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			var ke *KeyError
			if !errors.As(err, &ke) {
				t.Fatalf("error %q is not a KeyError", err)
			}
			if got := (&KeyError{Path: ke.Path, Err: errors.New("")}).Error(); got != c.path+": " {
				t.Errorf("path %q, want %q", got, c.path+": ")
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "profile peopleai: "+c.path+": ") || !strings.Contains(msg, c.want) {
				t.Errorf("error %q\nwant %q: ... %q", msg, c.path, c.want)
			}
		})
	}
}

func TestWithLeavesTheOriginalAlone(t *testing.T) {
	// Two loads give equal profiles; one is changed through With, the
	// other is what it must still look like.
	p, other := builtin(t, "peopleai"), builtin(t, "peopleai")
	want := *other
	want.steps = nil
	steps := maps.Clone(p.steps)
	unchanged := func() bool {
		got := *p
		got.steps = nil
		return reflect.DeepEqual(got, want) && maps.EqualFunc(p.steps, steps, slices.Equal)
	}
	_, err := p.With(Override{
		Roles:       []Role{{Name: "Admin"}, {Name: "User (Standard)"}, {Name: "Viewer"}},
		DefaultRole: "Viewer",
		RoleRules:   &RoleRules{Groups: []GroupRule{{Group: "g", Role: "admin"}}},
		Runbooks:    map[ActionKind][]string{Create: {"x {{.Email}}"}},
		Deadlines:   map[ActionKind]string{Create: "1h"},
		Assignees:   map[ActionKind]string{Create: "ops"},
		Approval:    []ApprovalRule{{Kind: Delete}},
		GracePeriod: "1h",
	})
	if err != nil {
		t.Fatal(err)
	}
	if !unchanged() {
		t.Errorf("With changed its receiver:\n%+v\nwant\n%+v", p, want)
	}
	// A failed With leaves it alone too.
	if _, err := p.With(Override{Roles: []Role{{Name: "A"}, {Name: "admin"}}, DefaultRole: "Nope"}); err == nil {
		t.Fatal("no error")
	}
	if !unchanged() {
		t.Error("a failed With changed its receiver")
	}
}

func TestLoadErrors(t *testing.T) {
	const ok = `description: test
executor: manual
roles: [A, {name: B, description: the second}]
default_role: A
verification: admin
runbooks:
  create: [c]
  set_role: [s]
  deactivate: [d]
  reactivate: [r]
  delete: [x]
`
	p, err := load("t", []byte(ok))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p.Roles[1], Role{Name: "B", Description: "the second"}) || p.GracePeriod != DefaultGracePeriod || p.Deadlines[Create] != DefaultDeadline {
		t.Errorf("loaded %+v", p)
	}
	cases := []struct{ name, yaml, want string }{
		{"unknown key", ok + "colour: red\n", "field colour not found"},
		{"unknown key in a role", strings.Replace(ok, "description: the second", "desc: x", 1), `line 3: unknown key "desc" in a role`},
		{"unknown key in a rule", ok + "role_rules:\n  groups: [{group: g, role: A, prio: 1}]\n", "field prio not found"},
		{"no description", strings.Replace(ok, "description: test", "description: ''", 1), "profile t: description: a profile needs a description"},
		{"unknown executor", strings.Replace(ok, "executor: manual", "executor: robot", 1), `profile t: executor: "robot" is not a known executor`},
		{"no roles", strings.Replace(ok, "roles: [A, {name: B, description: the second}]", "", 1), "roles: the app needs at least one role"},
		{"missing runbook", strings.Replace(ok, "  delete: [x]\n", "", 1), "runbooks.delete: no steps"},
		{"deadline not a duration", ok + "deadlines: {create: 3600}\n", `deadlines.create: "3600" is not a duration`},
		{"role as a list", strings.Replace(ok, "roles: [A,", "roles: [[A],", 1), "a role is a name or {name, description, modules, single_holder}"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := load("t", []byte(c.yaml))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestKinds(t *testing.T) {
	want := []ActionKind{"create", "set_role", "deactivate", "reactivate", "delete", "reassign", "restore", "change_email"}
	if !slices.Equal(Kinds(), want) {
		t.Errorf("Kinds() = %v", Kinds())
	}
	// Callers may change the slice they get.
	Kinds()[0] = "x"
	if Kinds()[0] != Create {
		t.Error("Kinds shares its slice")
	}
}
