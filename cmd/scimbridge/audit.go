package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

const auditUsage = `Usage: scimbridge audit [-config FILE] [-app NAME] [-user ID-OR-USERNAME] [-json]

Prints the audit trail, oldest first: every change of state of every task
and account, with who made it, when and why. The trail is append-only;
nothing in scimbridge edits or deletes it. -user takes a user's SCIM id
or the user name of their account (in any app unless -app is given).
`

// auditJSON is an audit entry as -json prints it.
type auditJSON struct {
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	App      string    `json:"app"`
	UserID   string    `json:"userId"`
	UserName string    `json:"userName,omitempty"`
	TaskID   int64     `json:"taskId,omitempty"`
	What     string    `json:"what"`
	From     string    `json:"from"`
	To       string    `json:"to"`
	Reason   string    `json:"reason"`
}

func runAudit(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "audit", auditUsage)
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "only the entries of this app")
	user := fs.String("user", "", "only the entries of this user: SCIM id or user name")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	_, db, _, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	list, err := queue.In(db.ReadSQL()).AuditOf(ctx, queue.AuditFilter{App: *app, User: *user})
	if err != nil {
		return err
	}
	out := make([]auditJSON, len(list))
	for i, a := range list {
		out[i] = auditJSON{Seq: a.Seq, Time: a.Time.UTC(), Actor: a.Actor, App: a.App, UserID: a.UserID, UserName: a.UserName,
			TaskID: a.TaskID, What: a.What, From: a.From, To: a.To, Reason: a.Reason}
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "TIME\tACTOR\tAPP\tUSER\tTASK\tWHAT\tCHANGE\tREASON")
	for _, a := range out {
		user, task := a.UserName, "-"
		if user == "" {
			user = a.UserID
		}
		if a.TaskID != 0 {
			task = strconv.FormatInt(a.TaskID, 10)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s -> %s\t%s\n", a.Time.Format(time.RFC3339), a.Actor, a.App, dash(user),
			task, a.What, dash(a.From), dash(a.To), a.Reason)
	}
	return w.Flush()
}
