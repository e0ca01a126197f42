package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/csvcell"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

const exportUsage = `Usage: scimbridge export [-config FILE] -app NAME -format sixclicks-import [-all]

Writes, on standard output, a CSV that the app's own bulk import takes,
for admins who prefer it to adding users one by one.

  sixclicks-import   6clicks' Import Users template: Email Address, First
                     Name, Last Name, Roles, Groups, Active. Roles holds
                     the user's type (User, Respondent, Advisor) as the
                     role rules give it; Groups holds the user's groups in
                     the IdP, which must exist in 6clicks before the
                     import. By default only the users whose create task
                     is pending; -all writes every user the IdP assigns.

After the import, mark the create tasks done (scimbridge tasks done), or
let the next import of 6clicks' user list verify them.
`

func runExport(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "export", exportUsage)
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app (required)")
	format := fs.String("format", "", "the file format: sixclicks-import (required)")
	all := fs.Bool("all", false, "every assigned user, not only those waiting to be created")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	if *format != "sixclicks-import" {
		return usageError{fmt.Sprintf("-format %q: the formats are: sixclicks-import", *format)}
	}
	_, db, _, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	q := queue.In(db.ReadSQL())
	accounts, err := q.Accounts(ctx, *app)
	if err != nil {
		return err
	}
	w := csv.NewWriter(e.stdout)
	if err := w.Write([]string{"Email Address", "First Name", "Last Name", "Roles", "Groups", "Active"}); err != nil {
		return err
	}
	for _, a := range accounts {
		if !a.Desired.Exists {
			continue
		}
		if !*all {
			waiting, err := createPending(ctx, q, a)
			if err != nil {
				return err
			}
			if !waiting {
				continue
			}
		}
		u, err := db.GetUser(ctx, *app, a.UserID, store.Load{Groups: true})
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		d := engine.UserDetails(u)
		groups := make([]string, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = g.DisplayName
		}
		slices.Sort(groups)
		active := "No"
		if a.Desired.Active {
			active = "Yes"
		}
		row := []string{a.Email, d.GivenName, d.FamilyName, a.Desired.Role, strings.Join(groups, ","), active}
		for i, v := range row {
			row[i] = csvcell.Safe(v)
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	return w.Error()
}

func createPending(ctx context.Context, q queue.Queue, a account.Account) (bool, error) {
	pending, err := q.Pending(ctx, a.App, a.UserID)
	if err != nil {
		return false, err
	}
	return slices.ContainsFunc(pending, func(t task.Task) bool { return t.Kind == string(profile.Create) }), nil
}
