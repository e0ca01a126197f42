package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/scimbridge/scimbridge/adapters"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const tokenUsage = `Usage:
  scimbridge token create [-config FILE] -app NAME [-description TEXT]
  scimbridge token create [-config FILE] -admin -name NAME [-description TEXT]
  scimbridge token list   [-config FILE] [-app NAME | -admin] [-json]
  scimbridge token revoke [-config FILE] ID

Bearer tokens authenticate an IdP's provisioning connector to one app's
SCIM endpoint (SCIM tokens, -app), or a person or script to the admin API
under /api/v1/ (admin tokens, -admin); neither works on the other's
endpoints. An admin token acts as its -name in the audit trail. "create"
prints the new token alone on standard output; it is shown once and
stored only as a SHA-256 hash. These commands work whether or not the
server is running: a new token works at once, a revoked one stops working
within a second.
`

func runToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, tokenUsage)
		return usageError{"which token command? create, list or revoke"}
	}
	switch args[0] {
	case "create":
		return tokenCreate(ctx, e, args[1:])
	case "list":
		return tokenList(ctx, e, args[1:])
	case "revoke":
		return tokenRevoke(ctx, e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, tokenUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown token command %q (create, list or revoke)", args[0])}
}

// openStore loads the configuration and opens its database, quietly: the
// CLI's output is for its results. A non-empty app must be one of the
// configuration's, checked before the database is opened so that a typo
// creates no database file.
func openStore(ctx context.Context, e *env, cfgFlag, app string) (*config.Config, *sqlite.DB, error) {
	cfg, err := config.Load(configPath(e, cfgFlag), adapters.ProfileNames())
	if err != nil {
		return nil, nil, err
	}
	if app != "" && !cfg.HasApp(app) {
		return nil, nil, usageError{fmt.Sprintf("no app %q in %s (apps: %s)", app, cfg.Path, strings.Join(cfg.AppNames(), ", "))}
	}
	log := slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	db, err := sqlite.Open(ctx, cfg.DatabasePath(), sqlite.Options{Logger: log, Readers: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("database: %w", err)
	}
	return cfg, db, nil
}

func tokenCreate(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token create", "Usage: scimbridge token create [-config FILE] -app NAME [-description TEXT]\n"+
		"       scimbridge token create [-config FILE] -admin -name NAME [-description TEXT]\n\n"+
		"Creates a SCIM token for one app, or an admin token for the admin API, and prints it alone on standard output.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app whose SCIM endpoint the token may act on")
	admin := fs.Bool("admin", false, "create a token for the admin API (/api/v1/) instead")
	name := fs.String("name", "", "with -admin: who the token acts as in the audit trail, such as alice@example.com (required)")
	desc := fs.String("description", "", "a note to tell tokens apart, such as \"Okta production\"")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	switch {
	case *admin && *app != "":
		return usageError{"-admin and -app exclude each other: an admin token acts on no app's SCIM endpoint"}
	case *admin && *name == "":
		return usageError{"-admin needs -name: who the token acts as in the audit trail"}
	case !*admin && *name != "":
		return usageError{"-name is for admin tokens; add -admin"}
	case !*admin && *app == "":
		return usageError{"-app is required (or -admin for an admin API token)"}
	}
	if *admin {
		if err := scim.CheckActorName(*name); err != nil {
			return usageError{"-name: " + err.Error()}
		}
		if *name == engine.System {
			return usageError{fmt.Sprintf("-name %q is what scimbridge itself acts as; choose another", *name)}
		}
	}
	_, db, err := openStore(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	if *admin {
		bearer, tok, err := scim.IssueAdminToken(ctx, db, *name, *desc)
		if err != nil {
			return err
		}
		fmt.Fprintln(e.stdout, bearer)
		fmt.Fprintf(e.stderr, "Created admin token %s acting as %q. It is shown only once: keep it in a secret store now.\n", tok.ID, *name)
		return nil
	}
	bearer, tok, err := scim.IssueToken(ctx, db, *app, *desc)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, bearer)
	fmt.Fprintf(e.stderr, "Created token %s for app %s. It is shown only once: give it to the IdP now.\n", tok.ID, *app)
	return nil
}

func tokenList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token list", "Usage: scimbridge token list [-config FILE] [-app NAME | -admin] [-json]\n\nLists tokens without their secrets.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "only the SCIM tokens of this app")
	admin := fs.Bool("admin", false, "only the admin tokens")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *admin && *app != "" {
		return usageError{"-admin and -app exclude each other"}
	}
	_, db, err := openStore(ctx, e, *cfgFlag, "")
	if err != nil {
		return err
	}
	defer db.Close()
	all, err := db.ListTokens(ctx)
	if err != nil {
		return err
	}
	var toks []store.Token
	for _, t := range all {
		if (*app == "" || t.App == *app) && (!*admin || t.Admin) {
			toks = append(toks, t)
		}
	}
	if *asJSON {
		return writeTokensJSON(e.stdout, toks)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tAPP\tNAME\tCREATED\tLAST USED\tSTATUS\tDESCRIPTION")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, tokenKind(t), dash(t.App), dash(t.Name),
			t.Created.Format(time.RFC3339), timeOr(t.LastUsed, "never"), status(t), t.Description)
	}
	return tw.Flush()
}

// tokenKind names what a token is for: "scim" (an app's SCIM endpoint)
// or "admin" (the admin API).
func tokenKind(t store.Token) string {
	if t.Admin {
		return "admin"
	}
	return "scim"
}

func timeOr(t *time.Time, none string) string {
	if t == nil {
		return none
	}
	return t.UTC().Format(time.RFC3339)
}

func status(t store.Token) string {
	if t.Revoked != nil {
		return "revoked " + t.Revoked.UTC().Format(time.RFC3339)
	}
	return "active"
}

func writeTokensJSON(w io.Writer, toks []store.Token) error {
	type row struct {
		ID          string     `json:"id"`
		Kind        string     `json:"kind"`
		App         string     `json:"app,omitempty"`
		Name        string     `json:"name,omitempty"`
		Description string     `json:"description"`
		Created     time.Time  `json:"created"`
		LastUsed    *time.Time `json:"lastUsed"`
		Revoked     *time.Time `json:"revoked"`
	}
	rows := make([]row, len(toks))
	for i, t := range toks {
		rows[i] = row{t.ID, tokenKind(t), t.App, t.Name, t.Description, t.Created, t.LastUsed, t.Revoked}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func tokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token revoke", "Usage: scimbridge token revoke [-config FILE] ID\n\nRevokes a token, SCIM or admin, by the id \"token list\" shows. A running server refuses it within a second.\n")
	cfgFlag := configFlag(fs)
	rest, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"give exactly one token id (see \"scimbridge token list\")"}
	}
	_, db, err := openStore(ctx, e, *cfgFlag, "")
	if err != nil {
		return err
	}
	defer db.Close()
	id := rest[0]
	err = db.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, id, time.Now().UTC()) })
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("no token with id %q (see \"scimbridge token list\")", id)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "revoked token %s\n", id)
	return nil
}
