package main

import (
	"bytes"
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
	// sampleEvery is how often a worker parses a response body to check its
	// content; parsing every one would make the client's JSON decoding part
	// of what is measured. Status codes are checked on every response.
	sampleEvery = 100
	// maxExamples bounds the failed requests kept per scenario for the
	// report.
	maxExamples = 5
	// pageSize is the count of the list scenarios, Okta's page size.
	pageSize = 100
	// transportBackoff keeps a worker from spinning when the server is gone.
	transportBackoff = 10 * time.Millisecond
)

// request is one request a scenario sends and what it expects back.
type request struct {
	method, path string
	body         []byte
	want         int
	// check, if not nil, validates the body of sampled responses.
	check func(body []byte) error
	// verify, if not nil, validates every response; it is for checks that
	// parse nothing, such as of headers.
	verify func(r response) error
	// then, if not nil, is sent unmeasured once this request is answered:
	// it undoes the change, so that every measured request meets the same
	// state.
	then *request
}

// scenario is a request mix. With rate zero its clients are closed-loop:
// each sends its next request as soon as the previous one is answered,
// which measures the most the server can do. With a rate, the clients
// share that many requests a second on a fixed timetable, which measures
// latency at that load. Latency counts from sending: on two shared cores
// the client's own timer wake-ups run late by milliseconds, and counting
// from the timetable would charge that to the server. A client that falls
// behind its timetable sends at once, and a run in which fewer than 99% of
// the scheduled requests were answered fails.
type scenario struct {
	name   string
	rate   float64
	target target
	next   func() (request, error)
	// clients overrides -concurrency when not zero.
	clients int
	// maxRequests, when not zero, ends a closed-loop run after that many
	// requests if -duration has not ended it first. It keeps scenarios
	// whose p99 needs only a few hundred samples short.
	maxRequests int
	// groupSize is the member count of the group a membership PATCH
	// scenario changes, for the report's comparison across sizes.
	groupSize int
	// setup, if not nil, runs before the warm-up, unmeasured: it builds
	// data that only this scenario needs, so that the load stays as the
	// other scenarios expect it.
	setup func(ctx context.Context, a *api, progress io.Writer) error
	// teardown, if not nil, runs after the last run and checks the state
	// the scenario left: a problem counts as an error of the scenario, a
	// returned error stops the benchmark.
	teardown func(ctx context.Context, a *api) (problem string, err error)
}

