// Command scimbench load-tests the real scimbridge binary on loopback. It
// starts the binary on a scratch database, loads users and groups over
// SCIM the way an IdP's first provisioning run does, runs timed scenarios
// and prints a Markdown table of the results against their targets.
// "make bench" runs it; "scimbench -help" explains everything.
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
	"time"
)

// warmup is the unmeasured run before each scenario's measured ones: it
// fills connection pools and server caches.
const warmup = time.Second

const usageText = `Usage: scimbench [flags]
(make bench runs: go run ./cmd/scimbench -binary bin/scimbridge)

scimbench load-tests the real scimbridge binary on this machine. All its
traffic goes to 127.0.0.1.

 1. It creates a temporary directory holding a config (one app "bench",
    profile manual, a SQLite database in the directory, log level warn,
    JSON), picks a free 127.0.0.1 port, creates a token with
    "<binary> token create" and starts "<binary> serve" with its output in
    server.log there. It waits up to 30s for GET /healthz to answer 200,
    and shows the end of the server log if it does not.
 2. It loads the directory as Entra ID's initial cycle does (match, then
    create), on -concurrency workers: for each of -users users, GET
    /Users?filter=userName eq "..." (expects none), then POST /Users
    (Entra ID-style bodies: core and enterprise schemas, externalId,
    userName user00042@example.com, name, displayName, active, a work
    email, employeeNumber, department); then for each of -groups groups,
    GET /Groups?filter=displayName eq "..." (expects none), POST /Groups
    without members, and PATCH adding -members distinct random users, 50
    a PATCH. Any unexpected answer stops the benchmark with the status and
    body. Target: the whole load in under 5 minutes.
 3. It waits, up to 10 minutes, for the engine to dispatch the change
    events of the load (see 4. for how it reads the outbox), so that the
    scenarios measure a settled server, and reports how long that took.
    It runs each scenario with -concurrency clients: 1s unmeasured
    warm-up, then -runs runs of -duration each. Clients are closed-loop
    (each sends its next request when the previous one is answered), which
    measures the most the server can do, except in a "paced" scenario:
    there the clients share a fixed rate on a timetable, which measures
    latency at that load. A client that falls behind its timetable sends
    at once; a paced scenario keeps up when at least 99% of its scheduled
    requests are answered within the run.

      scenario                              request                                   target
      filter userName eq, paced at 3000     GET /Users?filter=userName eq "<existing  >= 3000 req/s
      req/s                                 user, letters in random case>"            kept up, p99 < 5 ms
      filter userName eq, closed loop       the same                                  >= 3000 req/s
      POST /Users                           a new unique user; expects 201            >= 1000 req/s
      GET /Groups excl. members count=100   GET /Groups?excludedAttributes=members    p99 < 50 ms
                                            &count=100&startIndex=<random page>
      GET /Groups with members count=100    GET /Groups?count=100&startIndex=<random  p99 < 600 ms
      (Okta O15), 4 clients                 page>; Okta reads an app's pages one
                                            after another, so 4 clients stand for 4
                                            apps importing at once
      GET /Users/{id}                       a random loaded user                      none (report only)
      PATCH /Users/{id} replace title       PATCH of a random loaded user's title     none (report only)
                                            to a new value; expects 200
      console pages, 2 admins               GET of the overview, the queue, the       p99 < 100 ms
                                            queue filtered, the accounts list or a
                                            random task's page, signed in
      PATCH /Groups add 50 members          PATCH adding 50 loaded users that are     p99 < 25 ms
      (1k, 10k and 20k members), 1 client   not members; expects 204, a new ETag      at each size
      mixed IdP workload (see 6.)           4 IdP jobs at -mixed-rate for             p99 < 50 ms,
                                            -mixed-duration, once                     lag p99 < 1 s
      dispatch burst (last; see 4.)         -burst POST /Users of new users as fast   outbox lag
                                            as the clients go; expects 201            p99 < 1 s

    The PATCH /Groups scenarios run last but for the dispatch burst, on
    one client, on one group of their own: it is created empty and grown
    to each size before that scenario's warm-up, 250 members a PATCH
    (sizes scale down with -users below 100000). Each measured add is
    followed by an unmeasured PATCH removing the same users, so every add
    meets the same group size; req/s counts the adds. After the runs the
    group must be back at its size. The report compares their p99s: flat
    across sizes shows that a membership change costs in the members
    changed only. A PATCH run ends after -duration or 150 adds (3000
    requests for PATCH /Users), whichever comes first, which keeps the
    benchmark short.

    Every response's status is checked (200, or 201 for POST, 204 for
    PATCH /Groups, whose new ETag is checked too). Every 100th response of
    each client also has its body checked: exactly the one matching user;
    the expected totalResults, page size and member count (0 with members
    excluded); the id asked for, created or patched, and the new title.
    Anything unexpected, including transport errors, counts as an error,
    warm-up included; a scenario with errors fails.
 4. The dispatch burst measures the engine that "serve" runs beside the
    SCIM API: it reads the change-event outbox (table scim_events, whose
    seq only grows) and dispatches each event (replans the user's account
    and queues tasks), advancing its cursor (table scim_event_cursors,
    consumer "engine") in the same transaction. scimbench reads max(seq)
    and the cursor in one statement, so from one snapshot, from the
    server's database file opened read-only. It waits up to 120s for the
    engine to catch up with the events of the load and of the rows before
    (cursor = max(seq)), then creates -burst users (userNames
    burst00042@example.com) on -concurrency closed-loop clients, sampling
    max(seq) and the cursor every 10ms until the cursor reaches the
    burst's last event, for at most 120s after the last create. A burst
    the engine does not finish in time fails, as does a failed create.
    The burst runs once; in its row, the req/s column is events
    dispatched per second and the p50 and p99 columns are outbox lags:
      events/s    the burst's events over the time from the first create
                  until a sample saw the cursor at the last of them;
                  "drained" is how long after the last create that was.
      outbox lag  at each sample: how long the oldest event not yet
                  dispatched had been in the outbox, counted from the
                  first sample at which max(seq) passed the cursor; 0
                  when every event was dispatched. The row shows its p50
                  and p99 (and max) over the samples from the first
                  create to the end, nearest-rank; the resolution is the
                  sampling period.
 6. The mixed IdP workload is 4 provisioning jobs sending at once, each
    on 2 connections, sharing -mixed-rate requests a second on a
    timetable (paced, as above) for -mixed-duration, after a 1s warm-up:
    30% GET /Users?filter=userName eq (a loaded user), 5% GET
    /Groups?filter=displayName eq (a loaded group, members excluded), 5%
    GET /Users/{id}, 10% POST /Users (new users mixed00042@...), 15% PUT
    /Users/{id} (the full user with a new title), 20% PATCH /Users/{id}
    (a new title) and 15% PATCH /Groups/{id} adding 1 to 5 random users.
    It samples the outbox as the dispatch burst does, from the start until
    the engine has dispatched the workload's last event (at most 60s after
    its end). Targets: no error, p99 < 50 ms, outbox lag p99 < 1 s, and
    at least 99% of the scheduled requests answered within the run.
 5. It samples the server's VmRSS from /proc/<pid>/status every 200ms for
    the whole benchmark (Linux only) and reads VmHWM at the end. Target:
    < 300 MB (10^6 bytes), judged on the larger of the two.

Per run, req/s is answered requests over the run's time (requests in
flight at the deadline are waited for), and p50 and p99 are exact
nearest-rank percentiles of all latencies (from sending the request to
reading the last body byte). The table shows the median across runs of
each figure (the mean of the middle two for an even number of runs) and
the min-max of req/s. The load rows show the loading rate and latencies.

The report goes to stdout; progress goes to stderr. The server is stopped
(SIGTERM, then SIGKILL after 10s) and the directory removed at the end,
on error and on Ctrl-C, unless -keep.

Exit status: 0 when every target is met, 1 when one is missed, a
scenario had errors, the server exited badly or the benchmark failed, 2
for bad flags.

Flags:
`

