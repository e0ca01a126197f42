package main

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // the "sqlite" driver, to read the outbox
)

const (
	// dispatchName names the burst row; -only selects it by this text.
	dispatchName = "dispatch burst"
	// burstPrefix keeps the burst's userNames apart from the loaded users
	// ("user") and those of the POST scenario ("new").
	burstPrefix = "burst"
	// engineConsumer is the engine's name on the outbox cursor.
	engineConsumer = "engine"
	// outboxEvery is the outbox sampling period: far below the engine's
	// 250 ms poll, so that lags are resolved to a few hundredths of that.
	outboxEvery = 10 * time.Millisecond
	// catchUpEvery is how often the wait before the burst looks at the
	// outbox.
	catchUpEvery = 50 * time.Millisecond
	// catchUpTimeout bounds the wait, before the burst, for the engine to
	// dispatch the events of the load and of the earlier scenarios.
	catchUpTimeout = 120 * time.Second
	// settleTimeout bounds the wait, after the load, for the engine to
	// dispatch the load's events before the scenarios run.
	settleTimeout = 10 * time.Minute
	// drainTimeout bounds the wait, after the burst's last create, for
	// the engine to dispatch the burst's events.
	drainTimeout = 120 * time.Second
	// maxOutboxLagP99 is the outbox lag target.
	maxOutboxLagP99 = time.Second
)

// outboxSQL reads the newest event's seq and the engine's cursor in one
// statement, so that both come from one snapshot and the cursor is never
// ahead of the outbox. Both are 0 before the first event and before the
// engine's first batch.
const outboxSQL = `SELECT
	COALESCE((SELECT max(seq) FROM scim_events), 0),
	COALESCE((SELECT seq FROM scim_event_cursors WHERE consumer = ?), 0)`

// outbox reads the server's change-event outbox, read-only, from its
// SQLite file: the server has no endpoint for it. In WAL mode the reads
// never wait for the server's writer, and each read's snapshot ends with
// it, so that the server's checkpoints are not held back.
type outbox struct {
	db *sql.DB
}

func openOutbox(path string) (*outbox, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=ro&_pragma=busy_timeout(5000)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open the outbox: %w", err)
	}
	// One connection: the reads are sequential.
	db.SetMaxOpenConns(1)
	return &outbox{db: db}, nil
}

func (o *outbox) close() error { return o.db.Close() }

// read returns max(seq) of the outbox and the engine's cursor.
func (o *outbox) read(ctx context.Context) (maxSeq, cursor int64, err error) {
	if err := o.db.QueryRowContext(ctx, outboxSQL, engineConsumer).Scan(&maxSeq, &cursor); err != nil {
		return 0, 0, fmt.Errorf("read the outbox: %w", err)
	}
	return maxSeq, cursor, nil
}

// outboxSample is one look at the outbox during the burst.
type outboxSample struct {
	at     time.Duration // since the burst started
	maxSeq int64         // the newest event written
	cursor int64         // the newest event the engine has dispatched
}

// dispatchResult is the outcome of the dispatch burst.
type dispatchResult struct {
	// Before the burst: the events the engine still had to dispatch, and
	// how long it took to get through them.
	backlog  int64
	caughtUp time.Duration

	creates   int             // POST /Users answered, failed ones included
	latencies []time.Duration // of the creates, sorted
	errors    int
	examples  []string
	lastAck   time.Duration // since the burst started

	samples []outboxSample // up to when the engine reached lastSeq
	events  int64          // the burst's events
	// done is when the first sample saw the cursor at the burst's last
	// event, since the burst started; 0 if it never did.
	done time.Duration
	// backlogAtAck is how many of the burst's events were left when the
	// last create was answered.
	backlogAtAck int64
	lags         []time.Duration // sorted
	// problem, if not "", is why the burst could not be measured.
	problem string
}

func (r dispatchResult) createRate() float64 { return float64(r.creates) / r.lastAck.Seconds() }

// rate is events dispatched per second, from the burst's start until the
// engine had dispatched its last event.
func (r dispatchResult) rate() float64 {
	if r.done <= 0 {
		return 0
	}
	return float64(r.events) / r.done.Seconds()
}

