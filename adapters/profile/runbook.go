package profile

import (
	"errors"
	"fmt"
	"strings"
	"text/template"
)

// RunbookData is what a runbook step can refer to, as {{.Email}} and so
// on. Every field is text and may be empty.
type RunbookData struct {
	App          string // the app's name in the config file
	UserName     string // the SCIM userName
	Email        string
	DisplayName  string
	GivenName    string
	FamilyName   string
	Role         string // the role granted, or held when access is taken away
	PreviousRole string // the role before a change of role
	// Target is who a leaver's items go to (reassign); empty when an
	// admin must choose among Candidates.
	Target     string
	Candidates []string
	// Setting is what a restore gives back when it is not a role:
	// SettingMFA.
	Setting string
	// PreviousEmail is the address the account has in the app, for an
	// email change.
	PreviousEmail string
}

// SettingMFA is the MFA requirement of a member, as a restore gives it back.
const SettingMFA = "mfa"

// Render returns the runbook steps of kind written out for one user. A
// step that renders to blank text (a condition that did not hold) is left
// out. A step that fails to render is an error.
func (p *Profile) Render(kind ActionKind, data RunbookData) (steps []string, err error) {
	if p == nil {
		return nil, errors.New("profile: Render on a nil profile")
	}
	if !known(kind) {
		return nil, fmt.Errorf("profile %s: unknown action kind %q (known: %s)", p.Name, kind, kindList())
	}
	ts, ok := p.steps[kind]
	if !ok {
		// A profile built by hand rather than by Builtin or With.
		if ts, err = parseSteps(kind, p.Runbooks[kind]); err != nil {
			return nil, fmt.Errorf("profile %s: %w", p.Name, err)
		}
	}
	if len(ts) == 0 {
		return nil, fmt.Errorf("profile %s: no runbook for %s", p.Name, kind)
	}
	steps, err = renderSteps(kind, ts, data)
	if err != nil {
		return nil, fmt.Errorf("profile %s: %w", p.Name, err)
	}
	return steps, nil
}

func parseSteps(kind ActionKind, src []string) ([]*template.Template, error) {
	ts := make([]*template.Template, len(src))
	for j, s := range src {
		path := []string{"runbooks", string(kind), index(j)}
		if strings.TrimSpace(s) == "" {
			return nil, keyErrf(path, "the step is empty")
		}
		t, err := template.New("step").Option("missingkey=error").Parse(s)
		if err != nil {
			return nil, keyErr(err, path...)
		}
		ts[j] = t
	}
	return ts, nil
}

func renderSteps(kind ActionKind, ts []*template.Template, data RunbookData) (steps []string, err error) {
	j := 0
	// text/template re-panics on runtime errors; a task must still open
	// with an error rather than bring the process down.
	defer func() {
		if r := recover(); r != nil {
			steps, err = nil, keyErrf([]string{"runbooks", string(kind), index(j)}, "rendering failed: %v", r)
		}
	}()
	steps = make([]string, 0, len(ts))
	for ; j < len(ts); j++ {
		var b strings.Builder
		if err := ts[j].Execute(&b, data); err != nil {
			return nil, keyErr(err, "runbooks", string(kind), index(j))
		}
		if s := strings.TrimSpace(b.String()); s != "" {
			steps = append(steps, s)
		}
	}
	return steps, nil
}