// options are the benchmark's settings.
type options struct {
	binary      string
	users       int
	groups      int
	members     int
	concurrency int
	duration    time.Duration
	runs        int
	warmup      time.Duration
	keep        bool
	quick       bool
	only        string
	burst       int
	// The mixed workload's total rate and length.
	mixedRate     float64
	mixedDuration time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run runs the command line and returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "scimbench: %v\nRun scimbench -help for usage.\n", err)
		return 2
	}
	passed, err := bench(ctx, o, commandLine(args), stdout, stderr)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stderr, "scimbench: interrupted")
		return 1
	case err != nil:
		fmt.Fprintf(stderr, "scimbench: %v\n", err)
		return 1
	case !passed:
		return 1
	}
	return 0
}

// parseFlags parses and checks the flags; -help prints the usage on
// stdout and returns flag.ErrHelp.
func parseFlags(args []string, stdout io.Writer) (options, error) {
	o := options{warmup: warmup}
	fs := flag.NewFlagSet("scimbench", flag.ContinueOnError)
	// The flag package's own messages are dropped: run reports mistakes
	// with a hint, and -help is printed below, on stdout.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&o.binary, "binary", "bin/scimbridge", "the scimbridge binary to test")
	fs.IntVar(&o.users, "users", 100000, "users to load")
	fs.IntVar(&o.groups, "groups", 10000, "groups to load")
	fs.IntVar(&o.members, "members", 50, "members of each loaded group, distinct random loaded users")
	fs.IntVar(&o.concurrency, "concurrency", 16, "loading workers, closed-loop clients per scenario and idle keep-alive connections")
	fs.DurationVar(&o.duration, "duration", 5*time.Second, "length of each measured run")
	fs.IntVar(&o.runs, "runs", 5, "measured runs per scenario")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (config, database, server.log) and print its path")
	fs.StringVar(&o.only, "only", "", `run only the scenarios whose names contain this text, or one of several texts separated by |, such as "dispatch" for the dispatch burst or "paced|O15" (the load always runs)`)
	fs.IntVar(&o.burst, "burst", 10000, "users the dispatch burst creates")
	fs.Float64Var(&o.mixedRate, "mixed-rate", 400, "requests a second of the mixed IdP workload, shared by its 4 jobs")
	fs.DurationVar(&o.mixedDuration, "mixed-duration", time.Minute, "length of the mixed IdP workload")
	fs.BoolVar(&o.quick, "quick", false, "a fast check: -users 2000 -groups 200 -runs 2 -duration 2s -burst 1000 -mixed-duration 10s, for whichever of those are not given")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usageText)
			fs.SetOutput(stdout)
			fs.PrintDefaults()
		}
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.quick {
		applyQuick(fs, &o)
	}
	return o, o.check()
}

