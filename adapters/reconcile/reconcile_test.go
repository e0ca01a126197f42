package reconcile_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/adapters/task"
)

var now = time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)

const grace = 24 * time.Hour

// state reads "active/Role", "inactive/Role" or "none".
func state(s string) (exists, active bool, role string) {
	if s == "none" {
		return false, false, ""
	}
	status, role, _ := strings.Cut(s, "/")
	return true, status == "active", role
}

// acct is the account of user name@example.com (id "u-name"): desired
// and observed as state reads them.
func acct(name, desired, observed string) account.Account {
	a := account.Account{App: "pai", UserID: "u-" + name, UserName: name + "@example.com", Email: name + "@example.com"}
	a.Desired.Exists, a.Desired.Active, a.Desired.Role = state(desired)
	a.Observed.Exists, a.Observed.Active, a.Observed.Role = state(observed)
	a.Observed.Source = "task"
	return a
}

// done is task id of kind for user name, marked done ago before now.
func done(id int64, name, kind, role string, ago time.Duration) task.Task {
	return task.Task{ID: id, App: "pai", UserID: "u-" + name, UserName: name + "@example.com", Kind: kind, Role: role,
		Status: task.Done, Updated: now.Add(-ago)}
}

// withEmail gives a an email other than its user name.
func withEmail(a account.Account, email string) account.Account {
	a.Email = email
	return a
}

func pending(id int64, name, kind, role string) task.Task {
	t := done(id, name, kind, role, time.Hour)
	t.Status = task.Open
	return t
}

