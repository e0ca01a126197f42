package profile

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Role is one of an app's roles.
type Role struct {
	Name        string
	Description string
	// Modules are the licensed modules whose seat the role takes.
	Modules []string
	// SingleHolder says that one user at most may hold the role (such as
	// 6sense's Primary Administrator).
	SingleHolder bool
}

// UnmarshalYAML reads a role written either as its name alone or as
// {name, description, modules, single_holder}, so that a config file can
// list roles briefly.
func (r *Role) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		r.Name = n.Value
		return nil
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			switch k.Value {
			case "name", "description":
				if v.Kind != yaml.ScalarNode {
					return typeError(v.Line, "a role's %s is text", k.Value)
				}
				if k.Value == "name" {
					r.Name = v.Value
				} else {
					r.Description = v.Value
				}
			case "modules":
				if err := v.Decode(&r.Modules); err != nil {
					return typeError(v.Line, "a role's modules are a list of module names")
				}
			case "single_holder":
				if err := v.Decode(&r.SingleHolder); err != nil {
					return typeError(v.Line, "single_holder is true or false")
				}
			default:
				return typeError(k.Line, "unknown key %q in a role (known: name, description, modules, single_holder)", k.Value)
			}
		}
		return nil
	}
	return typeError(n.Line, "a role is a name or {name, description, modules, single_holder}")
}

// typeError is a decoding error in yaml's own form, so that it is
// reported with the others and with its line.
func typeError(line int, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: ", line) + fmt.Sprintf(format, args...)}}
}

// RoleRules give roles to users. A user gets every role a matching rule
// gives; see RolesFor.
type RoleRules struct {
	Groups  []GroupRule  `yaml:"groups"`
	Domains []DomainRule `yaml:"domains"`
}

// GroupRule gives Role to the members of the SCIM group named Group
// (its displayName, in any case).
type GroupRule struct {
	Group string `yaml:"group"`
	Role  string `yaml:"role"`
}

// DomainRule gives Role to users whose email domain is Domain. A Domain
// such as "*.example.com" matches the subdomains of example.com, not
// example.com itself.
type DomainRule struct {
	Domain string `yaml:"domain"`
	Role   string `yaml:"role"`
}

// RolesFor returns the roles a user with this email address and these
// group displayNames should have: every role a matching rule gives, once
// each, in the order of p.Roles; the default role if no rule matches.
func (p *Profile) RolesFor(email string, groups []string) []string {
	domain := ""
	if at := strings.LastIndexByte(email, '@'); at >= 0 {
		domain = strings.ToLower(strings.TrimSpace(email[at+1:]))
	}
	give := map[string]bool{}
	for _, r := range p.Rules.Groups {
		for _, g := range groups {
			if strings.EqualFold(g, r.Group) {
				give[strings.ToLower(r.Role)] = true
				break
			}
		}
	}
	for _, r := range p.Rules.Domains {
		if domainMatches(r.Domain, domain) {
			give[strings.ToLower(r.Role)] = true
		}
	}
	var roles []string
	for _, r := range p.Roles {
		if give[strings.ToLower(r.Name)] {
			roles = append(roles, r.Name)
		}
	}
	if len(roles) == 0 {
		return []string{p.DefaultRole}
	}
	return roles
}

// Role returns the one role a user should have in a single-role app such
// as People.ai: of the roles RolesFor gives, the first in p.Roles.
func (p *Profile) Role(email string, groups []string) string {
	return p.RolesFor(email, groups)[0]
}

// RoleSeparator joins the roles of a user in an app where users hold
// several, in the order of p.Roles.
const RoleSeparator = ", "

// Desired returns the role(s) a user should have, as the account records
// them: the one role of a single-role app; in an app where users hold
// several, every role the rules give plus the default role, which such
// apps give everyone, joined with RoleSeparator.
func (p *Profile) Desired(email string, groups []string) string {
	if p.SingleRole {
		return p.Role(email, groups)
	}
	return p.join(append(p.RolesFor(email, groups), p.DefaultRole))
}

