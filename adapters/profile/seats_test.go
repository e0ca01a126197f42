package profile

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestSixsenseProfile(t *testing.T) {
	p := builtin(t, "sixsense")
	if p.Adapter != AdapterJIT || p.JITRole != "Insights User" || p.DefaultRole != "Insights User" {
		t.Errorf("adapter %q, jit role %q, default role %q", p.Adapter, p.JITRole, p.DefaultRole)
	}
	si, ok := p.Module("si")
	if !ok || !si.Enforced || !strings.Contains(si.Refusal, "License limit exhausted") {
		t.Errorf("SI module %+v, %v", si, ok)
	}
	for _, c := range []struct {
		role    string
		modules []string
		single  bool
	}{
		{"Primary Administrator", []string{"ABM", "SI", "CE"}, true},
		{"sales ae / sdr", []string{"SI"}, false},
		{"Insights User", []string{"ABM"}, false},
		{"AI Email Administrator", []string{"CE"}, false},
		{"no such role", nil, false},
	} {
		if got := p.RoleModules(c.role); !slices.Equal(got, c.modules) || p.SingleHolder(c.role) != c.single {
			t.Errorf("%s: modules %v single %v, want %v %v", c.role, got, p.SingleHolder(c.role), c.modules, c.single)
		}
	}
	if p.ReclaimAfter != DefaultReclaimAfter || p.SimulateLogin {
		t.Errorf("reclaim after %s, simulate %v", p.ReclaimAfter, p.SimulateLogin)
	}
}

func TestSeatOverrides(t *testing.T) {
	yes, no := true, false
	base := builtin(t, "sixsense")
	p, err := base.With(Override{
		Seats:         []SeatLimit{{Module: "si", Limit: 3}, {Module: "ABM", Limit: 2, Enforced: &yes}},
		SimulateLogin: &yes,
		ReclaimAfter:  "30d",
	})
	if err != nil {
		t.Fatal(err)
	}
	si, _ := p.Module("SI")
	abm, _ := p.Module("ABM")
	ce, _ := p.Module("CE")
	if si.Limit != 3 || !si.Enforced || abm.Limit != 2 || !abm.Enforced || ce.Limit != 0 {
		t.Errorf("modules %+v", p.Modules)
	}
	if !p.SimulateLogin || p.ReclaimAfter != 30*24*time.Hour {
		t.Errorf("simulate %v, reclaim after %s", p.SimulateLogin, p.ReclaimAfter)
	}
	// The shared profile is untouched.
	if m, _ := base.Module("ABM"); m.Enforced || m.Limit != 0 || base.SimulateLogin {
		t.Errorf("With changed the base: %+v", base.Modules)
	}

	cases := []struct {
		name string
		base string
		o    Override
		want string
	}{
		{"unknown module", "sixsense", Override{Seats: []SeatLimit{{Module: "XYZ", Limit: 1}}},
			`seats[0].module: "XYZ" is not one of the profile's modules (ABM, SI, CE)`},
		{"negative limit", "sixsense", Override{Seats: []SeatLimit{{Module: "SI", Limit: -1}}}, "seats[0].limit: -1"},
		{"simulate a manual app", "peopleai", Override{SimulateLogin: &yes}, "simulate_login: only a just-in-time app"},
		{"simulate off is fine anywhere", "peopleai", Override{SimulateLogin: &no}, ""},
		{"seats of an app without modules", "peopleai", Override{Seats: []SeatLimit{{Module: "SI", Limit: 1}}},
			"the profile has none"},
		{"bad reclaim_after", "sixsense", Override{ReclaimAfter: "soon"}, `reclaim_after: "soon" is not a duration`},
		{"a role's unknown module", "sixsense", Override{Roles: []Role{{Name: "Insights User", Modules: []string{"XX"}}}},
			`roles[0].modules[0]: role "Insights User": "XX" is not one of the modules`},
		{"jit role dropped", "sixsense", Override{Roles: []Role{{Name: "Sales AE / SDR"}}, DefaultRole: "Sales AE / SDR"},
			"jit_role: a just-in-time app needs jit_role"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := builtin(t, c.base).With(c.o)
			switch {
			case c.want == "" && err != nil:
				t.Errorf("error %v", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)):
				t.Errorf("error %v, want %q", err, c.want)
			}
		})
	}
}

func TestJITOnly(t *testing.T) {
	no := false
	if p := builtin(t, "sixsense"); !p.JITOnly {
		t.Error("a jit profile creates accounts only at a login by default")
	}
	p, err := builtin(t, "sixsense").With(Override{JITOnly: &no})
	if err != nil || p.JITOnly {
		t.Errorf("jit_only: false: %v, %v", p.JITOnly, err)
	}
	if _, err := builtin(t, "peopleai").With(Override{JITOnly: &no}); err == nil || !strings.Contains(err.Error(), "jit_only: only a just-in-time app") {
		t.Errorf("jit_only on a manual app: %v", err)
	}
}
