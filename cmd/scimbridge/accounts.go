package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/scimbridge/scimbridge/adapters/api"
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
	out := []api.Account{}
	for _, a := range list {
		out = append(out, api.AccountJSON(a))
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

func describeState(s api.AccountState) string {
	switch {
	case !s.Exists:
		return "no account"
	case !s.Active:
		return "deactivated (" + dash(s.Role) + ")"
	}
	return "active (" + dash(s.Role) + ")"
}
