package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
)

const importUsage = `Usage: scimbridge import [-config FILE] -app NAME -mode snapshot|delta [-apply] [-json] [-as NAME] FILE

Compares an export of an app's user list (CSV with a header row; FILE "-"
reads standard input) with what scimbridge knows of the app, and shows
what it finds: done tasks the export confirms (verify) or contradicts
(reopen once the app's grace period is over, wait until then), accounts
whose known state changes, and drift: accounts the IdP did not assign
(orphans), accounts gone missing, wrong roles.

-mode is required. snapshot: the file lists every account in the app, so
an account it leaves out is gone. delta: the file lists some accounts,
and says nothing of the others. A column the file lacks, or an empty
cell, never changes or removes anything.

Without -apply nothing changes. The columns read are email (required),
status, role and last login; the app's import setting names them when the
export does not use the usual names.
`

func runImport(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "import", importUsage)
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose user list FILE is (required)")
	mode := fs.String("mode", "", "snapshot (FILE lists every account) or delta (FILE lists some) (required)")
	apply := fs.Bool("apply", false, "commit what the import finds; without it nothing changes")
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	as := actorFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	if *mode == "" {
		return usageError{"-mode is required: snapshot (the file lists every account in the app) or delta (it lists only some)"}
	}
	m, err := reconcile.ParseMode(*mode)
	if err != nil {
		return usageError{"-mode " + err.Error()}
	}
	if len(rest) != 1 {
		return usageError{"give exactly one file to import, or - for standard input"}
	}
	var actor string
	if *apply {
		if actor, err = actorName(e, *as); err != nil {
			return err
		}
	}
	cfg, db, eng, err := openEngine(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	var cols reconcile.Columns
	for _, a := range cfg.Apps {
		if a.Name == *app {
			cols = a.Import
		}
	}
	f, source, err := readExport(e.stdin, rest[0], cols)
	if err != nil {
		return err
	}
	res, err := eng.Preview(ctx, *app, f, m, time.Now())
	if err != nil {
		return err
	}
	res.Source = source
	if *apply {
		if err := eng.Import(ctx, *app, res, actor); err != nil {
			if errors.Is(err, engine.ErrStale) {
				return fmt.Errorf("nothing was committed: %w", err)
			}
			return err
		}
	}
	if *asJSON {
		if !*apply {
			fmt.Fprintln(e.stderr, dryRunNote)
		}
		return writeJSON(e.stdout, reconcile.NewReport(res, *apply))
	}
	return printImport(e.stdout, res, *apply)
}

const dryRunNote = "nothing changed; run again with -apply to commit"

// readExport reads and parses the export at name ("-": stdin).
func readExport(stdin io.Reader, name string, cols reconcile.Columns) (reconcile.File, string, error) {
	if name == "-" {
		if stdin == nil {
			return reconcile.File{}, "", errors.New("there is no standard input to read")
		}
		f, err := reconcile.Parse(stdin, cols)
		if err != nil {
			return f, "", fmt.Errorf("standard input: %w", err)
		}
		return f, "standard input", nil
	}
	r, err := os.Open(name)
	if err != nil {
		return reconcile.File{}, "", err
	}
	defer r.Close()
	f, err := reconcile.Parse(r, cols)
	if err != nil {
		return f, "", fmt.Errorf("%s: %w", name, err)
	}
	return f, filepath.Base(name), nil
}