func file(t *testing.T, csv string) reconcile.File {
	t.Helper()
	f, err := reconcile.Parse(strings.NewReader(csv), reconcile.Columns{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// brief is a finding as "kind user [#task] [drift]".
func brief(f reconcile.Finding) string {
	s := string(f.Kind) + " " + strings.TrimSuffix(strings.ToLower(f.Email), "@example.com")
	if f.TaskID != 0 {
		s += fmt.Sprintf(" #%d", f.TaskID)
	}
	if f.Drift != "" {
		s += " " + string(f.Drift)
	}
	return s
}

func TestDiff(t *testing.T) {
	cases := []struct {
		name     string
		accounts []account.Account
		tasks    []task.Task
		drift    []reconcile.DriftKey
		csv      string
		mode     reconcile.Mode
		want     []string          // briefs, in order
		observed map[string]string // user → observed state after the import, for the accounts it records
	}{
		{
			name:     "snapshot: a left-out account is missing; an unknown row is an orphan",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "active/User", "active/User")},
			csv:      "Email\nann@example.com\neve@example.com\n",
			mode:     reconcile.Snapshot,
			want:     []string{"observed bob", "missing bob", "orphan eve"},
			observed: map[string]string{"ann": "active (User)", "bob": "no account"},
		},
		{
			name:     "delta: a left-out account is not mentioned",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "active/User", "active/User")},
			csv:      "Email\nann@example.com\neve@example.com\n",
			mode:     reconcile.Delta,
			want:     []string{"orphan eve"},
			observed: map[string]string{"ann": "active (User)"},
		},
		{
			name: "missing columns never change or remove anything",
			accounts: []account.Account{acct("ann", "active/Admin", "inactive/User"), acct("bob", "inactive/User", "inactive/User"),
				acct("cy", "active/User", "active/User")},
			csv:      "Email,Status,Role\nann@example.com,,\nbob@example.com, , \ncy@example.com,,\n",
			mode:     reconcile.Snapshot,
			want:     nil,
			observed: map[string]string{"ann": "deactivated (User)", "bob": "deactivated (User)", "cy": "active (User)"},
		},
		{
			name:     "facts change what is observed; a role keeps the profile's spelling",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "inactive/User", "active/User")},
			csv:      "Email,Status,Role\nann@example.com,active,user\nbob@example.com,disabled,\n",
			mode:     reconcile.Delta,
			want:     []string{"observed bob"},
			observed: map[string]string{"ann": "active (User)", "bob": "deactivated (User)"},
		},
		{
			name:     "first seen without status or role: as the IdP wants it",
			accounts: []account.Account{acct("ann", "active/Admin", "none")},
			tasks:    []task.Task{pending(1, "ann", "create", "Admin")},
			csv:      "Email\nann@example.com\n",
			mode:     reconcile.Snapshot,
			want:     []string{"observed ann"},
			observed: map[string]string{"ann": "active (Admin)"},
		},
		{
			name:     "wrong role is drift when nothing is under way",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "active/Admin", "active/User"), acct("cy", "inactive/User", "inactive/User")},
			tasks:    []task.Task{pending(1, "bob", "set_role", "Admin")},
			csv:      "Email,Role\nann@example.com,Admin\nbob@example.com,User\ncy@example.com,Admin\n",
			mode:     reconcile.Snapshot,
			want:     []string{"observed ann", "observed cy", "wrong_role ann"},
			observed: map[string]string{"ann": "active (Admin)", "bob": "active (User)", "cy": "deactivated (Admin)"},
		},
		{
			name: "done tasks the file confirms are verified",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "inactive/User", "inactive/User"),
				acct("cy", "active/Admin", "active/Admin"), acct("dee", "none", "none"), acct("eli", "inactive/User", "inactive/User")},
			tasks: []task.Task{done(1, "ann", "create", "User", time.Hour), done(2, "bob", "deactivate", "User", time.Hour),
				done(3, "cy", "set_role", "Admin", time.Hour), done(4, "dee", "delete", "", time.Hour), done(5, "eli", "deactivate", "User", time.Hour)},
			csv:      "Email,Status,Role\nann@example.com,active,User\nbob@example.com,inactive,User\ncy@example.com,active,admin\n",
			mode:     reconcile.Snapshot,
			want:     []string{"verify ann #1", "verify bob #2", "verify cy #3", "verify dee #4", "verify eli #5", "observed eli"},
			observed: map[string]string{"ann": "active (User)", "bob": "deactivated (User)", "cy": "active (Admin)", "eli": "no account"},
		},
		{
			name: "what the file cannot tell leaves a task done",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "inactive/User", "inactive/User"),
				acct("cy", "active/Admin", "active/Admin"), acct("dee", "none", "none")},
			tasks: []task.Task{done(1, "ann", "reactivate", "User", time.Hour), done(2, "bob", "deactivate", "User", time.Hour),
				done(3, "cy", "set_role", "Admin", time.Hour), done(4, "dee", "delete", "", time.Hour)},
			csv:      "Email\nann@example.com\nbob@example.com\ncy@example.com\n",
			mode:     reconcile.Delta,
			want:     []string{"unconfirmed ann #1", "unconfirmed bob #2", "unconfirmed cy #3"},
			observed: map[string]string{"ann": "active (User)", "bob": "deactivated (User)", "cy": "active (Admin)"},
		},
		{
			name:     "a create is confirmed by the user being listed",
			accounts: []account.Account{acct("ann", "active/User", "active/User")},
			tasks:    []task.Task{done(1, "ann", "create", "User", time.Hour)},
			csv:      "Email\nann@example.com\n",
			mode:     reconcile.Delta,
			want:     []string{"verify ann #1"},
		},
		{
			name:     "a delete in a delta: listed, even inactive, contradicts it",
			accounts: []account.Account{acct("ann", "none", "none"), acct("bob", "none", "none")},
			tasks:    []task.Task{done(1, "ann", "delete", "", 48*time.Hour), done(2, "bob", "delete", "", 48*time.Hour)},
			csv:      "Email,Status\nann@example.com,inactive\n",
			mode:     reconcile.Delta,
			want:     []string{"reopen ann #1", "observed ann"},
			observed: map[string]string{"ann": "deactivated (-)"},
		},
		{
			name: "contradicted past the grace period: reopened; within it: wait, and nothing applied",
			accounts: []account.Account{acct("ann", "inactive/User", "inactive/User"), acct("bob", "inactive/User", "inactive/User"),
				acct("cy", "active/User", "active/User")},
			tasks: []task.Task{done(1, "ann", "deactivate", "User", 25*time.Hour), done(2, "bob", "deactivate", "User", 23*time.Hour),
				done(3, "cy", "create", "User", 25*time.Hour)},
			csv:      "Email,Status,Role\nann@example.com,active,User\nbob@example.com,active,Admin\n",
			mode:     reconcile.Snapshot,
			want:     []string{"reopen ann #1", "reopen cy #3", "wait bob #2", "observed ann", "observed cy"},
			observed: map[string]string{"ann": "active (User)", "cy": "no account"},
		},
		{
			name:     "a role the file contradicts reopens the task, and is not also drift",
			accounts: []account.Account{acct("ann", "active/Admin", "active/Admin")},
			tasks:    []task.Task{done(1, "ann", "set_role", "Admin", 30*time.Hour)},
			csv:      "Email,Role\nann@example.com,User\n",
			mode:     reconcile.Delta,
			want:     []string{"reopen ann #1", "observed ann"},
			observed: map[string]string{"ann": "active (User)"},
		},
		{
			name:     "each task is checked on what no later task changed",
			accounts: []account.Account{acct("ann", "inactive/User", "inactive/User"), acct("bob", "inactive/User", "inactive/User")},
			tasks: []task.Task{done(1, "ann", "create", "User", 50*time.Hour), done(2, "ann", "deactivate", "User", 48*time.Hour),
				done(3, "bob", "create", "User", 50*time.Hour), done(4, "bob", "deactivate", "User", time.Hour)},
			csv:  "Email,Status\nann@example.com,inactive\nbob@example.com,active\n",
			mode: reconcile.Snapshot,
			// bob's export predates his deactivation: his create is
			// confirmed, the rest waits.
			want:     []string{"verify ann #1", "verify ann #2", "verify bob #3", "wait bob #4"},
			observed: map[string]string{"ann": "deactivated (User)"},
		},
		{
			name:     "a task another overtook entirely follows the newest",
			accounts: []account.Account{acct("ann", "active/Admin", "active/Admin")},
			tasks:    []task.Task{done(1, "ann", "set_role", "User", 50*time.Hour), done(2, "ann", "set_role", "Admin", 48*time.Hour)},
			csv:      "Email,Role\nann@example.com,Admin\n",
			mode:     reconcile.Snapshot,
			want:     []string{"verify ann #1", "verify ann #2"},
		},
		{
			name:     "an account matches by user name when its email is not listed",
			accounts: []account.Account{withEmail(acct("ann", "active/User", "active/User"), "ann@mail.example.com")},
			csv:      "User\nANN@example.com\n",
			mode:     reconcile.Snapshot,
		},
		{
			name: "a row two assigned users share is ambiguous and left alone",
			accounts: []account.Account{acct("ann", "active/User", "active/User"),
				withEmail(acct("bob", "active/User", "none"), "ann@example.com")},
			csv:  "Email,Status\nann@example.com,inactive\n",
			mode: reconcile.Snapshot,
			want: []string{"ambiguous ann"},
		},
		{
			name: "the user the IdP assigns wins a shared email over a removed one, which is left alone",
			accounts: []account.Account{acct("ann", "none", "active/User"),
				withEmail(acct("ann2", "active/User", "active/User"), "ann@example.com")},
			csv:      "Email\nann@example.com\n",
			mode:     reconcile.Snapshot,
			observed: map[string]string{"ann2": "active (User)"},
		},
		{
			name:     "a removed user still in the app is an orphan, not acted on",
			accounts: []account.Account{acct("ann", "none", "none"), acct("bob", "none", "inactive/User")},
			csv:      "Email,Status\nann@example.com,active\nbob@example.com,inactive\n",
			mode:     reconcile.Snapshot,
			want:     []string{"orphan ann", "orphan bob"},
			observed: map[string]string{},
		},
		{
			name:     "snapshot: drift no longer shown is resolved",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "active/User", "active/User")},
			drift: []reconcile.DriftKey{{Email: "eve@example.com", Kind: reconcile.Orphan}, {Email: "ann@example.com", Kind: reconcile.Missing},
				{Email: "bob@example.com", Kind: reconcile.WrongRole}, {Email: "zed@example.com", Kind: reconcile.Orphan}},
			csv:      "Email\nann@example.com\nbob@example.com\nzed@example.com\n",
			mode:     reconcile.Snapshot,
			want:     []string{"orphan zed", "resolved ann missing", "resolved eve orphan"},
			observed: map[string]string{"ann": "active (User)", "bob": "active (User)"},
		},
		{
			name:     "delta: only drift of listed users is resolved",
			accounts: []account.Account{acct("ann", "active/User", "active/User"), acct("bob", "active/User", "active/User")},
			drift: []reconcile.DriftKey{{Email: "eve@example.com", Kind: reconcile.Orphan}, {Email: "ann@example.com", Kind: reconcile.Missing},
				{Email: "bob@example.com", Kind: reconcile.WrongRole}},
			csv:      "Email,Role\nann@example.com,User\nbob@example.com,user\n",
			mode:     reconcile.Delta,
			want:     []string{"resolved ann missing", "resolved bob wrong_role"},
			observed: map[string]string{"ann": "active (User)", "bob": "active (User)"},
		},
		{
			name:     "drift of a waiting account is neither raised nor resolved",
			accounts: []account.Account{acct("ann", "inactive/User", "inactive/User")},
			tasks:    []task.Task{done(1, "ann", "deactivate", "User", time.Hour)},
			drift:    []reconcile.DriftKey{{Email: "ann@example.com", Kind: reconcile.WrongRole}},
			csv:      "Email,Status,Role\nann@example.com,active,Admin\n",
			mode:     reconcile.Snapshot,
			want:     []string{"wait ann #1"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := reconcile.Diff(reconcile.Input{App: "pai", Accounts: c.accounts, Tasks: c.tasks, Drift: c.drift,
				Roles: []string{"Admin", "User"}, File: file(t, c.csv), Mode: c.mode, Now: now, Grace: grace})
			var got []string
			for _, f := range res.Findings {
				got = append(got, brief(f))
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("findings:\n got  %q\n want %q", got, c.want)
				for _, f := range res.Findings {
					t.Logf("  %s: %s", brief(f), f.Detail)
				}
			}
			obs := map[string]string{}
			for _, o := range res.Observations {
				obs[strings.TrimPrefix(o.UserID, "u-")] = o.Now.String()
			}
			if c.observed == nil {
				c.observed = map[string]string{}
				for _, o := range res.Observations {
					if !o.Now.Same(o.Was) {
						t.Errorf("%s observed %s -> %s, want no change", o.UserID, o.Was, o.Now)
					}
					c.observed[strings.TrimPrefix(o.UserID, "u-")] = o.Now.String()
				}
			}
			if len(obs) != len(c.observed) {
				t.Errorf("observations %v, want %v", obs, c.observed)
			}
			for user, want := range c.observed {
				if obs[user] != want {
					t.Errorf("%s observed %q, want %q", user, obs[user], want)
				}
			}
		})
	}
}

