package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// mixedName names the mixed workload's row; -only selects it by this
	// text.
	mixedName = "mixed IdP workload"
	// mixedJobs are the IdP provisioning jobs sending at once, each on
	// mixedConnections connections.
	mixedJobs        = 4
	mixedConnections = 2
	// maxMixedP99 is the mixed workload's latency target.
	maxMixedP99 = 50 * time.Millisecond
	// mixedDrainTimeout bounds the wait, after the workload, for the
	// engine to dispatch its events.
	mixedDrainTimeout = 60 * time.Second
)

// mixedOp is one kind of request of the mix, with its share.
type mixedOp struct {
	weight int
	next   func() (request, error)
}

// mixedResult is the mixed workload's outcome.
type mixedResult struct {
	backlog  int64         // events left from before, when it began
	caughtUp time.Duration // how long the engine took to work them off
	run      runResult
	counts   map[string]int // requests sent, by kind
	lags     []time.Duration
	drained  time.Duration // after the workload's end, until the engine caught up
	problem  string
}

func (r mixedResult) met() bool {
	return r.problem == "" && r.run.errors == 0 && len(r.run.latencies) > 0 &&
		r.run.p99() < maxMixedP99 && percentile(r.lags, 99) < maxOutboxLagP99
}

// mixedOps is what four IdP jobs send during a working day, by share:
// lookups before changes, creates for joiners, full PUTs (Okta), PATCHes
// (Entra), and group pushes.
func mixedOps(ds *dataset, l *loaded) ([]mixedOp, *sync.Map) {
	var created, titles atomic.Int64
	kinds := &sync.Map{}
	kind := func(name string, f func() (request, error)) func() (request, error) {
		return func() (request, error) {
			v, _ := kinds.LoadOrStore(name, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
			return f()
		}
	}
	eq := func(path, filter string) string {
		return path + "?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	}
	return []mixedOp{
		{30, kind("filter userName", func() (request, error) {
			name := userName("user", rand.IntN(len(l.userIDs)))
			return request{method: "GET", path: eq("/Users", fmt.Sprintf("userName eq %q", name)), want: http.StatusOK, check: checkOneUser(name)}, nil
		})},
		{5, kind("filter displayName", func() (request, error) {
			name := ds.groupName(rand.IntN(l.groups))
			return request{method: "GET", path: eq("/Groups", fmt.Sprintf("displayName eq %q", name)) + "&excludedAttributes=members",
				want: http.StatusOK, check: checkTotal(1)}, nil
		})},
		{5, kind("GET /Users/{id}", func() (request, error) {
			id := l.userIDs[rand.IntN(len(l.userIDs))]
			return request{method: "GET", path: "/Users/" + id, want: http.StatusOK, check: checkID(id)}, nil
		})},
		{10, kind("POST /Users", func() (request, error) {
			body, err := ds.user(mixedPrefix, int(created.Add(1)))
			return request{method: "POST", path: "/Users", body: body, want: http.StatusCreated, check: checkHasID}, err
		})},
		{15, kind("PUT /Users/{id}", func() (request, error) {
			i := rand.IntN(len(l.userIDs))
			title := fmt.Sprintf("Analyst %d", titles.Add(1))
			body, err := ds.userTitled("user", i, title)
			return request{method: "PUT", path: "/Users/" + l.userIDs[i], body: body, want: http.StatusOK, check: checkTitle(l.userIDs[i], title)}, err
		})},
		{20, kind("PATCH /Users/{id}", func() (request, error) {
			id := l.userIDs[rand.IntN(len(l.userIDs))]
			title := fmt.Sprintf("Engineer %d", titles.Add(1))
			body, err := patchRequestBody(patchOp{Op: "replace", Path: "title", Value: title})
			return request{method: "PATCH", path: "/Users/" + id, body: body, want: http.StatusOK, check: checkTitle(id, title)}, err
		})},
		{15, kind("PATCH /Groups/{id}", func() (request, error) {
			id := l.groupIDs[rand.IntN(len(l.groupIDs))]
			body, err := membersBody("add", pickDistinct(l.userIDs, 1+rand.IntN(5)))
			return request{method: "PATCH", path: "/Groups/" + id, body: body, want: http.StatusNoContent}, err
		})},
	}, kinds
}

// mixedPrefix keeps the mixed workload's new users apart from the rest.
const mixedPrefix = "mixed"

func checkTotal(n int) func([]byte) error {
	return func(body []byte) error {
		var l listBody
		if err := json.Unmarshal(body, &l); err != nil {
			return fmt.Errorf("not a ListResponse: %w", err)
		}
		if l.TotalResults != n {
			return fmt.Errorf("expected totalResults %d, got %d", n, l.TotalResults)
		}
		return nil
	}
}

// pick chooses an op by weight.
func pick(ops []mixedOp) func() (request, error) {
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	return func() (request, error) {
		n := rand.IntN(total)
		for _, op := range ops {
			if n < op.weight {
				return op.next()
			}
			n -= op.weight
		}
		return ops[len(ops)-1].next()
	}
}

// runMixed sends the mixed workload at o.mixedRate for o.mixedDuration
// while sampling the outbox, then waits for the engine to dispatch what
// it wrote.
func runMixed(ctx context.Context, a *api, ds *dataset, l *loaded, dbPath string, o options, progress io.Writer) (mixedResult, error) {
	ob, err := openOutbox(dbPath)
	if err != nil {
		return mixedResult{}, err
	}
	defer ob.close()
	var res mixedResult
	var maxSeq, cursor int64
	res.backlog, res.caughtUp, maxSeq, cursor, err = ob.waitCaughtUp(ctx, progress, catchUpTimeout)
	if err != nil {
		return res, err
	}
	if cursor < maxSeq {
		res.problem = fmt.Sprintf("before the workload, the engine did not catch up with the outbox within %v (%d events behind)", catchUpTimeout, maxSeq-cursor)
		return res, nil
	}
	ops, kinds := mixedOps(ds, l)
	sc := scenario{name: mixedName, rate: o.mixedRate, next: pick(ops)}
	clients := mixedJobs * mixedConnections
	if _, err := runFor(ctx, a, sc, clients, o.warmup); err != nil {
		return res, err
	}
	kinds.Clear()
	fmt.Fprintf(progress, "%s: %d jobs at %.0f req/s in all for %v\n", mixedName, mixedJobs, o.mixedRate, o.mixedDuration)

	var until atomic.Int64
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	start := time.Now()
	maxSeq, cursor, err = ob.read(ctx)
	if err != nil {
		return res, err
	}
	var samples []outboxSample
	var sampleErr error
	var wg sync.WaitGroup
	wg.Go(func() {
		samples, sampleErr = ob.sample(sctx, start, outboxSample{maxSeq: maxSeq, cursor: cursor}, &until)
	})
	res.run, err = runFor(ctx, a, sc, clients, o.mixedDuration)
	end := time.Since(start)
	if err != nil {
		stopSampling()
		wg.Wait()
		return res, err
	}
	last, _, err := ob.read(ctx)
	if err != nil {
		stopSampling()
		wg.Wait()
		return res, err
	}
	until.Store(last)
	timer := time.AfterFunc(mixedDrainTimeout, stopSampling)
	wg.Wait()
	timer.Stop()
	if ctx.Err() != nil {
		return res, ctx.Err()
	}
	if sampleErr != nil && !errors.Is(sampleErr, context.Canceled) {
		return res, sampleErr
	}
	window, reached := burstWindow(samples, last)
	res.lags = outboxLags(window)
	slices.Sort(res.lags)
	if !reached {
		res.problem = fmt.Sprintf("the engine did not dispatch the workload's events within %v of its end", mixedDrainTimeout)
	} else {
		res.drained = max(0, window[len(window)-1].at-end)
	}
	if scheduled := o.mixedRate * o.mixedDuration.Seconds(); float64(res.run.requests) < pacedShortfall*scheduled {
		// Both problems count; neither hides the other.
		res.problem = strings.TrimPrefix(res.problem+"; "+
			fmt.Sprintf("the server kept up with %d of the %.0f scheduled requests", res.run.requests, scheduled), "; ")
	}
	res.counts = map[string]int{}
	kinds.Range(func(k, v any) bool {
		res.counts[k.(string)] = int(v.(*atomic.Int64).Load())
		return true
	})
	fmt.Fprintf(progress, "%s: %.0f req/s, p50 %s ms, p99 %s ms, %d errors, outbox lag p99 %s ms\n",
		mixedName, res.run.rps(), ms(res.run.p50()), ms(res.run.p99()), res.run.errors, ms(percentile(res.lags, 99)))
	return res, nil
}
