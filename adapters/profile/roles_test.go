package profile

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRolesFor(t *testing.T) {
	p, err := builtin(t, "peopleai").With(Override{
		Roles: []Role{{Name: "Admin"}, {Name: "Analyst"}, {Name: "User (Standard)"}},
		RoleRules: &RoleRules{
			Groups: []GroupRule{
				{Group: "Sales Ops Admins", Role: "Admin"},
				{Group: "Analysts", Role: "Analyst"},
				{Group: "Revenue Analysts", Role: "Analyst"},
			},
			Domains: []DomainRule{
				{Domain: "analytics.example.com", Role: "Analyst"},
				{Domain: "*.partners.example.com", Role: "Admin"},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		email  string
		groups []string
		want   []string
	}{
		{"no rule matches: the default", "ann@example.com", []string{"Everyone"}, []string{"User (Standard)"}},
		{"no email, no groups", "", nil, []string{"User (Standard)"}},
		{"group in another case", "ann@example.com", []string{"sales ops ADMINS"}, []string{"Admin"}},
		{"group name must match whole", "ann@example.com", []string{"Sales Ops Admins EMEA"}, []string{"User (Standard)"}},
		{"two rules give one role once", "ann@example.com", []string{"Analysts", "Revenue Analysts"}, []string{"Analyst"}},
		{"several roles, in the profile's order", "ann@analytics.example.com", []string{"Sales Ops Admins"}, []string{"Admin", "Analyst"}},
		{"domain in another case", "Ann@Analytics.Example.COM", nil, []string{"Analyst"}},
		{"domain is the part after the last @", `"a@b"@analytics.example.com`, nil, []string{"Analyst"}},
		{"exact domain does not match a subdomain", "ann@eu.analytics.example.com", nil, []string{"User (Standard)"}},
		{"exact domain does not match a suffix", "ann@xanalytics.example.com", nil, []string{"User (Standard)"}},
		{"wildcard matches a subdomain", "ann@acme.partners.example.com", nil, []string{"Admin"}},
		{"wildcard matches a deeper subdomain", "ann@eu.acme.partners.example.com", nil, []string{"Admin"}},
		{"wildcard does not match the domain itself", "ann@partners.example.com", nil, []string{"User (Standard)"}},
		{"no @ means no domain", "analytics.example.com", nil, []string{"User (Standard)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := p.RolesFor(c.email, c.groups); !slices.Equal(got, c.want) {
				t.Errorf("RolesFor(%q, %q) = %q, want %q", c.email, c.groups, got, c.want)
			}
			if got := p.Role(c.email, c.groups); got != c.want[0] {
				t.Errorf("Role(%q, %q) = %q, want %q", c.email, c.groups, got, c.want[0])
			}
		})
	}
}

func TestNeedsApproval(t *testing.T) {
	p := builtin(t, "peopleai")
	anyDelete, err := p.With(Override{Approval: []ApprovalRule{{Kind: Delete}}})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		p    *Profile
		kind ActionKind
		role string
		want bool
	}{
		{"granting Admin", p, Create, "Admin", true},
		{"granting Admin, role in another case", p, SetRole, "admin", true},
		{"restoring Admin", p, Reactivate, "Admin", true},
		{"granting the standard role", p, Create, "User (Standard)", false},
		{"taking Admin away", p, Deactivate, "Admin", false},
		{"a rule without a role covers every role", anyDelete, Delete, "User (Standard)", true},
		{"other kinds are not covered", anyDelete, Create, "Admin", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := c.p.NeedsApproval(c.kind, c.role); got != c.want {
				t.Errorf("NeedsApproval(%s, %q) = %v", c.kind, c.role, got)
			}
		})
	}
}

func TestRoleYAML(t *testing.T) {
	cases := []struct {
		name, yaml string
		want       []Role
		err        string
	}{
		{"names", "[Admin, 'User (Standard)']", []Role{{Name: "Admin"}, {Name: "User (Standard)"}}, ""},
		{"mappings", "- name: Admin\n  description: all of it\n", []Role{{Name: "Admin", Description: "all of it"}}, ""},
		{"unknown key", "- name: Admin\n  rank: 1\n", nil, `line 2: unknown key "rank" in a role`},
		{"description not text", "- name: Admin\n  description: [a]\n", nil, "line 2: a role's description is text"},
		{"a list", "- [Admin]\n", nil, "line 1: a role is a name or {name, description, modules, single_holder}"},
		{"modules and single holder", "- name: Primary\n  modules: [ABM, SI]\n  single_holder: true\n",
			[]Role{{Name: "Primary", Modules: []string{"ABM", "SI"}, SingleHolder: true}}, ""},
		{"modules not a list", "- name: Primary\n  modules: {a: b}\n", nil, "line 2: a role's modules are a list"},
		{"single holder not a bool", "- name: Primary\n  single_holder: maybe\n", nil, "line 2: single_holder is true or false"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var got []Role
			err := yaml.Unmarshal([]byte(c.yaml), &got)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %+v, %v", got, err)
			}
		})
	}
}