// drain is how long after the last create the engine dispatched the
// burst's last event.
func (r dispatchResult) drain() time.Duration { return max(0, r.done-r.lastAck) }

func (r dispatchResult) lagP50() time.Duration { return percentile(r.lags, 50) }
func (r dispatchResult) lagP99() time.Duration { return percentile(r.lags, 99) }

func (r dispatchResult) lagMax() time.Duration {
	if len(r.lags) == 0 {
		return 0
	}
	return r.lags[len(r.lags)-1]
}

func (r dispatchResult) met() bool {
	return r.problem == "" && r.errors == 0 && r.done > 0 && r.lagP99() < maxOutboxLagP99
}

// runDispatchBurst measures how fast the engine dispatches change events
// and how far it falls behind under a burst of creates; see usageText.
func runDispatchBurst(ctx context.Context, a *api, ds *dataset, dbPath string, o options, progress io.Writer) (dispatchResult, error) {
	ob, err := openOutbox(dbPath)
	if err != nil {
		return dispatchResult{}, err
	}
	defer ob.close()
	var res dispatchResult
	var maxSeq, cursor int64
	res.backlog, res.caughtUp, maxSeq, cursor, err = ob.waitCaughtUp(ctx, progress, catchUpTimeout)
	if err != nil {
		return res, err
	}
	if cursor < maxSeq {
		res.problem = fmt.Sprintf("before the burst, the engine did not catch up with the outbox within %v: it had dispatched up to event %d of %d (%d behind, %d when the wait began)",
			catchUpTimeout, cursor, maxSeq, maxSeq-cursor, res.backlog)
		return res, nil
	}
	fmt.Fprintf(progress, "%s: the engine caught up with %d events in %.1fs; creating %d users\n",
		dispatchName, res.backlog, res.caughtUp.Seconds(), o.burst)

	// The sampler stops once it sees the cursor at until, which is set
	// when the burst's last event is known, or when the drain timer or ctx
	// ends it.
	var until atomic.Int64
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	start := time.Now()
	first := outboxSample{maxSeq: maxSeq, cursor: cursor}
	var samples []outboxSample
	var sampleErr error
	var wg sync.WaitGroup
	wg.Go(func() { samples, sampleErr = ob.sample(sctx, start, first, &until) })

	res.creates, res.latencies, res.errors, res.examples = burstCreates(ctx, a, ds, o)
	res.lastAck = time.Since(start)
	last, _, err := ob.read(ctx)
	if err != nil {
		stopSampling()
		wg.Wait()
		return res, err
	}
	res.events = last - first.maxSeq
	until.Store(last)
	drainTimer := time.AfterFunc(drainTimeout, stopSampling)
	wg.Wait()
	drainTimer.Stop()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if sampleErr != nil && !errors.Is(sampleErr, context.Canceled) {
		return res, sampleErr
	}

	window, reached := burstWindow(samples, last)
	res.samples = window
	res.lags = outboxLags(window)
	slices.Sort(res.lags)
	for _, s := range window {
		if s.at <= res.lastAck {
			res.backlogAtAck = last - s.cursor
		}
	}
	if !reached {
		end := window[len(window)-1]
		res.problem = fmt.Sprintf("the engine did not dispatch the burst's events within %v of the last create: it had dispatched up to event %d of %d (%d behind)",
			drainTimeout, end.cursor, last, last-end.cursor)
		return res, nil
	}
	res.done = window[len(window)-1].at
	return res, nil
}

// waitCaughtUp waits, up to timeout, for the engine's cursor to
// reach the newest event. It returns how many events the engine had left
// when the wait began, how long the wait took, and the outbox as last
// read: cursor < maxSeq means the engine did not catch up in time.
func (o *outbox) waitCaughtUp(ctx context.Context, progress io.Writer, timeout time.Duration) (backlog int64, waited time.Duration, maxSeq, cursor int64, err error) {
	start := time.Now()
	lastNote := start
	tick := time.NewTicker(catchUpEvery)
	defer tick.Stop()
	for first := true; ; first = false {
		maxSeq, cursor, err = o.read(ctx)
		if err != nil {
			return 0, 0, 0, 0, err
		}
		waited = time.Since(start)
		if first {
			backlog = maxSeq - cursor
		}
		if cursor >= maxSeq || waited >= timeout {
			return backlog, waited, maxSeq, cursor, nil
		}
		if time.Since(lastNote) >= progressEvery {
			lastNote = time.Now()
			fmt.Fprintf(progress, "%s: waiting for the engine to catch up: %d events behind\n", dispatchName, maxSeq-cursor)
		}
		select {
		case <-ctx.Done():
			return 0, 0, 0, 0, ctx.Err()
		case <-tick.C:
		}
	}
}