func printImport(w io.Writer, res reconcile.Result, applied bool) error {
	var cols []string
	for _, c := range []struct{ key, name string }{{"email", res.Columns.Email}, {"status", res.Columns.Status},
		{"role", res.Columns.Role}, {"last login", res.Columns.LastLogin}} {
		if c.name != "" {
			cols = append(cols, fmt.Sprintf("%s %q", c.key, c.name))
		}
	}
	fmt.Fprintf(w, "%s: %s of %s, %d rows (columns: %s), grace period %s\n\n", res.App, res.Mode, res.Source, res.Rows,
		strings.Join(cols, ", "), reconcile.Human(res.Grace))
	if len(res.Findings) == 0 {
		fmt.Fprintln(w, "no differences: the export shows what scimbridge expects")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FINDING\tUSER\tROW\tTASK\tDETAIL")
		for _, f := range res.Findings {
			kind, taskCol, detail := string(f.Kind), "-", f.Detail
			if f.Kind == reconcile.Resolved {
				kind = "resolved " + string(f.Drift)
			}
			if f.TaskID != 0 {
				taskCol = fmt.Sprintf("%d %s", f.TaskID, f.TaskKind)
			}
			row := "-"
			if f.Row != 0 {
				row = fmt.Sprint(f.Row)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", kind, f.Email, row, taskCol, detail)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	fmt.Fprintln(w)
	if applied {
		_, err := fmt.Fprintf(w, "committed: %s\n", summary(res, true))
		return err
	}
	_, err := fmt.Fprintf(w, "%s\n%s\n", summary(res, false), dryRunNote)
	return err
}

// summary counts the findings in words, as to be done or as done.
func summary(res reconcile.Result, applied bool) string {
	words := []struct {
		kind   reconcile.Kind
		always bool      // listed even when there are none
		plan   [2]string // before an import: one, many
		done   [2]string // after it
	}{
		{reconcile.Verify, true, [2]string{"to verify", "to verify"}, [2]string{"verified", "verified"}},
		{reconcile.Reopen, true, [2]string{"to reopen", "to reopen"}, [2]string{"reopened", "reopened"}},
		{reconcile.Wait, false, [2]string{"within the grace period", "within the grace period"}, [2]string{"within the grace period", "within the grace period"}},
		{reconcile.Unconfirmed, false, [2]string{"the export cannot confirm", "the export cannot confirm"}, [2]string{"the export cannot confirm", "the export cannot confirm"}},
		{reconcile.Observed, true, [2]string{"account to update", "accounts to update"}, [2]string{"account updated", "accounts updated"}},
		{reconcile.Orphan, true, [2]string{"orphan", "orphans"}, [2]string{"orphan recorded", "orphans recorded"}},
		{reconcile.Missing, false, [2]string{"missing", "missing"}, [2]string{"missing recorded", "missing recorded"}},
		{reconcile.WrongRole, false, [2]string{"wrong role", "wrong roles"}, [2]string{"wrong role recorded", "wrong roles recorded"}},
		{reconcile.Ambiguous, false, [2]string{"ambiguous row left alone", "ambiguous rows left alone"}, [2]string{"ambiguous row left alone", "ambiguous rows left alone"}},
		{reconcile.Resolved, false, [2]string{"drift to resolve", "drift to resolve"}, [2]string{"drift resolved", "drift resolved"}},
	}
	var parts []string
	for _, wd := range words {
		n := res.Count(wd.kind)
		if n == 0 && !wd.always {
			continue
		}
		forms := wd.plan
		if applied {
			forms = wd.done
		}
		text := forms[1]
		if n == 1 {
			text = forms[0]
		}
		parts = append(parts, fmt.Sprintf("%d %s", n, text))
	}
	return strings.Join(parts, ", ")
}

const driftUsage = `Usage:
  scimbridge drift list [-config FILE] -app NAME [-all] [-json]

Drift is what an import of an app's user list found that the IdP did not
ask for: orphan (an account nobody assigned), missing (an account the IdP
wants is gone from the app), wrong_role. scimbridge never acts on an
orphan; an import that no longer shows drift resolves it.
`

func runDrift(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, driftUsage)
		return usageError{"which drift command? list"}
	}
	switch args[0] {
	case "list":
		return driftList(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, driftUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown drift command %q (list)", args[0])}
}

// driftJSON is drift as -json prints it.
type driftJSON struct {
	App       string     `json:"app"`
	Email     string     `json:"email"`
	Kind      string     `json:"kind"`
	UserID    string     `json:"userId,omitempty"`
	Detail    string     `json:"detail"`
	FirstSeen time.Time  `json:"firstSeen"`
	LastSeen  time.Time  `json:"lastSeen"`
	Resolved  *time.Time `json:"resolved"`
}

func driftList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "drift list", "Usage: scimbridge drift list [-config FILE] -app NAME [-all] [-json]\n\nLists an app's open drift by email.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose drift to list (required)")
	all := fs.Bool("all", false, "list resolved drift too")
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
	list, err := queue.In(db.ReadSQL()).DriftOf(ctx, *app, *all)
	if err != nil {
		return err
	}
	out := []driftJSON{}
	for _, d := range list {
		j := driftJSON{App: d.App, Email: d.Email, Kind: d.Kind, UserID: d.UserID, Detail: d.Detail,
			FirstSeen: d.FirstSeen, LastSeen: d.LastSeen}
		if !d.Resolved.IsZero() {
			r := d.Resolved
			j.Resolved = &r
		}
		out = append(out, j)
	}
	if *asJSON {
		return writeJSON(e.stdout, out)
	}
	if len(out) == 0 {
		fmt.Fprintf(e.stdout, "no drift in %s\n", *app)
		return nil
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tEMAIL\tFIRST SEEN\tLAST SEEN\tRESOLVED\tDETAIL")
	for _, d := range out {
		resolved := "-"
		if d.Resolved != nil {
			resolved = d.Resolved.UTC().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Kind, d.Email, d.FirstSeen.UTC().Format(time.RFC3339),
			d.LastSeen.UTC().Format(time.RFC3339), resolved, d.Detail)
	}
	return tw.Flush()
}
