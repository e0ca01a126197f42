package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// progressEvery is how often long phases print progress on stderr.
const progressEvery = 5 * time.Second

// phase is the outcome of a loading phase.
type phase struct {
	n         int
	elapsed   time.Duration
	latencies []time.Duration // sorted
}

func (p phase) rate() float64 { return float64(p.n) / p.elapsed.Seconds() }

// loaded is what the scenarios need to know about the loaded data.
type loaded struct {
	userIDs    []string // index i is user i, userName("user", i)
	groups     int
	usersLoad  phase
	groupsLoad phase
}

// loadData creates the users, then the groups, as an IdP's initial
// provisioning run would.
func loadData(ctx context.Context, a *api, ds *dataset, o options, progress io.Writer) (*loaded, error) {
	l := &loaded{userIDs: make([]string, o.users), groups: o.groups}
	var err error
	l.usersLoad, err = loadPhase(ctx, a, o, progress, "users", o.users, "/Users", func(i int) ([]byte, error) {
		return ds.user("user", i)
	}, func(i int, id string) { l.userIDs[i] = id })
	if err != nil {
		return nil, err
	}
	l.groupsLoad, err = loadPhase(ctx, a, o, progress, "groups", o.groups, "/Groups", func(i int) ([]byte, error) {
		return ds.group(i, pickDistinct(l.userIDs, o.members))
	}, nil)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// loadPhase POSTs n bodies to path on o.concurrency workers. Any non-2xx
// answer stops it with an error carrying status and body. created, if not
// nil, receives each new resource's id; each i is handled by one worker,
// so writing to index i needs no lock.
func loadPhase(ctx context.Context, a *api, o options, progress io.Writer, what string, n int, path string,
	body func(i int) ([]byte, error), created func(i int, id string)) (phase, error) {
	workers := make([][]time.Duration, o.concurrency)
	var done atomic.Int64
	stopProgress := startProgress(progress, "loading "+what, n, &done)
	start := time.Now()
	err := forEach(ctx, n, o.concurrency, func(ctx context.Context, w, i int) error {
		var buf bytes.Buffer
		b, err := body(i)
		if err != nil {
			return fmt.Errorf("encode %s %d: %w", what, i, err)
		}
		r, err := a.do(ctx, "POST", path, b, &buf)
		if err != nil {
			return err
		}
		if r.status < 200 || r.status > 299 {
			return fmt.Errorf("loading %s: %s\nrequest body: %s", what, describe("POST", path, r, "expected 2xx"), b)
		}
		workers[w] = append(workers[w], r.latency)
		done.Add(1)
		if created == nil {
			return nil
		}
		var res struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(r.body, &res); err != nil || res.ID == "" {
			return fmt.Errorf("loading %s: %s", what, describe("POST", path, r, "no id in the response"))
		}
		created(i, res.ID)
		return nil
	})
	elapsed := time.Since(start)
	stopProgress()
	if err != nil {
		return phase{}, err
	}
	lat := slices.Concat(workers...)
	slices.Sort(lat)
	p := phase{n: n, elapsed: elapsed, latencies: lat}
	fmt.Fprintf(progress, "loaded %d %s in %.1fs (%.0f/s)\n", n, what, elapsed.Seconds(), p.rate())
	return p, nil
}

// forEach calls fn(ctx, worker, i) for every i in [0, n) on the given
// number of worker goroutines. The first error cancels the others and is
// returned, as is the cancellation of ctx.
func forEach(ctx context.Context, n, workers int, fn func(ctx context.Context, worker, i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for ctx.Err() == nil {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(ctx, w, i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
	wg.Wait()
	return context.Cause(ctx)
}

// startProgress prints "label: done/total" every progressEvery until the
// returned function is called; long loads would otherwise look hung.
func startProgress(w io.Writer, label string, total int, done *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		start := time.Now()
		tick := time.NewTicker(progressEvery)
		defer tick.Stop()
		for {
			select {
			case <-quit:
				return
			case <-tick.C:
				d := done.Load()
				fmt.Fprintf(w, "%s: %d/%d (%.0f/s)\n", label, d, total, float64(d)/time.Since(start).Seconds())
			}
		}
	})
	return func() {
		close(quit)
		wg.Wait()
	}
}