// AutoRoles returns the roles the app itself gives a user with this email
// address: the default role, and with DomainRolesByApp the roles of the
// domain rules (an app that assigns roles by email domain on its own).
func (p *Profile) AutoRoles(email string) []string {
	roles := []string{p.DefaultRole}
	if p.DomainRolesByApp {
		domain := ""
		if at := strings.LastIndexByte(email, '@'); at >= 0 {
			domain = strings.ToLower(strings.TrimSpace(email[at+1:]))
		}
		for _, r := range p.Rules.Domains {
			if domainMatches(r.Domain, domain) {
				roles = append(roles, r.Role)
			}
		}
	}
	return SplitRoles(p.join(roles))
}

// JoinRoles returns roles as an account records them: once each, in the
// order of p.Roles, joined with RoleSeparator.
func (p *Profile) JoinRoles(roles []string) string { return p.join(roles) }

// join returns roles once each, in the order of p.Roles.
func (p *Profile) join(roles []string) string {
	var out []string
	for _, r := range p.Roles {
		for _, want := range roles {
			if strings.EqualFold(r.Name, want) {
				out = append(out, r.Name)
				break
			}
		}
	}
	return strings.Join(out, RoleSeparator)
}

// SplitRoles splits what Desired joined.
func SplitRoles(s string) []string {
	var out []string
	for _, r := range strings.Split(s, RoleSeparator) {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func domainMatches(pattern, domain string) bool {
	if domain == "" {
		return false
	}
	pattern = strings.ToLower(pattern)
	if parent, ok := strings.CutPrefix(pattern, "*."); ok {
		return strings.HasSuffix(domain, "."+parent)
	}
	return domain == pattern
}

// role returns the spelling in p.Roles of name, which matches in any case.
func (p *Profile) role(name string) (string, bool) {
	for _, r := range p.Roles {
		if strings.EqualFold(r.Name, strings.TrimSpace(name)) {
			return r.Name, true
		}
	}
	return "", false
}

func (p *Profile) roleList() string {
	names := make([]string, len(p.Roles))
	for i, r := range p.Roles {
		names[i] = r.Name
	}
	return strings.Join(names, ", ")
}

var domainPattern = regexp.MustCompile(`^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$`)

// checkRules checks the role rules and puts their roles in the spelling
// of p.Roles and their domains in lower case. set says whether the
// override set the rules; rolePath picks the key to blame for a role
// that is not there.
func (p *Profile) checkRules(set bool, rolePath func(set bool, path ...string) []string) error {
	for i := range p.Rules.Groups {
		r := &p.Rules.Groups[i]
		r.Group = strings.TrimSpace(r.Group)
		if r.Group == "" {
			return keyErrf([]string{"role_rules", "groups", index(i), "group"}, "a group rule needs a group name")
		}
		role, ok := p.role(r.Role)
		if !ok {
			return keyErrf(rolePath(set, "role_rules", "groups", index(i), "role"),
				"group %q: %q is not one of the roles (%s)", r.Group, r.Role, p.roleList())
		}
		r.Role = role
	}
	for i := range p.Rules.Domains {
		r := &p.Rules.Domains[i]
		r.Domain = strings.ToLower(strings.TrimSpace(r.Domain))
		if !domainPattern.MatchString(r.Domain) {
			return keyErrf([]string{"role_rules", "domains", index(i), "domain"},
				"%q is not a domain such as example.com or *.example.com", r.Domain)
		}
		role, ok := p.role(r.Role)
		if !ok {
			return keyErrf(rolePath(set, "role_rules", "domains", index(i), "role"),
				"domain %q: %q is not one of the roles (%s)", r.Domain, r.Role, p.roleList())
		}
		r.Role = role
	}
	return nil
}
