package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/api"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

const accountsUsage = `Usage:
  scimbridge accounts list  [-config FILE] -app NAME [-json]
  scimbridge accounts login [-config FILE] -app NAME [-as NAME] [-at TIME] USER

An account is scimbridge's record of a user's account inside an app: what
the IdP wants (desired), what is known to be true in the app (observed),
and its state: pending while work is outstanding, then active,
deactivated, deleted, absent (never had one), blocked (a step was
rejected, or the app has no seat for the role) or awaiting_login (a
just-in-time app creates the account at the first login).

login records an admin's word that USER (a user name or SCIM id) has
signed in to the app: for a just-in-time app, the account then exists
with the app's first-login role, and the promotion is planned.
`

func runAccounts(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, accountsUsage)
		return usageError{"which accounts command? list, login"}
	}
	switch args[0] {
	case "list":
		return accountsList(ctx, e, args[1:])
	case "login":
		return accountsLogin(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, accountsUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown accounts command %q (list, login)", args[0])}
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

func accountsLogin(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "accounts login", "Usage: scimbridge accounts login [-config FILE] -app NAME [-as NAME] [-at TIME] USER\n\n"+
		"Records that USER (a user name or SCIM id) has signed in to the app, on an admin's word.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app the user signed in to (required)")
	as := actorFlag(fs)
	at := fs.String("at", "", "when, as RFC 3339 (2026-12-01T09:30:00Z); default now")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"give one USER: a user name or SCIM id"}
	}
	user := rest[0]
	if *app == "" {
		return usageError{"-app is required"}
	}
	actor, err := actorName(e, *as)
	if err != nil {
		return err
	}
	when := time.Now().UTC()
	if *at != "" {
		if when, err = time.Parse(time.RFC3339, *at); err != nil {
			return usageError{fmt.Sprintf("-at %q: not a time such as 2026-12-01T09:30:00Z", *at)}
		}
	}
	_, db, eng, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	acct, found, err := queue.In(db.ReadSQL()).AccountNamed(ctx, *app, user)
	if err != nil {
		return err
	}
	if !found {
		return fmt.Errorf("%s has no account of %q", *app, user)
	}
	if err := eng.RecordLogin(ctx, engine.Login{App: *app, UserID: acct.UserID, At: when, Source: engine.LoginAdmin, Actor: actor}); err != nil {
		return err
	}
	acct, _, err = queue.In(db.ReadSQL()).Account(ctx, *app, acct.UserID)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%s: %s\n", acct.UserName, acct.State)
	return nil
}
