package plan

import (
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

func TestManualPlan(t *testing.T) {
	active := func(role string) account.Desired { return account.Desired{Exists: true, Active: true, Role: role} }
	inactive := account.Desired{Exists: true, Active: false, Role: "User"}
	gone := account.Desired{}
	has := func(active bool, role string) account.Observed {
		return account.Observed{Exists: true, Active: active, Role: role}
	}
	none := account.Observed{}
	cases := []struct {
		name string
		d    account.Desired
		o    account.Observed
		want []Action
	}{
		{"new user gets an account", active("User"), none, []Action{{Kind: profile.Create, Role: "User"}}},
		{"in line: nothing", active("User"), has(true, "User"), nil},
		{"role changed", active("Admin"), has(true, "User"), []Action{{Kind: profile.SetRole, Role: "Admin", PreviousRole: "User"}}},
		{"deactivated in the IdP", inactive, has(true, "User"), []Action{{Kind: profile.Deactivate, Role: "User"}}},
		{"deactivated, never had an account", inactive, none, nil},
		{"deactivated, already deactivated", inactive, has(false, "User"), nil},
		{"reactivated, with a new role", active("Admin"), has(false, "User"), []Action{{Kind: profile.Reactivate, Role: "Admin", PreviousRole: "User"}}},
		{"deleted with an account", gone, has(true, "User"), []Action{{Kind: profile.Delete, PreviousRole: "User"}}},
		{"deleted after deactivation", gone, has(false, "User"), []Action{{Kind: profile.Delete, PreviousRole: "User"}}},
		{"deleted, never had an account", gone, none, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Manual{}).Plan(c.d, c.o); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Plan = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestDecide(t *testing.T) {
	pending := func(id int64, kind profile.ActionKind, role string) task.Task {
		return task.Task{ID: id, Kind: string(kind), Role: role, Status: task.Open}
	}
	create := func(role string) Action { return Action{Kind: profile.Create, Role: role} }
	ids := func(ts []task.Task) []int64 {
		var out []int64
		for _, t := range ts {
			out = append(out, t.ID)
		}
		return out
	}
	cases := []struct {
		name                    string
		actions                 []Action
		pending                 []task.Task
		keep, supersede, cancel []int64
		new                     []Action
	}{
		{"first action", []Action{create("User")}, nil, nil, nil, nil, []Action{create("User")}},
		{"planned again: nothing new", []Action{create("User")}, []task.Task{pending(1, profile.Create, "User")}, []int64{1}, nil, nil, nil},
		{"created then deactivated before anyone acted", nil, []task.Task{pending(1, profile.Create, "User")}, nil, nil, []int64{1}, nil},
		{"role changed again: the last role wins", []Action{{Kind: profile.SetRole, Role: "C", PreviousRole: "A"}},
			[]task.Task{pending(2, profile.SetRole, "B")}, nil, []int64{2}, nil, []Action{{Kind: profile.SetRole, Role: "C", PreviousRole: "A"}}},
		{"create with a new role", []Action{create("Admin")}, []task.Task{pending(1, profile.Create, "User")},
			nil, []int64{1}, nil, []Action{create("Admin")}},
		{"a duplicate beside the one kept is cancelled", []Action{create("User")},
			[]task.Task{pending(1, profile.Create, "User"), pending(2, profile.Create, "User")}, []int64{1}, nil, []int64{2}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Decide(c.actions, c.pending)
			if !reflect.DeepEqual(ids(d.Keep), c.keep) || !reflect.DeepEqual(ids(d.Supersede), c.supersede) ||
				!reflect.DeepEqual(ids(d.Cancel), c.cancel) || !reflect.DeepEqual(d.New, c.new) {
				t.Errorf("Decide = keep %v, supersede %v, cancel %v, new %+v; want %v, %v, %v, %+v",
					ids(d.Keep), ids(d.Supersede), ids(d.Cancel), d.New, c.keep, c.supersede, c.cancel, c.new)
			}
		})
	}
}

func TestJITPlan(t *testing.T) {
	active := func(role string) account.Desired { return account.Desired{Exists: true, Active: true, Role: role} }
	inactive := account.Desired{Exists: true, Active: false, Role: "Seller"}
	gone := account.Desired{}
	has := func(active bool, role string) account.Observed {
		return account.Observed{Exists: true, Active: active, Role: role}
	}
	none := account.Observed{}
	wait := JIT{Role: "Viewer"}
	simulate := JIT{Role: "Viewer", Simulate: true}
	invite := JIT{Role: "Viewer", Invite: true}
	cases := []struct {
		name  string
		j     JIT
		d     account.Desired
		o     account.Observed
		want  []Action
		state account.State // when nothing is planned
	}{
		{"assigned: wait for the first login", wait, active("Seller"), none, nil, account.AwaitingLogin},
		{"assigned: simulate the first login", simulate, active("Seller"), none,
			[]Action{{Kind: profile.Create, Role: "Viewer", Executor: ExecutorSAML}}, ""},
		{"assigned: invite with the role", invite, active("Seller"), none, []Action{{Kind: profile.Create, Role: "Seller"}}, ""},
		{"first login gave the minimal role: promote", wait, active("Seller"), has(true, "Viewer"),
			[]Action{{Kind: profile.SetRole, Role: "Seller", PreviousRole: "Viewer"}}, ""},
		{"in line", wait, active("Seller"), has(true, "Seller"), nil, account.Active},
		{"leaver: disable", wait, inactive, has(true, "Seller"), []Action{{Kind: profile.Deactivate, Role: "Seller"}}, ""},
		{"deleted: disable, the app cannot delete", wait, gone, has(true, "Seller"), []Action{{Kind: profile.Deactivate, Role: "Seller"}}, ""},
		{"deleted after disabling", wait, gone, has(false, "Seller"), nil, account.Deactivated},
		{"leaver who never signed in", wait, inactive, none, nil, account.Absent},
		{"back: reactivate", wait, active("Seller"), has(false, "Seller"),
			[]Action{{Kind: profile.Reactivate, Role: "Seller", PreviousRole: "Seller"}}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.j.Plan(c.d, c.o)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("Plan = %+v, want %+v", got, c.want)
			}
			if c.state != "" {
				if s := c.j.Settle(c.d, c.o); s != c.state {
					t.Errorf("Settle = %s, want %s", s, c.state)
				}
			}
		})
	}
}