// scenarios builds the measured scenarios over the loaded data.
func scenarios(ds *dataset, l *loaded, members int) []scenario {
	var newUsers atomic.Int64 // unique numbers for the users POST creates
	pages := (l.groups + pageSize - 1) / pageSize
	randomPageStart := func() int { return 1 + pageSize*rand.IntN(pages) }
	userNameEq := func() (request, error) {
		name := userName("user", rand.IntN(len(l.userIDs)))
		filter := fmt.Sprintf("userName eq %q", randomCase(name))
		// IdPs send %20 for spaces, not the + QueryEscape writes.
		q := strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
		return request{method: "GET", path: "/Users?filter=" + q, want: http.StatusOK, check: checkOneUser(name)}, nil
	}
	return append([]scenario{
		{
			name:   "filter userName eq, paced at 3000 req/s",
			rate:   3000,
			target: target{minRPS: 3000 * pacedShortfall, maxP99: 5 * time.Millisecond, paced: 3000},
			next:   userNameEq,
		},
		{
			name:   "filter userName eq, closed loop (most the server does)",
			target: target{minRPS: 3000},
			next:   userNameEq,
		},
		{
			name:   "POST /Users",
			target: target{minRPS: 1000},
			next: func() (request, error) {
				body, err := ds.user("new", int(newUsers.Add(1)))
				return request{method: "POST", path: "/Users", body: body, want: http.StatusCreated, check: checkHasID}, err
			},
		},
		{
			name:   "GET /Groups excl. members count=100",
			target: target{maxP99: 50 * time.Millisecond},
			next: func() (request, error) {
				start := randomPageStart()
				path := fmt.Sprintf("/Groups?excludedAttributes=members&count=%d&startIndex=%d", pageSize, start)
				return request{method: "GET", path: path, want: http.StatusOK, check: checkGroupPage(l.groups, start, 0)}, nil
			},
		},
		{
			// Okta's import reads an app's group pages one after
			// another; four clients stand for four apps importing at
			// once. Each page holds 100 groups with all their members.
			name:    "GET /Groups with members count=100 (Okta O15), 4 clients",
			clients: 4,
			target:  target{maxP99: 600 * time.Millisecond},
			next: func() (request, error) {
				start := randomPageStart()
				path := fmt.Sprintf("/Groups?count=%d&startIndex=%d", pageSize, start)
				return request{method: "GET", path: path, want: http.StatusOK, check: checkGroupPage(l.groups, start, members)}, nil
			},
		},
		{
			name: "GET /Users/{id}",
			next: func() (request, error) {
				id := l.userIDs[rand.IntN(len(l.userIDs))]
				return request{method: "GET", path: "/Users/" + id, want: http.StatusOK, check: checkID(id)}, nil
			},
		},
		{
			name:    "console pages (overview, queue, accounts, a task), 2 admins",
			clients: 2,
			target:  target{maxP99: 100 * time.Millisecond},
			next: func() (request, error) {
				var path string
				switch rand.IntN(5) {
				case 0:
					path = "/console/"
				case 1:
					path = "/console/tasks?app=" + appName
				case 2:
					path = "/console/tasks?app=" + appName + "&status=open&kind=create"
				case 3:
					path = "/console/accounts?app=" + appName
				default:
					// Every loaded user has a create task; ids start at 1.
					path = fmt.Sprintf("/console/tasks/%d", 1+rand.IntN(len(l.userIDs)))
				}
				return request{method: "GET", path: path, want: http.StatusOK, check: checkConsolePage}, nil
			},
		},
	}, patchScenarios(l)...)
}

// listBody is the part of a ListResponse the checks look at.
type listBody struct {
	TotalResults int `json:"totalResults"`
	ItemsPerPage int `json:"itemsPerPage"`
	Resources    []struct {
		ID       string            `json:"id"`
		UserName string            `json:"userName"`
		Members  []json.RawMessage `json:"members"`
	} `json:"Resources"`
}

func checkOneUser(name string) func([]byte) error {
	return func(body []byte) error {
		var l listBody
		if err := json.Unmarshal(body, &l); err != nil {
			return fmt.Errorf("not a ListResponse: %w", err)
		}
		if l.TotalResults != 1 || len(l.Resources) != 1 {
			return fmt.Errorf("expected totalResults 1 and one resource, got %d and %d", l.TotalResults, len(l.Resources))
		}
		if !strings.EqualFold(l.Resources[0].UserName, name) {
			return fmt.Errorf("expected userName %s, got %s", name, l.Resources[0].UserName)
		}
		return nil
	}
}

// checkGroupPage checks the page starting at start of a list of total
// groups, each of which has members members (none when excluded).
func checkGroupPage(total, start, members int) func([]byte) error {
	return func(body []byte) error {
		var l listBody
		if err := json.Unmarshal(body, &l); err != nil {
			return fmt.Errorf("not a ListResponse: %w", err)
		}
		want := min(pageSize, total-start+1)
		if l.TotalResults != total || len(l.Resources) != want || l.ItemsPerPage != want {
			return fmt.Errorf("expected totalResults %d and %d resources, got %d, %d (itemsPerPage %d)",
				total, want, l.TotalResults, len(l.Resources), l.ItemsPerPage)
		}
		for _, g := range l.Resources {
			if len(g.Members) != members {
				return fmt.Errorf("group %s has %d members, expected %d", g.ID, len(g.Members), members)
			}
		}
		return nil
	}
}

func checkHasID(body []byte) error {
	var r struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.ID == "" {
		return fmt.Errorf("no id in the response")
	}
	return nil
}

