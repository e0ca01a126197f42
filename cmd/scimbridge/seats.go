package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/api"
)

const seatsUsage = `Usage: scimbridge seats [-config FILE] -app NAME [-json]

Shows an app's seat ledger: per licensed module, the seats bought (the
app's seats setting), whether the app enforces the limit, the seats in
use and those pending tasks are about to take; the accounts blocked until
a seat is free; and the accounts that hold seats without a login for the
app's reclaim period (reclaim_after, 90 days by default).
`

func runSeats(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "seats", seatsUsage)
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose seats to show (required)")
	asJSON := fs.Bool("json", false, "print JSON instead of tables")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	_, db, eng, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	seats, err := eng.Seats(ctx, *app, time.Now())
	if err != nil {
		return err
	}
	out := api.SeatsJSON(seats)
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	if len(out.Modules) == 0 {
		fmt.Fprintf(e.stdout, "%s counts no seats: its profile has no licensed modules.\n", *app)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	if len(out.Modules) > 0 {
		fmt.Fprintln(w, "MODULE\tUSED\tPENDING\tLIMIT\tENFORCED\t")
		for _, m := range out.Modules {
			limit, flag := "-", ""
			if m.Limit > 0 {
				limit = fmt.Sprint(m.Limit)
			}
			if m.Over {
				flag = "over-provisioned"
			}
			fmt.Fprintf(w, "%s\t%d\t%d\t%s\t%s\t%s\n", m.Module, m.Used, m.Pending, limit, yesNo(m.Enforced), flag)
		}
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if len(out.Blocked) > 0 {
		fmt.Fprintf(e.stdout, "\nWaiting for a seat:\n")
		for _, a := range out.Blocked {
			fmt.Fprintf(e.stdout, "  %s  %s: %s\n", a.UserName, a.Desired.Role, a.BlockedReason)
		}
	}
	if len(out.Reclaimable) > 0 {
		fmt.Fprintf(e.stdout, "\nReclaimable (no login for %d days):\n", out.ReclaimAfterDays)
		for _, r := range out.Reclaimable {
			last := "never"
			if r.LastLogin != nil {
				last = r.LastLogin.UTC().Format(time.DateOnly)
			}
			fmt.Fprintf(e.stdout, "  %s  %s (%s), last login %s\n", r.UserName, r.Role, strings.Join(r.Modules, ", "), last)
		}
	}
	return nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
