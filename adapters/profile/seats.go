package profile

import (
	"slices"
	"strings"
	"time"
)

// Adapters that plan an app's actions.
const (
	// AdapterManual plans every change as one task at a time.
	AdapterManual = "manual"
	// AdapterJIT is for apps that create an account at the user's first
	// SSO login: it waits for that login (or simulates it) and then
	// promotes the account to its role.
	AdapterJIT = "jit"
	// AdapterReassign is the manual adapter plus, for a leaver, the
	// reassignment of the items they own in the app.
	AdapterReassign = "reassign"
	// AdapterRestore is the manual adapter for apps that drop roles and
	// settings on deactivation (SixMap): it snapshots them when the user
	// leaves and restores them when the user comes back.
	AdapterRestore = "restore"
)

// DefaultReclaimAfter is how long an assigned account may go without a
// login before its seat is reported as reclaimable.
const DefaultReclaimAfter = 90 * 24 * time.Hour

// Module is a licensed part of an app whose seats are counted.
type Module struct {
	Name string `yaml:"name"`
	// Enforced says that the app itself refuses a user over the limit;
	// scimbridge then does not try, and blocks the account instead.
	Enforced bool `yaml:"enforced"`
	// Refusal is what the app says when it refuses, as the block's reason.
	Refusal string `yaml:"refusal"`
	// Limit is the number of seats bought; 0 means no limit is known.
	Limit int `yaml:"-"`
}

// SeatLimit is an app's seat count for one module, as the config says.
type SeatLimit struct {
	Module string `yaml:"module"`
	Limit  int    `yaml:"limit"`
	// Enforced, when set, overrides the profile: some contracts make an
	// app enforce a module it usually does not.
	Enforced *bool `yaml:"enforced"`
}

// Module returns the module called name, in any case.
func (p *Profile) Module(name string) (Module, bool) {
	for _, m := range p.Modules {
		if strings.EqualFold(m.Name, name) {
			return m, true
		}
	}
	return Module{}, false
}

// RoleModules returns the modules whose seat role takes; none for a role
// the profile does not have.
func (p *Profile) RoleModules(role string) []string {
	for _, r := range p.Roles {
		if strings.EqualFold(r.Name, role) {
			return r.Modules
		}
	}
	return nil
}

// SingleHolder reports whether one user at most may hold role.
func (p *Profile) SingleHolder(role string) bool {
	for _, r := range p.Roles {
		if strings.EqualFold(r.Name, role) {
			return r.SingleHolder
		}
	}
	return false
}

// Counted reports whether the profile counts seats at all.
func (p *Profile) Counted() bool {
	return len(p.Modules) > 0 || slices.ContainsFunc(p.Roles, func(r Role) bool { return r.SingleHolder })
}

// checkSeats checks the modules, the roles' modules, the app's seat
// limits and the just-in-time settings.
func (p *Profile) checkSeats(o Override) error {
	switch p.Adapter {
	case AdapterManual, AdapterJIT, AdapterReassign, AdapterRestore:
	default:
		return keyErrf([]string{"adapter"}, "%q is not a known adapter (known: %s, %s, %s, %s)", p.Adapter, AdapterManual, AdapterJIT, AdapterReassign, AdapterRestore)
	}
	seen := map[string]bool{}
	for i := range p.Modules {
		m := &p.Modules[i]
		m.Name = strings.TrimSpace(m.Name)
		if m.Name == "" || seen[strings.ToLower(m.Name)] {
			return keyErrf([]string{"modules", index(i)}, "module %q: a module needs a name of its own", m.Name)
		}
		seen[strings.ToLower(m.Name)] = true
		m.Limit = 0
	}
	for i := range p.Roles {
		r := &p.Roles[i]
		for j, name := range r.Modules {
			m, ok := p.Module(name)
			if !ok {
				return keyErrf([]string{"roles", index(i), "modules", index(j)}, "role %q: %q is not one of the modules (%s)", r.Name, name, p.moduleList())
			}
			r.Modules[j] = m.Name
		}
	}
	for i, s := range o.Seats {
		path := []string{"seats", index(i)}
		m, ok := p.Module(s.Module)
		if !ok {
			return keyErrf(append(path, "module"), "%q is not one of the profile's modules (%s)", s.Module, p.moduleList())
		}
		if s.Limit < 0 {
			return keyErrf(append(path, "limit"), "%d: a seat limit is 0 (none known) or more", s.Limit)
		}
		k := slices.IndexFunc(p.Modules, func(x Module) bool { return x.Name == m.Name })
		p.Modules[k].Limit = s.Limit
		if s.Enforced != nil {
			p.Modules[k].Enforced = *s.Enforced
		}
	}
	if p.Adapter == AdapterJIT {
		role, ok := p.role(p.JITRole)
		if !ok {
			return keyErrf([]string{"jit_role"}, "a just-in-time app needs jit_role, the role it gives at the first login, one of the roles (%s)", p.roleList())
		}
		p.JITRole = role
	} else if p.SimulateLogin {
		return keyErrf([]string{"simulate_login"}, "only a just-in-time app (adapter %s) creates accounts at a login", AdapterJIT)
	}
	return nil
}

func (p *Profile) moduleList() string {
	if len(p.Modules) == 0 {
		return "the profile has none"
	}
	names := make([]string, len(p.Modules))
	for i, m := range p.Modules {
		names[i] = m.Name
	}
	return strings.Join(names, ", ")
}