// sample reads the outbox every outboxEvery, starting with first (taken
// at start), until the cursor reaches until (once until is set) or ctx
// ends. A sample's time is taken before its read, when its snapshot
// begins.
func (o *outbox) sample(ctx context.Context, start time.Time, first outboxSample, until *atomic.Int64) ([]outboxSample, error) {
	out := []outboxSample{first}
	tick := time.NewTicker(outboxEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return out, ctx.Err()
		case <-tick.C:
		}
		at := time.Since(start)
		maxSeq, cursor, err := o.read(ctx)
		if err != nil {
			if ctx.Err() != nil { // the driver's own error for an interrupted read
				return out, ctx.Err()
			}
			return out, err
		}
		out = append(out, outboxSample{at: at, maxSeq: maxSeq, cursor: cursor})
		if u := until.Load(); u > 0 && cursor >= u {
			return out, nil
		}
	}
}

// burstCreates POSTs o.burst new users on o.concurrency closed-loop
// clients. Failures are counted, not fatal: the row reports them.
func burstCreates(ctx context.Context, a *api, ds *dataset, o options) (n int, latencies []time.Duration, errs int, examples []string) {
	results := make([]runResult, o.concurrency)
	forEach(ctx, o.burst, o.concurrency, func(ctx context.Context, w, i int) error {
		r := &results[w]
		body, err := ds.user(burstPrefix, i)
		if err != nil {
			r.fail(fmt.Sprintf("encode user %d: %v", i, err))
			return nil
		}
		var buf bytes.Buffer
		resp, err := a.do(ctx, "POST", "/Users", body, &buf)
		if err != nil {
			if ctx.Err() == nil {
				r.fail(err.Error())
			}
			return nil
		}
		r.requests++
		r.latencies = append(r.latencies, resp.latency)
		if resp.status != http.StatusCreated {
			r.fail(describe("POST", "/Users", resp, fmt.Sprintf("expected status %d", http.StatusCreated)))
		}
		return nil
	})
	for _, r := range results {
		n += r.requests
		errs += r.errors
		latencies = append(latencies, r.latencies...)
		for _, e := range r.examples {
			if len(examples) < maxExamples {
				examples = append(examples, e)
			}
		}
	}
	slices.Sort(latencies)
	return n, latencies, errs, examples
}

// burstWindow returns samples up to and including the first at which the
// engine's cursor had reached last, and whether one had; without one, it
// returns them all.
func burstWindow(samples []outboxSample, last int64) ([]outboxSample, bool) {
	for i, s := range samples {
		if s.cursor >= last {
			return samples[:i+1], true
		}
	}
	return samples, false
}

// outboxLags returns the outbox lag at each sample: how long the oldest
// event the engine had not yet dispatched had been in the outbox, or 0
// when it had dispatched every event. It is the age of the oldest waiting
// event rather than of the newest dispatched one, so that an engine that
// has caught up and waits for its next poll shows no lag. An event's time in the outbox is
// counted from the first sample at which max(seq) had reached it, so lags
// are resolved to the sampling period, and an event written before the
// first sample counts from that sample. The max(seq) seen so far stands
// for each sample's, which keeps an out-of-order read from making an
// event older than it is.
func outboxLags(samples []outboxSample) []time.Duration {
	written := make([]int64, len(samples)) // max(seq) seen up to each sample
	var high int64
	for i, s := range samples {
		high = max(high, s.maxSeq)
		written[i] = high
	}
	lags := make([]time.Duration, len(samples))
	for i, s := range samples {
		if s.cursor >= written[i] {
			continue // nothing waiting
		}
		// The first sample that saw the event after the cursor, s.cursor+1.
		j := sort.Search(i+1, func(j int) bool { return written[j] > s.cursor })
		lags[i] = s.at - samples[j].at
	}
	return lags
}