// TestGracePeriod checks both sides of the boundary: a task done exactly
// the grace period ago may still lag; a moment later it is reopened.
func TestGracePeriod(t *testing.T) {
	cases := []struct {
		ago   time.Duration
		grace time.Duration
		want  reconcile.Kind
	}{
		{time.Minute, 24 * time.Hour, reconcile.Wait},
		{24 * time.Hour, 24 * time.Hour, reconcile.Wait},
		{24*time.Hour + time.Nanosecond, 24 * time.Hour, reconcile.Reopen},
		{72 * time.Hour, 24 * time.Hour, reconcile.Reopen},
		{0, 0, reconcile.Wait},
		{time.Second, 0, reconcile.Reopen},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s of %s", c.ago, c.grace), func(t *testing.T) {
			res := reconcile.Diff(reconcile.Input{App: "pai",
				Accounts: []account.Account{acct("ann", "inactive/User", "inactive/User")},
				Tasks:    []task.Task{done(7, "ann", "deactivate", "User", c.ago)},
				File:     file(t, "Email,Status\nann@example.com,active\n"), Mode: reconcile.Delta, Now: now, Grace: c.grace})
			if len(res.Findings) == 0 || res.Findings[0].Kind != c.want || res.Findings[0].TaskID != 7 {
				t.Fatalf("findings %+v, want %s of task 7 first", res.Findings, c.want)
			}
			f := res.Findings[0]
			if !strings.Contains(f.Detail, "export: active; done ") {
				t.Errorf("detail %q does not say what the app shows", f.Detail)
			}
			if c.want == reconcile.Wait && len(res.Observations) != 0 {
				t.Errorf("a waiting account was observed: %+v", res.Observations)
			}
		})
	}
}

