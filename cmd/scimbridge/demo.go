package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/demo"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/simapp"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const demoUsage = `Usage: scimbridge demo [-listen ADDR] [-dir DIR] [-pace DURATION] [-keep-running=false]

Runs scimbridge, as "scimbridge serve" does, with four apps of a made-up
company, and tells step by step what it makes of the company's joiners,
movers and leavers:

  6sense     users appear at their first SSO login; scimbridge signs
             each new user in once, and promotions are tasks
  6clicks    a user API, which scimbridge calls instead of opening tasks;
             a leaver's items are handed over first
  SixMap     every change by hand; what deactivation wipes is restored
             when the member comes back
  People.ai  every change by hand, with People.ai's own steps

Stand-ins for 6sense, 6clicks and the company's IdP run on 127.0.0.1. A
scripted IdP then pushes the company's people to scimbridge over SCIM,
as Okta does, and the company's IT works some of the tasks through the
admin API. The demo prints the admin console's URL and an admin token to
sign in with, and keeps serving after the script, until Ctrl-C, so that
you can work the remaining tasks yourself.

The demo writes its configuration, database, SAML keys, tokens and the
server's log into its directory, and leaves them there.
`

// Who the demo's admin tokens act as: the person trying the demo, and
// the company's IT in the script.
const (
	demoAdminName = "admin@example.com"
	demoITName    = "it.helpdesk@example.com"
)

// Files of the demo directory beside those the configuration names.
const (
	demoMarker     = ".scimbridge-demo"
	demoLogFile    = "scimbridge.log"
	demoTokensFile = "scim-tokens.txt"
)

// demoStartTimeout bounds the wait for scimbridge to answer its health
// check; the first start creates the database.
const demoStartTimeout = 60 * time.Second

func runDemo(ctx context.Context, e *env, args []string) error {
	err := demoMain(ctx, e, args)
	if err != nil && ctx.Err() != nil && !errors.Is(err, flag.ErrHelp) {
		// Ctrl-C while starting: what failed was the interruption.
		fmt.Fprintln(e.stdout, "Stopped.")
		return nil
	}
	return err
}