func TestReassignPlan(t *testing.T) {
	has := func(active, reassigned bool) account.Observed {
		return account.Observed{Exists: true, Active: active, Role: "User", Reassigned: reassigned}
	}
	reassign := Action{Kind: profile.Reassign}
	cases := []struct {
		name string
		d    account.Desired
		o    account.Observed
		want []Action
	}{
		{"joiner: as manual", account.Desired{Exists: true, Active: true, Role: "User"}, account.Observed{},
			[]Action{{Kind: profile.Create, Role: "User"}}},
		{"leaver: reassign, then deactivate", account.Desired{Exists: true, Role: "User"}, has(true, false),
			[]Action{reassign, {Kind: profile.Deactivate, Role: "User"}}},
		{"leaver reassigned: deactivate only", account.Desired{Exists: true, Role: "User"}, has(true, true),
			[]Action{{Kind: profile.Deactivate, Role: "User"}}},
		{"deactivated before its items were reassigned", account.Desired{Exists: true, Role: "User"}, has(false, false),
			[]Action{reassign}},
		{"deleted: reassign, then delete", account.Desired{}, has(false, false),
			[]Action{reassign, {Kind: profile.Delete, PreviousRole: "User"}}},
		{"never had an account: nothing to reassign", account.Desired{}, account.Observed{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Reassign{}).Plan(c.d, c.o); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Plan = %+v, want %+v", got, c.want)
			}
		})
	}
}

func TestRestorePlan(t *testing.T) {
	d := account.Desired{Exists: true, Active: true, Role: "Admin, Organization manager, User"}
	snap := &account.Snapshot{Roles: []string{"Admin", "Auditor"}, MFA: true}
	cases := []struct {
		name string
		d    account.Desired
		o    account.Observed
		want []Action
	}{
		{"no snapshot: as manual", d, account.Observed{Exists: true, Active: true, Role: "User"},
			[]Action{{Kind: profile.SetRole, Role: d.Role, PreviousRole: "User"}}},
		{"deactivated with a snapshot: reactivate first", d, account.Observed{Exists: true, Role: "User", Snapshot: snap},
			[]Action{{Kind: profile.Reactivate, Role: d.Role, PreviousRole: "User"}}},
		{"reactivated: a restore per missing role, then MFA", d,
			account.Observed{Exists: true, Active: true, Role: "Organization manager, User", Snapshot: snap},
			[]Action{{Kind: profile.Restore, Role: "Admin"}, {Kind: profile.Restore, Role: "Auditor"},
				{Kind: profile.Restore, Params: map[string]string{"setting": profile.SettingMFA}}}},
		{"leaving again: deactivate", account.Desired{Exists: true, Role: d.Role},
			account.Observed{Exists: true, Active: true, Role: "User", Snapshot: snap},
			[]Action{{Kind: profile.Deactivate, Role: "User"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := (Restore{}).Plan(c.d, c.o); !reflect.DeepEqual(got, c.want) {
				t.Errorf("Plan = %+v, want %+v", got, c.want)
			}
		})
	}
}