func checkID(id string) func([]byte) error {
	return func(body []byte) error {
		var r struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ID != id {
			return fmt.Errorf("expected the user with id %s, got %q", id, r.ID)
		}
		return nil
	}
}

// runResult is one timed run of a scenario.
type runResult struct {
	requests  int // completed HTTP exchanges, failed ones included
	elapsed   time.Duration
	latencies []time.Duration // sorted
	errors    int
	examples  []string
}

func (r runResult) rps() float64         { return float64(r.requests) / r.elapsed.Seconds() }
func (r runResult) p50() time.Duration   { return percentile(r.latencies, 50) }
func (r runResult) p99() time.Duration   { return percentile(r.latencies, 99) }
func (r *runResult) fail(example string) { r.errors++; r.addExample(example) }

func (r *runResult) addExample(e string) {
	if len(r.examples) < maxExamples {
		r.examples = append(r.examples, e)
	}
}

// pacedShortfall is the share of a paced scenario's rate that must be
// answered within the run for the server to count as keeping up.
const pacedShortfall = 0.99

// runFor runs sc on concurrency clients for d, or until they have sent
// sc.maxRequests between them. Requests still in flight at the deadline
// are waited for and counted. A paced run's rate is reckoned over d, the
// length of its schedule.
func runFor(ctx context.Context, a *api, sc scenario, concurrency int, d time.Duration) (runResult, error) {
	results := make([]runResult, concurrency)
	limit := 0 // requests per client; 0 is no limit
	if sc.maxRequests > 0 {
		limit = (sc.maxRequests + concurrency - 1) / concurrency
	}
	start := time.Now()
	deadline := start.Add(d)
	var wg sync.WaitGroup
	for w := range concurrency {
		var sched *schedule
		if sc.rate > 0 {
			// Each client sends every concurrency/rate seconds, the clients
			// spread evenly across that interval.
			interval := time.Duration(float64(concurrency) / sc.rate * float64(time.Second))
			sched = &schedule{next: start.Add(interval * time.Duration(w) / time.Duration(concurrency)), interval: interval}
		}
		wg.Go(func() { results[w] = client(ctx, a, sc, deadline, limit, sched) })
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return runResult{}, err
	}
	out := runResult{elapsed: time.Since(start)}
	if sc.rate > 0 {
		out.elapsed = d
	}
	for _, r := range results {
		out.requests += r.requests
		out.errors += r.errors
		out.latencies = append(out.latencies, r.latencies...)
		for _, e := range r.examples {
			out.addExample(e)
		}
	}
	slices.Sort(out.latencies)
	return out, nil
}

// schedule is a paced client's timetable.
type schedule struct {
	next     time.Time
	interval time.Duration
}

// client is one client: closed-loop, or paced by sched. It sends at most
// limit requests unless limit is 0.
func client(ctx context.Context, a *api, sc scenario, deadline time.Time, limit int, sched *schedule) runResult {
	var res runResult
	var buf bytes.Buffer
	for n := 0; ctx.Err() == nil && (limit == 0 || n < limit); n++ {
		var intended time.Time
		if sched != nil {
			intended = sched.next
			sched.next = sched.next.Add(sched.interval)
			if !intended.Before(deadline) {
				break
			}
			if wait := time.Until(intended); wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return res
				}
			}
		} else if !time.Now().Before(deadline) {
			break
		}
		req, err := sc.next()
		if err != nil {
			res.fail(fmt.Sprintf("build request: %v", err))
			continue
		}
		r, err := a.do(ctx, req.method, req.path, req.body, &buf)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			res.fail(err.Error())
			time.Sleep(transportBackoff)
			continue
		}
		res.requests++
		res.latencies = append(res.latencies, r.latency)
		if problem := judge(req, r, n%sampleEvery == 0); problem != "" {
			res.fail(describe(req.method, req.path, r, problem))
		}
		if req.then == nil {
			continue
		}
		if err := followUp(ctx, a, *req.then, &buf); err != nil {
			if ctx.Err() != nil {
				break
			}
			res.fail(err.Error())
		}
	}
	return res
}

