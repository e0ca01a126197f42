package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
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
	groupIDs   []string // index i is group i
	groups     int
	usersLoad  phase
	groupsLoad phase
}

// total is the time the whole load took over SCIM.
func (l *loaded) total() time.Duration { return l.usersLoad.elapsed + l.groupsLoad.elapsed }

// maxLoad is the target for loading the whole directory.
const maxLoad = 5 * time.Minute

// memberChunk is how many members one PATCH adds while loading.
const memberChunk = 50

// loadData loads the directory as Entra ID's initial cycle does: for each
// user, a filter on userName that finds nothing, then the create; for
// each group, a filter on displayName, the create without members, then
// PATCHes adding them.
func loadData(ctx context.Context, a *api, ds *dataset, o options, progress io.Writer) (*loaded, error) {
	l := &loaded{userIDs: make([]string, o.users), groupIDs: make([]string, o.groups), groups: o.groups}
	var err error
	l.usersLoad, err = loadPhase(ctx, o, progress, "users", o.users, func(ctx context.Context, i int, buf *bytes.Buffer) error {
		if err := matchNone(ctx, a, buf, "/Users", "userName", userName("user", i)); err != nil {
			return err
		}
		b, err := ds.user("user", i)
		if err != nil {
			return fmt.Errorf("encode user %d: %w", i, err)
		}
		l.userIDs[i], err = create(ctx, a, buf, "/Users", b)
		return err
	})
	if err != nil {
		return nil, err
	}
	l.groupsLoad, err = loadPhase(ctx, o, progress, "groups", o.groups, func(ctx context.Context, i int, buf *bytes.Buffer) error {
		if err := matchNone(ctx, a, buf, "/Groups", "displayName", ds.groupName(i)); err != nil {
			return err
		}
		b, err := ds.group(i, nil)
		if err != nil {
			return fmt.Errorf("encode group %d: %w", i, err)
		}
		id, err := create(ctx, a, buf, "/Groups", b)
		if err != nil {
			return err
		}
		l.groupIDs[i] = id
		for ids := range chunks(pickDistinct(l.userIDs, o.members), memberChunk) {
			body, err := membersBody("add", ids)
			if err != nil {
				return err
			}
			if _, err := a.expect(ctx, "PATCH", "/Groups/"+id, body, http.StatusNoContent); err != nil {
				return fmt.Errorf("loading groups: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return l, nil
}

// matchNone asks for the resource whose attr equals value, as an IdP does
// before a create, and expects none.
func matchNone(ctx context.Context, a *api, buf *bytes.Buffer, path, attr, value string) error {
	filter := fmt.Sprintf("%s eq %q", attr, value)
	q := path + "?filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	if path == "/Groups" {
		q += "&excludedAttributes=members"
	}
	r, err := a.do(ctx, "GET", q, nil, buf)
	if err != nil {
		return err
	}
	var list listBody
	if r.status != http.StatusOK || json.Unmarshal(r.body, &list) != nil || list.TotalResults != 0 {
		return fmt.Errorf("loading: %s", describe("GET", q, r, "expected 200 and no resources"))
	}
	return nil
}

// create POSTs body to path and returns the new resource's id.
func create(ctx context.Context, a *api, buf *bytes.Buffer, path string, body []byte) (string, error) {
	r, err := a.do(ctx, "POST", path, body, buf)
	if err != nil {
		return "", err
	}
	var res struct {
		ID string `json:"id"`
	}
	if r.status != http.StatusCreated || json.Unmarshal(r.body, &res) != nil || res.ID == "" {
		return "", fmt.Errorf("loading: %s\nrequest body: %s", describe("POST", path, r, "expected 201 with an id"), body)
	}
	return res.ID, nil
}

// loadPhase runs item for every i in [0, n) on o.concurrency workers and
// times each; the first error stops it.
func loadPhase(ctx context.Context, o options, progress io.Writer, what string, n int,
	item func(ctx context.Context, i int, buf *bytes.Buffer) error) (phase, error) {
	workers := make([][]time.Duration, o.concurrency)
	var done atomic.Int64
	stopProgress := startProgress(progress, "loading "+what, n, &done)
	start := time.Now()
	err := forEach(ctx, n, o.concurrency, func(ctx context.Context, w, i int) error {
		var buf bytes.Buffer
		began := time.Now()
		if err := item(ctx, i, &buf); err != nil {
			return err
		}
		workers[w] = append(workers[w], time.Since(began))
		done.Add(1)
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
