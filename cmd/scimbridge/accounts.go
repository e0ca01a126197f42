package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

const accountsUsage = `Usage:
  scimbridge accounts list [-config FILE] -app NAME [-json]

An account is scimbridge's record of a user's account inside an app: what
the IdP wants (desired), what is known to be true in the app (observed),
and its state: pending while work is outstanding, then active,
deactivated, deleted, absent (never had one) or blocked (a step was
rejected).
`

func runAccounts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, accountsUsage)
		return usageError{"which accounts command? list"}
	}
	switch args[0] {
	case "list":
		return accountsList(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, accountsUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown accounts command %q (list)", args[0])}
}

// accountJSON is an account as -json prints it.
type accountJSON struct {
	App      string     `json:"app"`
	UserID   string     `json:"userId"`
	UserName string     `json:"userName"`
	Email    string     `json:"email"`
	State    string     `json:"state"`
	Desired  stateJSON  `json:"desired"`
	Observed stateJSON  `json:"observed"`
	Source   string     `json:"observedSource,omitempty"`
	At       *time.Time `json:"observedAt,omitempty"`
	Updated  time.Time  `json:"updated"`
}

type stateJSON struct {
	Exists bool   `json:"exists"`
	Active bool   `json:"active"`
	Role   string `json:"role,omitempty"`
}

func accountsList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "accounts list", "Usage: scimbridge accounts list [-config FILE] -app NAME [-json]\n\nLists an app's accounts by user name.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose accounts to list (required)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	_, db, _, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := queue.In(db.ReadSQL()).Accounts(ctx, *app)
	if err != nil {
		return err
	}
	out := []accountJSON{}
	for _, a := range list {
		j := accountJSON{App: a.App, UserID: a.UserID, UserName: a.UserName, Email: a.Email, State: string(a.State),
			Desired:  stateJSON{a.Desired.Exists, a.Desired.Active, a.Desired.Role},
			Observed: stateJSON{a.Observed.Exists, a.Observed.Active, a.Observed.Role},
			Source:   a.Observed.Source, Updated: a.Updated}
		if !a.Observed.At.IsZero() {
			at := a.Observed.At
			j.At = &at
		}
		out = append(out, j)
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "USER\tSTATE\tWANTED\tIN THE APP")
	for _, a := range out {
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", a.UserName, a.State, describeState(a.Desired), describeState(a.Observed))
	}
	return w.Flush()
}

func describeState(s stateJSON) string {
	switch {
	case !s.Exists:
		return "no account"
	case !s.Active:
		return "deactivated (" + dash(s.Role) + ")"
	}
	return "active (" + dash(s.Role) + ")"
}