func demoMain(ctx context.Context, e *env, args []string) error {
	fs := flagSet(e, "demo", demoUsage)
	listen := fs.String("listen", "127.0.0.1:8080", "the address scimbridge listens on; when the default is taken, a free port is used instead")
	dirFlag := fs.String("dir", "", "the directory for the demo's files: a new one, an empty one, or an earlier demo's, which is started afresh\n(default: a new directory under "+os.TempDir()+")")
	pace := fs.Duration("pace", 2*time.Second, "the pause after each step of the script; 0 runs it as fast as scimbridge answers")
	keep := fs.Bool("keep-running", true, "keep serving after the script until Ctrl-C, to explore the console; false stops at the end of the script")
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if *pace < 0 {
		return usageError{fmt.Sprintf("-pace %s is negative", *pace)}
	}
	if _, _, err := net.SplitHostPort(*listen); err != nil {
		return usageError{fmt.Sprintf("-listen %q is not a host:port address such as 127.0.0.1:8080", *listen)}
	}
	explicit := false
	fs.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "listen" })

	dir, err := demoDir(*dirFlag)
	if err != nil {
		return err
	}
	logPath := filepath.Join(dir, demoLogFile)
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer logFile.Close()
	logs := &lockedWriter{w: logFile}
	log := slog.New(slog.NewTextHandler(logs, nil))

	addr, err := demoAddr(e.stdout, *listen, explicit)
	if err != nil {
		return err
	}
	stands, err := startStandIns(dir, log)
	if err != nil {
		return err
	}
	defer stands.close(log)

	cfgPath := filepath.Join(dir, demo.ConfigFile)
	if err := os.WriteFile(cfgPath, []byte(demo.Configuration(demo.Settings{Listen: addr, SixclicksURL: stands.grc.URL()})), 0o600); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	tokens, err := demoTokens(ctx, e, cfgPath, filepath.Join(dir, demoTokensFile))
	if err != nil {
		return err
	}

	// The real server, on the configuration just written; its log goes to
	// the file, so that the terminal shows the story.
	serveCtx, stopServe := context.WithCancel(ctx)
	serveDone := make(chan struct{})
	var serveErr error
	go func() {
		defer close(serveDone)
		serveErr = runServe(serveCtx, &env{stdout: io.Discard, stderr: logs, getenv: e.getenv}, []string{"-config", cfgPath})
	}()
	defer func() { stopServe(); <-serveDone }()
	base := tokens.publicURL
	if err := waitServing(ctx, base, serveDone); err != nil {
		if serverStopped(serveDone) && serveErr != nil {
			err = serveErr
		}
		return fmt.Errorf("scimbridge did not start: %w (its log: %s)", err, logPath)
	}
	if err := stands.trust(ctx, base); err != nil {
		return err
	}
	drained, closeDB, err := outboxDrained(ctx, filepath.Join(dir, demo.DatabaseFile), log)
	if err != nil {
		return err
	}
	defer closeDB()

	b := demoBanner{console: base + "/console/", token: tokens.admin, dir: dir, config: cfgPath, log: logPath,
		tokens: filepath.Join(dir, demoTokensFile), stands: stands}
	b.print(e.stdout)
	fmt.Fprintln(e.stdout, "\nThe story begins.")

	// The script stops as soon as the server does.
	runCtx, cancelRun := context.WithCancel(ctx)
	defer cancelRun()
	go func() {
		select {
		case <-serveDone:
			cancelRun()
		case <-runCtx.Done():
		}
	}()
	outcome, err := demo.Run(runCtx, demo.Config{URL: base, SCIMTokens: tokens.scim, AdminToken: tokens.it, AdminName: demoITName,
		Pace: *pace, Out: e.stdout, Drained: drained, Notes: stands.notes})
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(e.stdout, "\nStopped. The demo's files stay in "+dir+".")
		return nil
	case serverStopped(serveDone):
		return fmt.Errorf("scimbridge stopped: %v (its log: %s)", serveErr, logPath)
	case err != nil:
		return fmt.Errorf("the script stopped: %w (scimbridge's log: %s)", err, logPath)
	}
	fmt.Fprintln(e.stdout, "\nThe script is done.")
	b.print(e.stdout)
	fmt.Fprintln(e.stdout, "\nThings to try, signed in to the console:")
	tips := append(outcome.Tips,
		fmt.Sprintf("Sign in to the 6sense stand-in through scimbridge: open %s/app and pick Priya Natarajan at the company IdP; then try Luis Ortega, who left.", stands.jit.URL()),
		fmt.Sprintf("See what the 6clicks stand-in's API was asked to do: %s/ (Luis's and Erik's items are now Dana's).", stands.grc.URL()))
	for i, t := range tips {
		fmt.Fprintf(e.stdout, "  %d. %s\n", i+1, t)
	}
	if !*keep {
		fmt.Fprintln(e.stdout, "\nStopping, as -keep-running=false asks. The demo's files stay in "+dir+".")
		return nil
	}
	fmt.Fprintln(e.stdout, "\nscimbridge and the stand-ins keep running. Press Ctrl-C to stop them; the demo's files stay in "+dir+".")
	select {
	case <-ctx.Done():
		fmt.Fprintln(e.stdout, "\nStopped.")
		return nil
	case <-serveDone:
		return fmt.Errorf("scimbridge stopped: %v (its log: %s)", serveErr, logPath)
	}
}

func serverStopped(done <-chan struct{}) bool {
	select {
	case <-done:
		return true
	default:
		return false
	}
}

// lockedWriter lets the server and the stand-ins share the log file
// without interleaving lines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// demoDir returns the directory the demo keeps its files in: a new one
// under the system's temporary directory, or dir. An existing dir must be
// empty, or an earlier demo's, whose files are removed; anything else is
// refused, so that the demo never writes over someone's files.
func demoDir(dir string) (string, error) {
	if dir == "" {
		d, err := os.MkdirTemp("", "scimbridge-demo-")
		if err != nil {
			return "", fmt.Errorf("demo: %w", err)
		}
		return d, writeMarker(d)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("demo: -dir %s: %w", dir, err)
	}
	entries, err := os.ReadDir(abs)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if err := os.MkdirAll(abs, 0o700); err != nil {
			return "", fmt.Errorf("demo: %w", err)
		}
	case err != nil:
		return "", fmt.Errorf("demo: -dir %s: %w", dir, err)
	case len(entries) == 0:
	case slices.ContainsFunc(entries, func(d os.DirEntry) bool { return d.Name() == demoMarker }):
		// An earlier demo's: start afresh, removing only what a demo
		// writes.
		for _, name := range []string{demo.ConfigFile, demo.DatabaseFile, demo.DatabaseFile + "-wal", demo.DatabaseFile + "-shm",
			demo.DatabaseFile + "-journal", demo.KeysDir, demo.CompanyIdPFile, demo.SixsenseSPFile, demo.SixclicksKeyFile,
			demoLogFile, demoTokensFile} {
			if err := os.RemoveAll(filepath.Join(abs, name)); err != nil {
				return "", fmt.Errorf("demo: start %s afresh: %w", abs, err)
			}
		}
	default:
		return "", usageError{fmt.Sprintf("-dir %s is not empty and holds no earlier demo; choose a new or empty directory", dir)}
	}
	return abs, writeMarker(abs)
}

