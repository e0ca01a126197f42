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
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const tokenUsage = `Usage:
  scimbridge token create [-config FILE] -app NAME [-description TEXT]
  scimbridge token list   [-config FILE] [-app NAME] [-json]
  scimbridge token revoke [-config FILE] ID

Bearer tokens authenticate an IdP's provisioning connector to one app's
SCIM endpoint. "create" prints the new token alone on standard output; it
is shown once and stored only as a SHA-256 hash. These commands work
whether or not the server is running: a new token works at once, a revoked
one stops working within a second.
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
// CLI's output is for its results.
// openStore loads the configuration and opens its database. A non-empty
// app must be one of the configuration's, checked before the database is
// opened so that a typo creates no database file.
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
	fs := flagSet(e, "token create", "Usage: scimbridge token create [-config FILE] -app NAME [-description TEXT]\n\nCreates a bearer token for one app and prints it alone on standard output.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "the app the token may act on (required)")
	desc := fs.String("description", "", "a note to tell tokens apart, such as \"Okta production\"")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *app == "" {
		return usageError{"-app is required"}
	}
	_, db, err := openStore(ctx, e, *cfgFlag, *app)
	if err != nil {
		return err
	}
	defer db.Close()
	bearer, tok, err := scim.IssueToken(ctx, db, *app, *desc)
	if err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, bearer)
	fmt.Fprintf(e.stderr, "Created token %s for app %s. It is shown only once: give it to the IdP now.\n", tok.ID, *app)
	return nil
}

func tokenList(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token list", "Usage: scimbridge token list [-config FILE] [-app NAME] [-json]\n\nLists tokens without their secrets.\n")
	cfgFlag := configFlag(fs)
	app := fs.String("app", "", "only the tokens of this app")
	asJSON := fs.Bool("json", false, "print a JSON array instead of a table")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
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
		if *app == "" || t.App == *app {
			toks = append(toks, t)
		}
	}
	if *asJSON {
		return writeTokensJSON(e.stdout, toks)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tAPP\tCREATED\tLAST USED\tSTATUS\tDESCRIPTION")
	for _, t := range toks {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.App, t.Created.Format(time.RFC3339),
			timeOr(t.LastUsed, "never"), status(t), t.Description)
	}
	return tw.Flush()
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
		App         string     `json:"app"`
		Description string     `json:"description"`
		Created     time.Time  `json:"created"`
		LastUsed    *time.Time `json:"lastUsed"`
		Revoked     *time.Time `json:"revoked"`
	}
	rows := make([]row, len(toks))
	for i, t := range toks {
		rows[i] = row{t.ID, t.App, t.Description, t.Created, t.LastUsed, t.Revoked}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

func tokenRevoke(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "token revoke", "Usage: scimbridge token revoke [-config FILE] ID\n\nRevokes a token by the id \"token list\" shows. A running server refuses it within a second.\n")
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
