package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/api"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const tasksUsage = `Usage:
  scimbridge tasks list    [-config FILE] [-app NAME] [-status S] [-json]
  scimbridge tasks show    [-config FILE] ID
  scimbridge tasks claim   [-config FILE] [-as NAME] ID
  scimbridge tasks unclaim [-config FILE] [-as NAME] ID
  scimbridge tasks done    [-config FILE] [-as NAME] -note TEXT [-evidence TEXT] ID
  scimbridge tasks fail    [-config FILE] [-as NAME] -note TEXT ID
  scimbridge tasks approve [-config FILE] [-as NAME] ID
  scimbridge tasks reject  [-config FILE] [-as NAME] [-note TEXT] ID

A task is one step an admin performs in an app's console. "done" is what
an admin reports; "verified" is what scimbridge confirmed. Every command
works whether or not the server is running.
`

// actorFlag is who acts: -as, else $SCIMBRIDGE_ACTOR, else the login name.
func actorFlag(fs interface {
	String(name, value, usage string) *string
}) *string {
	return fs.String("as", "", "who is acting, for the audit trail (default $SCIMBRIDGE_ACTOR, then the login name)")
}

func actorName(e *env, flagValue string) (string, error) {
	if flagValue != "" {
		return flagValue, nil
	}
	if v := e.getenv("SCIMBRIDGE_ACTOR"); v != "" {
		return v, nil
	}
	u, err := user.Current()
	if err != nil || u.Username == "" {
		return "", usageError{"say who is acting with -as NAME or $SCIMBRIDGE_ACTOR"}
	}
	return u.Username, nil
}

func runTasks(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, tasksUsage)
		return usageError{"which tasks command? list, show, claim, unclaim, done, fail, approve, reject"}
	}
	switch args[0] {
	case "list":
		return tasksList(ctx, e, args[1:])
	case "show":
		return tasksShow(ctx, e, args[1:])
	case "claim", "unclaim", "done", "fail", "approve", "reject":
		return tasksReport(ctx, e, args[0], args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, tasksUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown tasks command %q (list, show, claim, done, fail, approve, reject)", args[0])}
}

// openEngine opens the store, the queue's tables and the engine.
func openEngine(ctx context.Context, e *env, cfgFlag, app string) (*config.Config, *sqlite.DB, *engine.Engine, error) {
	cfg, db, err := openStore(ctx, e, cfgFlag, app)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := queue.Migrate(ctx, db); err != nil {
		db.Close()
		return nil, nil, nil, fmt.Errorf("database: %w", err)
	}
	apps, err := engineApps(cfg)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return cfg, db, engine.New(db, apps, nil), nil
}

func tasksList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "tasks list", "Usage: scimbridge tasks list [-config FILE] [-app NAME] [-status S] [-json]\n\nLists tasks, oldest first.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "only the tasks of this app")
	status := fs.String("status", "", "only tasks with this status: awaiting_approval, open, claimed, done, verified, failed, cancelled, superseded, rejected, or pending (the first three)")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *status != "" && *status != "pending" && !task.Known(task.Status(*status)) {
		return usageError{fmt.Sprintf("-status %q: not a task status", *status)}
	}
	_, db, _, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	f := queue.Filter{App: *app, Pending: *status == "pending"}
	if *status != "pending" {
		f.Status = task.Status(*status)
	}
	list, err := queue.In(db.ReadSQL()).Tasks(ctx, f)
	if err != nil {
		return err
	}
	now := time.Now()
	out := []api.Task{}
	for _, t := range list {
		out = append(out, api.TaskJSON(t, now))
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tAPP\tKIND\tSTATUS\tUSER\tROLE\tDUE")
	for _, t := range out {
		due := "-"
		if t.Due != nil {
			due = *t.Due
			if t.Overdue {
				due += " OVERDUE"
			}
		}
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.App, t.Kind, t.Status, t.UserName, dash(t.Role), due)
	}
	return w.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// taskID reads the one positional argument as a task id.
func taskID(rest []string) (int64, error) {
	if len(rest) != 1 {
		return 0, usageError{"give exactly one task id (see \"scimbridge tasks list\")"}
	}
	id, err := strconv.ParseInt(rest[0], 10, 64)
	if err != nil || id <= 0 {
		return 0, usageError{fmt.Sprintf("%q is not a task id", rest[0])}
	}
	return id, nil
}

func tasksShow(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "tasks show", "Usage: scimbridge tasks show [-config FILE] [-json] ID\n\nShows a task: what to do, step by step, and its history.\n")
	cfgFlag := configFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := taskID(rest)
	if err != nil {
		return err
	}
	_, db, _, err := openEngine(ctx, e, *cfgFlag, "")
	if err != nil {
		return err
	}
	defer db.Close()
	q := queue.In(db.ReadSQL())
	t, err := q.Task(ctx, id)
	if err != nil {
		return err
	}
	trail, err := q.Audit(ctx, t.App, t.UserID)
	if err != nil {
		return err
	}
	if *asJSON {
		return writeJSON(e.stdout, api.TaskJSON(t, time.Now()))
	}
	return printTask(e.stdout, t, trail)
}

func printTask(w io.Writer, t task.Task, trail []queue.AuditEntry) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Task %d: %s %s in %s\n", t.ID, t.Kind, t.UserName, t.App)
	fmt.Fprintf(&b, "Status:   %s (by %s, %s)\n", t.Status, t.By, t.Updated.UTC().Format(time.RFC3339))
	if t.Role != "" {
		fmt.Fprintf(&b, "Role:     %s", t.Role)
		if t.PreviousRole != "" {
			fmt.Fprintf(&b, " (was %s)", t.PreviousRole)
		}
		b.WriteString("\n")
	}
	if !t.Due.IsZero() {
		fmt.Fprintf(&b, "Due:      %s", t.Due.UTC().Format(time.RFC3339))
		if t.Overdue(time.Now()) {
			b.WriteString("  OVERDUE")
		}
		b.WriteString("\n")
	}
	if t.Assignee != "" {
		fmt.Fprintf(&b, "Assignee: %s\n", t.Assignee)
	}
	if t.Note != "" {
		fmt.Fprintf(&b, "Note:     %s\n", t.Note)
	}
	if t.Evidence != "" {
		fmt.Fprintf(&b, "Evidence: %s\n", t.Evidence)
	}
	if t.SupersededBy != 0 {
		fmt.Fprintf(&b, "Replaced by task %d\n", t.SupersededBy)
	}
	if t.Automatic() {
		fmt.Fprintf(&b, "Carried out by the %s executor (attempts: %d)\n", t.Executor, t.Attempts)
	}
	if t.LastError != "" {
		fmt.Fprintf(&b, "Last error: %s\n", t.LastError)
	}
	for _, k := range slices.Sorted(maps.Keys(t.Params)) {
		fmt.Fprintf(&b, "%s: %s\n", k, t.Params[k])
	}
	b.WriteString("\nSteps:\n")
	for i, s := range t.Steps {
		fmt.Fprintf(&b, "  %d. %s\n", i+1, s)
	}
	b.WriteString("\nHistory:\n")
	for _, a := range trail {
		if a.TaskID != t.ID {
			continue
		}
		fmt.Fprintf(&b, "  %s  %-18s %s -> %s  %s\n", a.Time.UTC().Format(time.RFC3339), a.Actor, dash(a.From), a.To, a.Reason)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func tasksReport(ctx context.Context, e *env, verb string, args []string) error {
	usage := map[string]string{
		"claim":   "Usage: scimbridge tasks claim [-config FILE] [-as NAME] ID\n\nMarks a task as being worked on.\n",
		"unclaim": "Usage: scimbridge tasks unclaim [-config FILE] [-as NAME] ID\n\nGives a claimed task back to the queue, whoever claimed it.\n",
		"done":    "Usage: scimbridge tasks done [-config FILE] [-as NAME] -note TEXT [-evidence TEXT] ID\n\nReports a task done in the app. The note is required.\n",
		"fail":    "Usage: scimbridge tasks fail [-config FILE] [-as NAME] -note TEXT ID\n\nReports that a task could not be done, and why; the step is queued again.\n",
		"approve": "Usage: scimbridge tasks approve [-config FILE] [-as NAME] ID\n\nApproves a task that waits for approval; it opens. The requester cannot approve.\n",
		"reject":  "Usage: scimbridge tasks reject [-config FILE] [-as NAME] [-note TEXT] ID\n\nRefuses a task that waits for approval; -note says why.\n",
	}[verb]
	fs := flagSet(e, "tasks "+verb, usage)
	cfgFlag := configFlag(fs)
	as := actorFlag(fs)
	var note, evidence *string
	switch verb {
	case "done", "fail":
		note = fs.String("note", "", "what was done or what went wrong (required)")
	case "reject":
		note = fs.String("note", "", "why the request is refused")
	}
	if verb == "done" {
		evidence = fs.String("evidence", "", "a link or reference that shows it was done")
	}
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	id, err := taskID(rest)
	if err != nil {
		return err
	}
	if note != nil && strings.TrimSpace(*note) == "" && verb != "reject" {
		return usageError{"-note is required"}
	}
	actor, err := actorName(e, *as)
	if err != nil {
		return err
	}
	_, db, eng, err := openEngine(ctx, e, *cfgFlag, "")
	if err != nil {
		return err
	}
	defer db.Close()
	var t task.Task
	switch verb {
	case "claim":
		t, err = eng.Claim(ctx, id, actor)
	case "unclaim":
		// Whoever runs the command can read and write the database, so
		// they may free anyone's claim, as an approver may.
		t, err = eng.Unclaim(ctx, id, actor, true)
	case "done":
		t, err = eng.Done(ctx, id, actor, *note, *evidence)
	case "fail":
		t, err = eng.Fail(ctx, id, actor, *note)
	case "approve":
		t, err = eng.Approve(ctx, id, actor)
	case "reject":
		t, err = eng.Reject(ctx, id, actor, *note)
	}
	var move *task.MoveError
	switch {
	case errors.As(err, &move):
		return fmt.Errorf("%w (see \"scimbridge tasks show %d\")", err, id)
	case err != nil:
		return err
	}
	fmt.Fprintf(e.stdout, "task %d is %s\n", t.ID, t.Status)
	return nil
}
