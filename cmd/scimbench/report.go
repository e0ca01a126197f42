package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"time"
)

// rssLimit is the server's memory target, in bytes (decimal megabytes):
// the production target for a directory of 500,000 memberships under the
// mixed workload. (It was 200 MB when the load had 100,000.)
const rssLimit = 300_000_000

// target is a scenario's goal; zero fields set no bound.
type target struct {
	minRPS float64       // median req/s at least this
	maxP99 time.Duration // median p99 below this
	paced  float64       // the rate a paced scenario must keep up with
}

func (t target) String() string {
	var parts []string
	if t.paced > 0 {
		parts = append(parts, fmt.Sprintf("keeps up with %.0f req/s", t.paced))
	} else if t.minRPS > 0 {
		parts = append(parts, fmt.Sprintf("≥ %.0f req/s", t.minRPS))
	}
	if t.maxP99 > 0 {
		parts = append(parts, fmt.Sprintf("p99 < %g ms", float64(t.maxP99)/float64(time.Millisecond)))
	}
	if len(parts) == 0 {
		return "—"
	}
	return strings.Join(parts, ", ")
}

func (t target) met(s summary) bool {
	return s.medianRPS() >= t.minRPS && (t.maxP99 == 0 || s.medianP99() < t.maxP99)
}

// verdict is a row's result: any error fails, as does a missed target.
func verdict(t target, s summary) (string, bool) {
	switch {
	case s.errors() > 0 || len(s.runs) == 0 || !t.met(s):
		return "**FAIL**", false
	case t == (target{}):
		return "— (report only)", true
	}
	return "pass", true
}

// report is everything the benchmark prints on stdout.
type report struct {
	cmdline       string
	opts          options
	serverVersion string
	data          *loaded
	summaries     []summary
	dispatch      *dispatchResult // nil when -only left it out
	mixed         *mixedResult    // nil when -only left it out
	settle        settled
	mem           memory
	server        stopResult
	total         time.Duration
}

// print writes the report and says whether every target was met.
func (r report) print(w io.Writer) bool {
	r.header(w)
	passed := r.table(w)
	r.notes(w)
	if r.server.exitErr != nil {
		passed = false
	}
	if passed {
		fmt.Fprintln(w, "\nAll targets met.")
	} else {
		fmt.Fprintln(w, "\nSome targets were missed (see FAIL above).")
	}
	return passed
}

