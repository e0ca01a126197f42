// Command scimbridge makes SaaS apps without SCIM look, to Okta and
// Microsoft Entra ID, like apps that have it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
)

// usageError is a mistake in how a command was called; it exits with 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what a command runs with: its output streams and environment, so
// that tests can run commands in-process.
type env struct {
	stdin          io.Reader // nil: there is none
	stdout, stderr io.Writer
	getenv         func(string) string
}

func commands() []command {
	return []command{
		{"serve", "run the SCIM server", runServe},
		{"token", "create, list and revoke SCIM and admin bearer tokens", runToken},
		{"events", "show the change events of an app", runEvents},
		{"tasks", "list and work the manual tasks of the queue", runTasks},
		{"accounts", "list the accounts scimbridge keeps per app and user", runAccounts},
		{"audit", "show who changed which task or account, when and why", runAudit},
		{"import", "compare an export of an app's user list; verify, reopen, find drift", runImport},
		{"drift", "list what imports found that the IdP did not ask for", runDrift},
		{"saml", "create the SAML keys of the SSO proxy", runSAML},
		{"export", "write a CSV for an app's own bulk import (6clicks)", runExport},
		{"seats", "show an app's seat ledger: used, pending, blocked, reclaimable", runSeats},
		{"backup", "write a consistent copy of the database, also while serving", runBackup},
		{"demo", "run scimbridge with stand-in apps and a scripted IdP, to try it", runDemo},
		{"version", "print the version", runVersion},
	}
}

const topUsage = `scimbridge makes SaaS apps without SCIM look, to Okta and Microsoft Entra ID,
like apps that have it.

Usage:
  scimbridge <command> [flags]

Commands:
%s
Run "scimbridge <command> -help" for a command's flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, &env{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv}, os.Args[1:]))
}

// run runs the command line args and returns the exit code.
func run(ctx context.Context, e *env, args []string) int {
	if len(args) == 0 {
		printTopUsage(e.stderr)
		return 2
	}
	name := args[0]
	switch name {
	case "-h", "-help", "--help", "help":
		if len(args) > 1 {
			return run(ctx, e, []string{args[1], "-help"})
		}
		printTopUsage(e.stdout)
		return 0
	case "-version", "--version":
		name = "version"
	}
	for _, c := range commands() {
		if c.name != name {
			continue
		}
		err := c.run(ctx, e, args[1:])
		var ue usageError
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(e.stderr, "scimbridge %s: %s\n", name, ue.msg)
			return 2
		default:
			fmt.Fprintf(e.stderr, "scimbridge %s: %v\n", name, err)
			return 1
		}
	}
	fmt.Fprintf(e.stderr, "scimbridge: unknown command %q\n\n", name)
	printTopUsage(e.stderr)
	return 2
}

func printTopUsage(w io.Writer) {
	var b strings.Builder
	for _, c := range commands() {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, topUsage, b.String())
}

// flagSet returns a flag set that prints usage (head, then the flags) to
// stdout on -help and reports mistakes as usage errors.
func flagSet(e *env, name, head string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		fmt.Fprint(e.stdout, head)
		fs.SetOutput(e.stdout)
		fmt.Fprintln(e.stdout, "\nFlags:")
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// parseFlagsOnly is parse for commands that take no arguments but flags.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	rest, err := parse(fs, args)
	if err == nil && len(rest) > 0 {
		err = usageError{fmt.Sprintf("unexpected argument %q", rest[0])}
	}
	return err
}

// parse parses flags that may come before or after positional arguments
// ("token revoke ID -config FILE" and "token revoke -config FILE ID" both
// work) and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err // the flag set has printed the usage
			}
			return nil, usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return positional, nil
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
}

// configFlag registers -config with its documented fallbacks.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "configuration file (default $SCIMBRIDGE_CONFIG, then ./scimbridge.yaml)")
}

// configPath applies the fallbacks for -config.
func configPath(e *env, flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if p := e.getenv("SCIMBRIDGE_CONFIG"); p != "" {
		return p
	}
	return "scimbridge.yaml"
}
