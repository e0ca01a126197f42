package console

import (
	"testing"
)

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"/console/tasks?app=wiki&status=pending": "/console/tasks?app=wiki&status=pending",
		"/console/":                              "/console/",
		"":                                       "/console/",
		"/console":                               "/console/",
		"//evil.example/console/":                "/console/",
		"/console//evil.example":                 "/console/",
		"https://evil.example/console/":          "/console/",
		"/console/../api/v1/tasks":               "/console/",
		"/console/%2e%2e/api/v1/tasks":           "/console/",
		"/console/\\\\evil.example":              "/console/",
		"/console/tasks\r\nSet-Cookie:x":         "/console/",
		"/api/v1/tasks":                          "/console/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRoles(t *testing.T) {
	for _, c := range []struct {
		role, need string
		ok         bool
	}{
		{Viewer, Operator, false}, {Operator, Operator, true}, {Operator, Approver, false},
		{Approver, Approver, true}, {"", Viewer, true}, {"admin", Operator, false},
	} {
		if got := (who{Role: c.role}).Can(c.need); got != c.ok {
			t.Errorf("%q can %q = %v, want %v", c.role, c.need, got, c.ok)
		}
	}
}

func TestSSORoleFor(t *testing.T) {
	c := &SSO{AdminGroup: "it-staff", OperatorGroup: "it-ops", ApproverGroup: "IT-Leads"}
	for _, tc := range []struct {
		groups []string
		want   string
	}{
		{[]string{"it-staff"}, Viewer},
		{[]string{"it-staff", "it-ops"}, Operator},
		{[]string{"it-leads"}, Approver}, // any case; a higher group lets one in alone
		{[]string{"sales"}, ""},
		{nil, ""},
	} {
		if got := c.roleFor(tc.groups); got != tc.want {
			t.Errorf("roleFor(%v) = %q, want %q", tc.groups, got, tc.want)
		}
	}
	if got := (&SSO{AdminGroup: "it-staff"}).roleFor([]string{""}); got != "" {
		t.Errorf("an empty group name let someone in: %q", got)
	}
}