func TestHuman(t *testing.T) {
	cases := map[time.Duration]string{0: "0s", 20 * time.Second: "20s", 1500 * time.Millisecond: "2s", 45 * time.Minute: "45m", 24 * time.Hour: "24h",
		25*time.Hour + 30*time.Minute: "25h30m", time.Hour + 10*time.Second: "1h", -2 * time.Hour: "-2h"}
	for d, want := range cases {
		if got := reconcile.Human(d); got != want {
			t.Errorf("Human(%s) = %q, want %q", d, got, want)
		}
	}
}

func TestResult(t *testing.T) {
	res := reconcile.Diff(reconcile.Input{App: "pai", Accounts: []account.Account{acct("ann", "active/User", "active/User")},
		Tasks: []task.Task{done(1, "ann", "deactivate", "User", time.Hour)},
		File:  file(t, "Email\nann@example.com\n"), Mode: reconcile.Delta, Now: now, Grace: grace})
	if res.Changes() || res.Count(reconcile.Unconfirmed) != 1 || res.Rows != 1 || res.Columns.Email != "Email" {
		t.Errorf("result %+v", res)
	}
	empty := reconcile.Diff(reconcile.Input{App: "pai", File: file(t, "Email\n"), Mode: reconcile.Snapshot, Now: now})
	if empty.Findings == nil || empty.Changes() {
		t.Errorf("empty result %+v", empty)
	}
	for _, s := range []string{"snapshot", " Delta "} {
		if _, err := reconcile.ParseMode(s); err != nil {
			t.Error(err)
		}
	}
	if _, err := reconcile.ParseMode("full"); err == nil || !strings.Contains(err.Error(), "use snapshot") {
		t.Errorf("ParseMode(full): %v", err)
	}
}
