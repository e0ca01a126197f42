package profile

import (
	"slices"
	"strings"
	"testing"
)

func TestRender(t *testing.T) {
	// Steps run once with sample data at load.
	if _, err := builtin(t, "manual").With(Override{Runbooks: map[ActionKind][]string{Delete: {"{{index .Email 99}}"}}}); err == nil {
		t.Fatal("a step that cannot render with sample data loaded")
	}
	p, err := builtin(t, "manual").With(Override{Runbooks: map[ActionKind][]string{
		SetRole: {
			"Change {{.DisplayName}} ({{.Email}}) to {{.Role}}.",
			"{{if .PreviousRole}}They had {{.PreviousRole}}.{{end}}",
			"{{.GivenName}} {{.FamilyName}} is {{.UserName}} in {{.App}}.",
		},
		Delete: {"Delete {{slice .Email 0 3}}."},
	}})
	if err != nil {
		t.Fatal(err)
	}
	full := RunbookData{App: "acme", UserName: "jd", Email: "jd@example.com", DisplayName: "J D",
		GivenName: "J", FamilyName: "D", Role: "Member", PreviousRole: "Guest"}
	cases := []struct {
		name string
		kind ActionKind
		data RunbookData
		want []string
		err  string
	}{
		{"every field", SetRole, full, []string{"Change J D (jd@example.com) to Member.", "They had Guest.", "J D is jd in acme."}, ""},
		{"a blank step is left out", SetRole, RunbookData{Email: "a@b.c", Role: "Member"}, []string{"Change  (a@b.c) to Member.", "is  in ."}, ""},
		{"data the template cannot use", Delete, RunbookData{Email: "a"}, nil, "profile manual: runbooks.delete[0]: template: step"},
		{"data a user controls is not a template", Delete, RunbookData{Email: "{{.Role}}"}, []string{"Delete {{.."}, ""},
		{"unknown kind", "remove", full, nil, `profile manual: unknown action kind "remove"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := p.Render(c.kind, c.data)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Errorf("error %v, want %q", err, c.err)
				}
				return
			}
			if err != nil || !slices.Equal(got, c.want) {
				t.Errorf("got %q, %v\nwant %q", got, err, c.want)
			}
		})
	}
}

func TestRenderUnloadedProfile(t *testing.T) {
	// A profile built by hand has no parsed steps; Render parses them.
	p := &Profile{Name: "hand", Runbooks: map[ActionKind][]string{
		Create: {"Add {{.Email}}."},
		Delete: {"Remove {{.Email}"},
	}}
	if got, err := p.Render(Create, RunbookData{Email: "a@b.c"}); err != nil || !slices.Equal(got, []string{"Add a@b.c."}) {
		t.Errorf("create: %q, %v", got, err)
	}
	if _, err := p.Render(Delete, RunbookData{}); err == nil || !strings.Contains(err.Error(), "profile hand: runbooks.delete[0]") {
		t.Errorf("delete: %v", err)
	}
	if _, err := p.Render(SetRole, RunbookData{}); err == nil || !strings.Contains(err.Error(), "no runbook for set_role") {
		t.Errorf("set_role: %v", err)
	}
	var nilProfile *Profile
	if _, err := nilProfile.Render(Create, RunbookData{}); err == nil {
		t.Error("nil profile rendered")
	}
}