func writeMarker(dir string) error {
	err := os.WriteFile(filepath.Join(dir, demoMarker),
		[]byte("This directory holds the files of \"scimbridge demo\", which may remove them to start afresh.\n"), 0o600)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

// demoAddr checks that scimbridge can listen on addr. When addr is the
// default and taken, it picks a free port of 127.0.0.1 and says so.
func demoAddr(out io.Writer, addr string, explicit bool) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err == nil {
		ln.Close()
		return addr, nil
	}
	if explicit {
		return "", fmt.Errorf("demo: cannot listen on %s: %w (choose another address with -listen)", addr, err)
	}
	ln, err2 := net.Listen("tcp", "127.0.0.1:0")
	if err2 != nil {
		return "", fmt.Errorf("demo: cannot listen on %s (%w), nor on a free port: %w", addr, err, err2)
	}
	free := ln.Addr().String()
	ln.Close()
	fmt.Fprintf(out, "%s is taken, so scimbridge listens on %s instead (choose with -listen).\n", addr, free)
	return free, nil
}

// standIns are the apps and the IdP the demo runs for scimbridge to
// talk to.
type standIns struct {
	grc *simapp.GRC
	jit *simapp.JITApp
	idp *simapp.CompanyIdP
}

// startStandIns starts them, makes scimbridge's SAML keys, and writes
// into dir what the configuration names: the keys, the stand-ins'
// metadata and the 6clicks API token.
func startStandIns(dir string, log *slog.Logger) (*standIns, error) {
	// The keys as "scimbridge saml keygen" makes them, beside the
	// stand-ins' own.
	keysDone := make(chan error, 1)
	go func() {
		quiet := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(string) string { return "" }}
		keysDone <- samlKeygen(quiet, []string{"-out", filepath.Join(dir, demo.KeysDir)})
	}()
	s, err := newStandIns(dir, log)
	if kerr := <-keysDone; kerr != nil && err == nil {
		s.close(log)
		err = fmt.Errorf("demo: SAML keys: %w", kerr)
	}
	if err != nil {
		return nil, err
	}
	return s, nil
}

func newStandIns(dir string, log *slog.Logger) (_ *standIns, err error) {
	var secret [24]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	token := hex.EncodeToString(secret[:])
	s := &standIns{}
	defer func() {
		if err != nil {
			s.close(log)
		}
	}()
	if s.grc, err = simapp.NewGRC(token); err != nil {
		return nil, err
	}
	if s.jit, err = simapp.NewJITApp("sixsense", "6sense", "Insights User"); err != nil {
		return nil, err
	}
	if s.idp, err = simapp.NewCompanyIdP(demo.People(), log); err != nil {
		return nil, err
	}
	spMeta, err := s.jit.Metadata()
	if err != nil {
		return nil, err
	}
	idpMeta, err := s.idp.Metadata()
	if err != nil {
		return nil, err
	}
	for _, f := range []struct {
		name string
		data []byte
	}{{demo.SixclicksKeyFile, []byte(token + "\n")}, {demo.SixsenseSPFile, spMeta}, {demo.CompanyIdPFile, idpMeta}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), f.data, 0o600); err != nil {
			return nil, fmt.Errorf("demo: %w", err)
		}
	}
	return s, nil
}

// trust sets up SAML trust once scimbridge serves its metadata: the
// 6sense stand-in trusts scimbridge as its IdP, and the company IdP
// knows scimbridge as a service provider.
func (s *standIns) trust(ctx context.Context, base string) error {
	meta, err := fetch(ctx, base+"/apps/sixsense/saml/metadata")
	if err != nil {
		return err
	}
	if err := s.jit.Trust(meta); err != nil {
		return err
	}
	if meta, err = fetch(ctx, base+"/saml/metadata"); err != nil {
		return err
	}
	return s.idp.Trust(meta)
}

// notes is what the stand-ins did since the last call.
func (s *standIns) notes() []string {
	var out []string
	for _, src := range []struct {
		who   string
		notes func() []string
	}{{"6sense stand-in", s.jit.Notes}, {"6clicks stand-in", s.grc.Notes}, {"company IdP", s.idp.Notes}} {
		for _, n := range src.notes() {
			out = append(out, src.who+": "+n)
		}
	}
	return out
}

