package demo

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters"
	"github.com/scimbridge/scimbridge/adapters/api"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/simapp"
)

// TestConfiguration: the configuration the demo writes loads, and it
// agrees with the script on the apps and the groups.
func TestConfiguration(t *testing.T) {
	text := Configuration(Settings{Listen: "127.0.0.1:8080", SixclicksURL: "http://127.0.0.1:9999"})
	cfg, err := config.Parse("scimbridge.yaml", []byte(text), adapters.ProfileNames())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(cfg.AppNames(), AppNames()) {
		t.Errorf("apps %v, the script's %v", cfg.AppNames(), AppNames())
	}
	groups := map[string]bool{}
	for _, p := range company() {
		for _, g := range p.groups {
			groups[g] = true
		}
	}
	for _, a := range cfg.Apps {
		for _, r := range a.Profile.Rules.Groups {
			if !groups[r.Group] {
				t.Errorf("app %s has a rule for group %q, which nobody is in", a.Name, r.Group)
			}
		}
	}
	six := cfg.Apps[1]
	if six.REST == nil || six.REST.BaseURL != "http://127.0.0.1:9999" || len(six.REST.Actions) != 5 {
		t.Errorf("6clicks' API: %+v", six.REST)
	}
	if cfg.Listen != "127.0.0.1:8080" || cfg.SAML == nil || !cfg.Apps[0].Profile.SimulateLogin {
		t.Errorf("listen %s, saml %v", cfg.Listen, cfg.SAML)
	}
}

func TestCompany(t *testing.T) {
	seen := map[string]bool{}
	for _, p := range company() {
		if seen[p.email] || !strings.HasSuffix(p.email, "@"+Domain) || len(p.groups) == 0 {
			t.Errorf("person %+v", p)
		}
		seen[p.email] = true
		assigned := false
		for _, a := range apps() {
			assigned = assigned || a.assigned(p)
		}
		if !assigned {
			t.Errorf("%s has no app", p.name())
		}
	}
	people := People()
	if len(people) != 12 || !slices.ContainsFunc(people, func(p simapp.Person) bool { return p.Email == "chloe.dubois@example.com" }) {
		t.Errorf("the IdP's people: %+v", people)
	}
}

func TestDescribe(t *testing.T) {
	tasks := []api.Task{
		{ID: 1, Kind: "reassign", Status: "verified", Executor: "rest", Params: map[string]string{"target_email": "dana@example.com"}},
		{ID: 2, Kind: "deactivate", Status: "verified", Executor: "rest"},
		{ID: 3, Kind: "create", Status: "superseded", Executor: "manual", Role: "User (Standard)"},
		{ID: 4, Kind: "create", Status: "awaiting_approval", Executor: "manual", Role: "Admin"},
		{ID: 5, Kind: "set_role", Status: "open", Executor: "manual", Role: "Sales AE / SDR", PreviousRole: "Insights User"},
		{ID: 6, Kind: "restore", Status: "open", Executor: "manual", Params: map[string]string{"setting": "mfa"}},
		{ID: 7, Kind: "create", Status: "verified", Executor: "saml", Role: "Insights User"},
	}
	want := "through the app's API: hand their items to dana@example.com, then deactivate; " +
		"task #3 no longer needed (add as User (Standard)); task #4 waits for an approver: add as Admin; " +
		"task #5 for an admin: change the role from Insights User to Sales AE / SDR; " +
		"task #6 for an admin: restore the MFA requirement; " +
		"scimbridge signed them in once, so the app created the account, as Insights User"
	if got := describe(tasks); got != want {
		t.Errorf("describe:\n got %s\nwant %s", got, want)
	}
	if got := accountState(api.Account{State: "blocked", BlockedReason: "License limit exhausted."}); got != "blocked: License limit exhausted." {
		t.Errorf("blocked: %s", got)
	}
}