// applyQuick applies the -quick preset to the flags not given explicitly.
func applyQuick(fs *flag.FlagSet, o *options) {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["users"] {
		o.users = 2000
	}
	if !set["groups"] {
		o.groups = 200
	}
	if !set["runs"] {
		o.runs = 2
	}
	if !set["duration"] {
		o.duration = 2 * time.Second
	}
	if !set["burst"] {
		o.burst = 1000
	}
	if !set["mixed-duration"] {
		o.mixedDuration = 10 * time.Second
	}
}

func (o options) check() error {
	switch {
	case o.binary == "":
		return errors.New("-binary is required")
	case o.users < 1:
		return errors.New("-users must be at least 1")
	case o.groups < 1:
		return errors.New("-groups must be at least 1")
	case o.members < 0 || o.members > o.users:
		return fmt.Errorf("-members must be from 0 to -users (%d)", o.users)
	case o.concurrency < 1:
		return errors.New("-concurrency must be at least 1")
	case o.duration <= 0:
		return errors.New("-duration must be positive")
	case o.runs < 1:
		return errors.New("-runs must be at least 1")
	case o.burst < 1:
		return errors.New("-burst must be at least 1")
	case o.mixedRate <= 0:
		return errors.New("-mixed-rate must be positive")
	case o.mixedDuration <= 0:
		return errors.New("-mixed-duration must be positive")
	}
	return nil
}