// close stops every stand-in that started.
func (s *standIns) close(log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var closers []func(context.Context) error
	if s.grc != nil {
		closers = append(closers, s.grc.Close)
	}
	if s.jit != nil {
		closers = append(closers, s.jit.Close)
	}
	if s.idp != nil {
		closers = append(closers, s.idp.Close)
	}
	for _, c := range closers {
		if err := c(ctx); err != nil {
			log.Warn("a stand-in did not stop cleanly", "error", err)
		}
	}
}

func fetch(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	res, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		return nil, fmt.Errorf("demo: %w", err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("demo: GET %s: %w", url, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("demo: GET %s: HTTP %d", url, res.StatusCode)
	}
	return b, nil
}

// waitServing waits until scimbridge answers its health check, or stops.
func waitServing(ctx context.Context, base string, stopped <-chan struct{}) error {
	deadline := time.Now().Add(demoStartTimeout)
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/healthz", nil)
		if err != nil {
			return err
		}
		if res, err := c.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no answer at %s/healthz after %s", base, demoStartTimeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-stopped:
			return errors.New("the server stopped")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// demoTokenSet are the tokens the demo issues, and where scimbridge
// will answer them.
type demoTokenSet struct {
	scim      map[string]string // by app
	admin, it string
	publicURL string
}

// demoTokens issues a SCIM token per app for the scripted IdP, an admin
// token for the person and one for the script's IT, before the server
// starts, and writes the SCIM tokens to path for curl.
func demoTokens(ctx context.Context, e *env, cfgPath, path string) (demoTokenSet, error) {
	quiet := &env{stdout: io.Discard, stderr: io.Discard, getenv: e.getenv}
	cfg, db, err := openStore(ctx, quiet, cfgPath, "")
	if err != nil {
		return demoTokenSet{}, err
	}
	defer db.Close()
	out := demoTokenSet{scim: map[string]string{}, publicURL: cfg.PublicURL}
	var lines strings.Builder
	lines.WriteString("# SCIM tokens of the demo's apps: curl -H \"Authorization: Bearer TOKEN\" <url>/apps/APP/scim/v2/Users\n")
	for _, app := range demo.AppNames() {
		tok, _, err := scim.IssueToken(ctx, db, app, "the demo's scripted IdP")
		if err != nil {
			return demoTokenSet{}, fmt.Errorf("demo: token for %s: %w", app, err)
		}
		out.scim[app] = tok
		fmt.Fprintf(&lines, "%s %s\n", app, tok)
	}
	if out.admin, _, err = scim.IssueAdminToken(ctx, db, demoAdminName, "the demo's console sign-in"); err != nil {
		return demoTokenSet{}, fmt.Errorf("demo: admin token: %w", err)
	}
	if out.it, _, err = scim.IssueAdminToken(ctx, db, demoITName, "the demo's IT, in the script"); err != nil {
		return demoTokenSet{}, fmt.Errorf("demo: admin token: %w", err)
	}
	if err := os.WriteFile(path, []byte(lines.String()), 0o600); err != nil {
		return demoTokenSet{}, fmt.Errorf("demo: %w", err)
	}
	return out, nil
}

// outboxDrained reports, from the database, whether the engine has
// dispatched every change event: the script's cue that scimbridge has
// planned what a step set off.
func outboxDrained(ctx context.Context, path string, log *slog.Logger) (func(context.Context) (bool, error), func(), error) {
	db, err := sqlite.Open(ctx, path, sqlite.Options{Logger: log, Readers: 1})
	if err != nil {
		return nil, nil, fmt.Errorf("demo: database: %w", err)
	}
	drained := func(ctx context.Context) (bool, error) {
		latest, err := db.LatestEvents(ctx, "", 1)
		if err != nil || len(latest) == 0 {
			return err == nil, err
		}
		cursor, err := db.Cursor(ctx, engine.Consumer)
		return cursor >= latest[0].Seq, err
	}
	return drained, func() { db.Close() }, nil
}

// demoBanner is what the person needs to find their way.
type demoBanner struct {
	console, token, dir, config, log, tokens string
	stands                                   *standIns
}

func (b demoBanner) print(w io.Writer) {
	fmt.Fprintf(w, `
  Console      %s
  Admin token  %s
               (paste it into the console's sign-in page; it acts as %s)
  Directory    %s
  Config       %s
  Server log   %s
  SCIM tokens  %s

  Stand-ins on 127.0.0.1, in place of the real services:
    6sense       %s/   knows users only from SAML sign-ins through scimbridge
    6clicks      %s/   has a user API, which scimbridge calls
    company IdP  %s/   the sign-in page of the company's Okta: pick a person
  People.ai and SixMap need none: everything there is a task for an admin.
`, b.console, b.token, demoAdminName, b.dir, b.config, b.log, b.tokens, b.stands.jit.URL(), b.stands.grc.URL(), b.stands.idp.URL())
}