func (r report) header(w io.Writer) {
	o := r.opts
	fmt.Fprintf(w, "## scimbridge benchmark\n\n")
	fmt.Fprintf(w, "- command: `%s`\n", r.cmdline)
	fmt.Fprintf(w, "- server: %s\n", r.serverVersion)
	fmt.Fprintf(w, "- scimbench: %s, %s/%s, GOMAXPROCS %d, NumCPU %d (client and server share these CPUs)\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU())
	fmt.Fprintf(w, "- data: %d users, %d groups of %d members, loaded by %d workers\n", o.users, o.groups, o.members, o.concurrency)
	fmt.Fprintf(w, "- scenarios: %d clients unless the row names its own (closed-loop unless paced), %v unmeasured warm-up, then %d runs of %v; figures are medians across runs\n\n",
		o.concurrency, o.warmup, o.runs, o.duration)
}

func (r report) table(w io.Writer) bool {
	fmt.Fprintln(w, "| scenario | req/s (median) | req/s range | p50 ms | p99 ms | errors | target | result |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---|---|")
	loadRow(w, fmt.Sprintf("load %d users (filter, then POST)", r.opts.users), r.data.usersLoad)
	loadRow(w, fmt.Sprintf("load %d groups (filter, POST, PATCH adding %d members)", r.opts.groups, r.opts.members), r.data.groupsLoad)
	passed := r.loadTotalRow(w)
	for _, s := range r.summaries {
		result, ok := verdict(s.target, s)
		passed = passed && ok
		rps := s.rpsValues()
		fmt.Fprintf(w, "| %s | %.0f | %.0f–%.0f | %s | %s | %d | %s | %s |\n",
			s.name, s.medianRPS(), slices.Min(rps), slices.Max(rps), ms(s.medianP50()), ms(s.medianP99()),
			s.errors(), s.target, result)
	}
	if r.mixed != nil {
		passed = r.mixedRow(w) && passed
	}
	if r.dispatch != nil {
		passed = r.dispatchRow(w) && passed
	}
	memOK := r.mem.err == nil && r.mem.peak() < rssLimit
	result := "pass"
	if !memOK {
		result = "**FAIL**"
	}
	fmt.Fprintf(w, "| server peak RSS: %s MB sampled, VmHWM %s MB | — | — | — | — | — | < %d MB | %s |\n",
		mb(r.mem.peakRSS), mb(r.mem.hwm), rssLimit/1_000_000, result)
	return passed && memOK
}

func loadRow(w io.Writer, name string, p phase) {
	fmt.Fprintf(w, "| %s in %.1f s | %.0f | — | %s | %s | 0 | — | — |\n",
		name, p.elapsed.Seconds(), p.rate(), ms(percentile(p.latencies, 50)), ms(percentile(p.latencies, 99)))
}

// loadTotalRow prints the whole load's time against its target.
func (r report) loadTotalRow(w io.Writer) bool {
	total := r.data.total()
	result := "pass"
	if total >= maxLoad {
		result = "**FAIL**"
	}
	fmt.Fprintf(w, "| load in all: %d users, %d groups, %d memberships, as Entra's initial cycle, in %.1f s | — | — | — | — | 0 | < %g min | %s |\n",
		r.opts.users, r.opts.groups, r.opts.groups*r.opts.members, total.Seconds(), maxLoad.Minutes(), result)
	return total < maxLoad
}

// mixedRow prints the mixed workload's row: requests, then the outbox lag
// in the target column's words.
func (r report) mixedRow(w io.Writer) bool {
	m := r.mixed
	result := "pass"
	if !m.met() {
		result = "**FAIL**"
	}
	fmt.Fprintf(w, "| %s: %d jobs × %d connections, %.0f req/s for %v; outbox lag p99 %s ms | %.0f | — | %s | %s | %d | p99 < %g ms, lag p99 < %g s | %s |\n",
		mixedName, mixedJobs, mixedConnections, r.opts.mixedRate, r.opts.mixedDuration, ms(percentile(m.lags, 99)),
		m.run.rps(), ms(m.run.p50()), ms(m.run.p99()), m.run.errors,
		float64(maxMixedP99)/float64(time.Millisecond), maxOutboxLagP99.Seconds(), result)
	return m.met()
}

// mixedNote explains the mixed workload's row.
func (r report) mixedNote(w io.Writer) {
	m := r.mixed
	if m == nil {
		return
	}
	kinds := make([]string, 0, len(m.counts))
	for k, n := range m.counts {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	slices.Sort(kinds)
	fmt.Fprintf(w, "\nMixed IdP workload: %s. The engine had %d events left before it and caught up in %.1f s; after the workload it dispatched the rest within %.2f s; outbox lag p50 %s ms, p99 %s ms over %d samples.\n",
		strings.Join(kinds, ", "), m.backlog, m.caughtUp.Seconds(), m.drained.Seconds(),
		ms(percentile(m.lags, 50)), ms(percentile(m.lags, 99)), len(m.lags))
	if m.problem != "" {
		fmt.Fprintf(w, "- **%s**\n", m.problem)
	}
	for _, e := range m.run.examples {
		fmt.Fprintf(w, "- error: %s\n", e)
	}
}

// dispatchRow prints the dispatch burst's row: its rate column is events
// dispatched per second and its latency columns are outbox lags.
func (r report) dispatchRow(w io.Writer) bool {
	d := r.dispatch
	result := "pass"
	if !d.met() {
		result = "**FAIL**"
	}
	target := fmt.Sprintf("lag p99 < %g s", maxOutboxLagP99.Seconds())
	if d.problem != "" || d.done == 0 {
		fmt.Fprintf(w, "| %s: not measured, see below | — | — | — | — | %d | %s | %s |\n", dispatchName, d.errors, target, result)
		return false
	}
	fmt.Fprintf(w, "| %s: %d POST /Users by %d clients at %.0f/s; events dispatched/s and outbox lag (max %s ms), drained %.2f s after the last create | %.0f | — | %s | %s | %d | %s | %s |\n",
		dispatchName, r.opts.burst, r.opts.concurrency, d.createRate(), ms(d.lagMax()), d.drain().Seconds(),
		d.rate(), ms(d.lagP50()), ms(d.lagP99()), d.errors, target, result)
	return d.met()
}

// dispatchNote explains the dispatch burst's row.
func (r report) dispatchNote(w io.Writer) {
	d := r.dispatch
	if d == nil {
		return
	}
	fmt.Fprintf(w, "\nDispatch burst: before it, the engine had %d events left from the load and the rows above, and caught up in %.1f s.\n", d.backlog, d.caughtUp.Seconds())
	if d.creates > 0 {
		fmt.Fprintf(w, "- %d creates in %.1f s (%.0f/s), p50 %s ms, p99 %s ms, %d errors.\n",
			d.creates, d.lastAck.Seconds(), d.createRate(), ms(percentile(d.latencies, 50)), ms(percentile(d.latencies, 99)), d.errors)
	}
	if n := len(d.samples); n > 1 {
		end := d.samples[n-1]
		fmt.Fprintf(w, "- %d events; %d were still to dispatch when the last create was answered. Outbox sampled %d times, every %.1f ms on average.\n",
			d.events, d.backlogAtAck, n, float64(end.at)/float64(n-1)/float64(time.Millisecond))
	}
	if d.done > 0 {
		fmt.Fprintf(w, "- The engine dispatched them in %.2f s from the first create (%.0f events/s) and finished %.2f s after the last.\n",
			d.done.Seconds(), d.rate(), d.drain().Seconds())
		fmt.Fprintf(w, "- Outbox lag, per sample: p50 %s ms, p99 %s ms, max %s ms.\n", ms(d.lagP50()), ms(d.lagP99()), ms(d.lagMax()))
	}
	if d.problem != "" {
		fmt.Fprintf(w, "- **%s**\n", d.problem)
	}
	for _, e := range d.examples {
		fmt.Fprintf(w, "- error: %s\n", e)
	}
}

func (r report) notes(w io.Writer) {
	st := r.settle
	fmt.Fprintf(w, "\nAfter the load the engine had %d change events to dispatch; it caught up in %.1f s, before the scenarios ran.\n",
		st.backlog, st.waited.Seconds())
	if st.behind > 0 {
		fmt.Fprintf(w, "- **it had not caught up after %v: %d events were still to dispatch while the scenarios ran**\n", settleTimeout, st.behind)
	}
	if len(r.summaries) > 0 { // -only may leave only the dispatch burst
		fmt.Fprintf(w, "\nRuns (req/s, p99 ms):\n")
	}
	for _, s := range r.summaries {
		var runs []string
		for _, run := range s.runs {
			runs = append(runs, fmt.Sprintf("%.0f/%s", run.rps(), ms(run.p99())))
		}
		fmt.Fprintf(w, "- %s: %s\n", s.name, strings.Join(runs, ", "))
	}
	r.groupPatchNote(w)
	r.mixedNote(w)
	r.dispatchNote(w)
	for _, s := range r.summaries {
		if s.errors() == 0 {
			continue
		}
		fmt.Fprintf(w, "\nErrors in %q (%d, of which %d in warm-up); first ones:\n", s.name, s.errors(), s.warmupErrors)
		for _, e := range s.examples {
			fmt.Fprintf(w, "- %s\n", e)
		}
	}
	if r.mem.err != nil {
		fmt.Fprintf(w, "\nMemory: %v (%d samples taken)\n", r.mem.err, r.mem.samples)
	}
	if r.server.exitErr != nil {
		fmt.Fprintf(w, "\nServer: %v\n", r.server.exitErr)
	}
	r.serverLog(w)
	fmt.Fprintf(w, "\nTotal time: %s (%d RSS samples)\n", r.total.Round(100*time.Millisecond), r.mem.samples)
}

// groupPatchNote compares the p99s of the membership PATCH rows: when a
// change costs in the members changed, they stay flat as the group grows.
func (r report) groupPatchNote(w io.Writer) {
	var rows []summary
	for _, s := range r.summaries {
		if strings.HasPrefix(s.name, groupPatchName) && len(s.runs) > 0 {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		return
	}
	var sizes []string
	for _, s := range rows {
		sizes = append(sizes, fmt.Sprintf("%s members %s ms", thousands(s.groupSize), ms(s.medianP99())))
	}
	fmt.Fprintf(w, "\nGroup PATCH p99 by group size: %s", strings.Join(sizes, ", "))
	if len(rows) > 1 {
		first, last := rows[0], rows[len(rows)-1]
		fmt.Fprintf(w, "; %s ÷ %s members: %.2f× (flat is near 1×)",
			thousands(last.groupSize), thousands(first.groupSize), float64(last.medianP99())/float64(first.medianP99()))
	}
	fmt.Fprintf(w, ".\nEach measured add is followed by an unmeasured remove of the same users, so that every add meets the same group size; req/s counts the adds.\n")
}

// serverLog shows what the server logged at warn level and above.
func (r report) serverLog(w io.Writer) {
	const show = 20
	lines := r.server.log
	fmt.Fprintf(w, "\nServer log (warn and above): %d lines\n", len(lines))
	if len(lines) == 0 {
		return
	}
	if len(lines) > show {
		fmt.Fprintf(w, "last %d:\n", show)
		lines = lines[len(lines)-show:]
	}
	fmt.Fprintf(w, "```\n%s\n```\n", strings.Join(lines, "\n"))
}

// ms formats a duration in milliseconds with precision to match its size.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func mb(bytes int64) string { return fmt.Sprintf("%.1f", float64(bytes)/1e6) }