// followUp sends an unmeasured request and checks its answer in full.
func followUp(ctx context.Context, a *api, req request, buf *bytes.Buffer) error {
	r, err := a.do(ctx, req.method, req.path, req.body, buf)
	if err != nil {
		return fmt.Errorf("unmeasured follow-up: %w", err)
	}
	if problem := judge(req, r, true); problem != "" {
		return errors.New("unmeasured follow-up: " + describe(req.method, req.path, r, problem))
	}
	return nil
}

// judge returns what is wrong with r, or "".
func judge(req request, r response, sample bool) string {
	if r.status != req.want {
		return fmt.Sprintf("expected status %d", req.want)
	}
	if req.verify != nil {
		if err := req.verify(r); err != nil {
			return err.Error()
		}
	}
	if sample && req.check != nil {
		if err := req.check(r.body); err != nil {
			return err.Error()
		}
	}
	return ""
}

// summary is a scenario's runs.
type summary struct {
	name         string
	target       target
	groupSize    int
	runs         []runResult
	warmupErrors int
	// finalErrors are problems with the state the scenario left.
	finalErrors int
	examples    []string
}

func (s summary) perRun(f func(runResult) float64) []float64 {
	out := make([]float64, len(s.runs))
	for i, r := range s.runs {
		out[i] = f(r)
	}
	return out
}

func (s summary) rpsValues() []float64 { return s.perRun(runResult.rps) }
func (s summary) medianRPS() float64   { return median(s.rpsValues()) }

func (s summary) medianP50() time.Duration {
	return time.Duration(median(s.perRun(func(r runResult) float64 { return float64(r.p50()) })))
}

func (s summary) medianP99() time.Duration {
	return time.Duration(median(s.perRun(func(r runResult) float64 { return float64(r.p99()) })))
}

// errors counts the errors of the measured runs, of the warm-up and of
// the final state check.
func (s summary) errors() int {
	n := s.warmupErrors + s.finalErrors
	for _, r := range s.runs {
		n += r.errors
	}
	return n
}

// runScenario sets sc up, warms it up, unmeasured, runs it o.runs times
// and tears it down.
func runScenario(ctx context.Context, a *api, sc scenario, o options, progress io.Writer) (summary, error) {
	clients := o.concurrency
	if sc.clients > 0 {
		clients = sc.clients
	}
	s := summary{name: sc.name, target: sc.target, groupSize: sc.groupSize}
	if sc.setup != nil {
		if err := sc.setup(ctx, a, progress); err != nil {
			return s, fmt.Errorf("set-up: %w", err)
		}
	}
	warm, err := runFor(ctx, a, sc, clients, o.warmup)
	if err != nil {
		return s, err
	}
	s.warmupErrors = warm.errors
	s.examples = warm.examples
	for i := range o.runs {
		r, err := runFor(ctx, a, sc, clients, o.duration)
		if err != nil {
			return s, err
		}
		fmt.Fprintf(progress, "%s: run %d/%d: %.0f req/s, p50 %s ms, p99 %s ms, %d errors\n",
			sc.name, i+1, o.runs, r.rps(), ms(r.p50()), ms(r.p99()), r.errors)
		s.runs = append(s.runs, r)
		for _, e := range r.examples {
			if len(s.examples) < maxExamples {
				s.examples = append(s.examples, e)
			}
		}
	}
	if sc.teardown != nil {
		problem, err := sc.teardown(ctx, a)
		if err != nil {
			return s, fmt.Errorf("tear-down: %w", err)
		}
		if problem != "" {
			s.finalErrors++
			// The state check comes first: it sums up what went wrong.
			s.examples = slices.Insert(s.examples, 0, "after the runs: "+problem)
			s.examples = s.examples[:min(len(s.examples), maxExamples)]
		}
	}
	return s, nil
}

// checkConsolePage checks that a console page is the signed-in page, not
// the sign-in form.
func checkConsolePage(body []byte) error {
	if !bytes.Contains(body, []byte(`id="whoami"`)) {
		return errors.New("not a signed-in console page")
	}
	return nil
}