// selects reports whether -only lets the scenario named name run.
func (o options) selects(name string) bool {
	for _, part := range strings.Split(o.only, "|") {
		if strings.Contains(name, part) {
			return true
		}
	}
	return false
}

// commandLine renders the invocation for the report. The program is shown
// by name: under go run, os.Args[0] is a throwaway build path.
func commandLine(args []string) string {
	parts := []string{"scimbench"}
	for _, a := range args {
		parts = append(parts, shellQuote(a))
	}
	return strings.Join(parts, " ")
}

func shellQuote(s string) string {
	safe := s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
	}) < 0
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// bench runs the whole benchmark and prints the report; passed says
// whether every target was met.
func bench(ctx context.Context, o options, cmdline string, stdout, progress io.Writer) (passed bool, err error) {
	start := time.Now()
	version, err := binaryVersion(ctx, o.binary)
	if err != nil {
		return false, err
	}
	hc := newHTTPClient(o.concurrency)
	defer hc.CloseIdleConnections()
	srv, err := startServer(ctx, o.binary, o.keep, hc, progress)
	if err != nil {
		return false, err
	}
	defer srv.stop()
	fmt.Fprintf(progress, "%s serving at %s (pid %d)\n", version, srv.origin, srv.pid())

	sampler := startRSSSampler(srv.pid())
	a := newAPI(hc, srv.origin, srv.token)
	a.admin = srv.admin
	rep, err := measure(ctx, a, srv.dbPath, o, progress)
	mem := sampler.finish()
	if err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("%w\n%s", err, srv.logTail())
		}
		return false, err
	}
	rep.cmdline, rep.opts, rep.serverVersion, rep.mem = cmdline, o, version, mem
	rep.server = srv.stop()
	rep.total = time.Since(start)
	return rep.print(stdout), nil
}

// settled is how the engine caught up with the load's events.
type settled struct {
	backlog int64
	waited  time.Duration
	behind  int64 // events still to dispatch when the wait gave up
}

func settle(ctx context.Context, dbPath string, progress io.Writer) (settled, error) {
	ob, err := openOutbox(dbPath)
	if err != nil {
		return settled{}, err
	}
	defer ob.close()
	var s settled
	var maxSeq, cursor int64
	s.backlog, s.waited, maxSeq, cursor, err = ob.waitCaughtUp(ctx, progress, settleTimeout)
	s.behind = maxSeq - cursor
	return s, err
}

// measure loads the data and runs every scenario, then the dispatch
// burst; dbPath is the server's database, where the burst reads the
// outbox.
func measure(ctx context.Context, a *api, dbPath string, o options, progress io.Writer) (report, error) {
	ds := newDataset()
	data, err := loadData(ctx, a, ds, o, progress)
	if err != nil {
		return report{}, err
	}
	rep := report{data: data}
	// The scenarios measure a settled server: the engine first works off
	// the load's events, which would otherwise share the CPUs with them.
	if rep.settle, err = settle(ctx, dbPath, progress); err != nil {
		return report{}, err
	}
	if err := a.signIn(ctx, a.admin); err != nil {
		return report{}, err
	}
	for _, sc := range scenarios(ds, data, o.members) {
		if !o.selects(sc.name) {
			continue
		}
		s, err := runScenario(ctx, a, sc, o, progress)
		if err != nil {
			return report{}, fmt.Errorf("scenario %s: %w", sc.name, err)
		}
		rep.summaries = append(rep.summaries, s)
	}
	if o.selects(mixedName) {
		m, err := runMixed(ctx, a, ds, data, dbPath, o, progress)
		if err != nil {
			return report{}, fmt.Errorf("%s: %w", mixedName, err)
		}
		rep.mixed = &m
	}
	// Last: it waits for the engine to dispatch the events of everything
	// before it.
	if o.selects(dispatchName) {
		d, err := runDispatchBurst(ctx, a, ds, dbPath, o, progress)
		if err != nil {
			return report{}, fmt.Errorf("%s: %w", dispatchName, err)
		}
		rep.dispatch = &d
	}
	return rep, nil
}
