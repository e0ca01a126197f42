package rest_test

import (
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/rest"
)

var deleteAction = map[string]rest.Action{"delete": {Method: "DELETE", URL: "{{.Base}}/u/{{.Account.AppUserID}}"}}

func TestRateLimit(t *testing.T) {
	a := newApp(t, status(http.StatusNoContent))
	x, clk, _ := newExecutor(t, a, rest.Config{RatePerMinute: 3, Actions: deleteAction})
	steps := []struct {
		advance   time.Duration
		task      int64
		wantKind  string
		wantAfter time.Duration
		wantCalls int64
	}{
		{0, 1, kindNone, 0, 1},
		{10 * time.Second, 2, kindNone, 0, 2},
		{10 * time.Second, 3, kindNone, 0, 3},
		// Within the minute, each task is promised its own slot: the
		// first's at 60s, the second's at 70s, ...
		{10 * time.Second, 4, kindAfter, 30 * time.Second, 3},
		{0, 5, kindAfter, 40 * time.Second, 3},
		{0, 6, kindAfter, 50 * time.Second, 3},
		{0, 7, kindAfter, 90 * time.Second, 3},
		// Back early: still waiting, for the same time.
		{20 * time.Second, 4, kindAfter, 10 * time.Second, 3},
		{10 * time.Second, 4, kindNone, 0, 4},
		// A new task queues behind the promises.
		{0, 8, kindAfter, 70 * time.Second, 4},
		{10 * time.Second, 5, kindNone, 0, 5},
		{10 * time.Second, 6, kindNone, 0, 6},
		{40 * time.Second, 7, kindNone, 0, 7},
	}
	for i, s := range steps {
		clk.Add(s.advance)
		_, err := x.Execute(bg, sampleTask(s.task, "delete"), sampleAccount())
		if got := errKind(err); got != s.wantKind {
			t.Fatalf("step %d: error %v is %s, want %s", i, err, got, s.wantKind)
		}
		if s.wantKind == kindAfter && retryAfterOf(err) != s.wantAfter {
			t.Errorf("step %d: After = %v, want %v", i, retryAfterOf(err), s.wantAfter)
		}
		if n := a.calls.Load(); n != s.wantCalls {
			t.Errorf("step %d: the app got %d requests, want %d", i, n, s.wantCalls)
		}
	}
}

func TestRateLimitIsSharedByConcurrentCalls(t *testing.T) {
	const rate, callers = 4, 12
	a := newApp(t, status(http.StatusOK))
	x, clk, _ := newExecutor(t, a, rest.Config{RatePerMinute: rate, Actions: deleteAction})
	tasks := make([]int64, callers)
	for i := range tasks {
		tasks[i] = int64(i + 1)
	}
	// Each round, as many go as there are slots; the others are told to
	// come back later, in turns.
	for round, want := range []int{4, 4, 4} {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			waiting []int64
		)
		for _, id := range tasks {
			wg.Go(func() {
				_, err := x.Execute(bg, sampleTask(id, "delete"), sampleAccount())
				mu.Lock()
				defer mu.Unlock()
				switch errKind(err) {
				case kindNone:
				case kindAfter:
					waiting = append(waiting, id)
				default:
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		if done := len(tasks) - len(waiting); done != want {
			t.Errorf("round %d: %d done, want %d", round, done, want)
		}
		tasks = waiting
		// Slots still in flight when promised count the longest a
		// request may last (the 15s default timeout).
		clk.Add(time.Minute + 15*time.Second)
	}
	if n := a.calls.Load(); n != callers {
		t.Errorf("the app got %d requests, want %d", n, callers)
	}
}

func TestCircuitBreaker(t *testing.T) {
	var (
		mu   sync.Mutex
		code = http.StatusInternalServerError
	)
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		mu.Lock()
		defer mu.Unlock()
		w.WriteHeader(code)
	})
	x, clk, _ := newExecutor(t, a, rest.Config{BreakerCooldown: 5 * time.Minute, Actions: deleteAction})
	run := func(id int64) error {
		_, err := x.Execute(bg, sampleTask(id, "delete"), sampleAccount())
		return err
	}
	for i := range 5 {
		if err := run(int64(i)); errKind(err) != kindPlain {
			t.Fatalf("failure %d: %v, want a plain retryable error", i+1, err)
		}
	}
	err := run(6)
	if errKind(err) != kindRefused || !strings.Contains(err.Error(), "failed 5 times in a row; circuit open until 2030-03-04T10:05:00Z") {
		t.Fatalf("6th: %v, want the open circuit's refusal", err)
	}
	if !strings.Contains(err.Error(), "500") {
		t.Errorf("the refusal %q does not say the last failure", err)
	}
	if n := a.calls.Load(); n != 5 {
		t.Fatalf("the app got %d requests, want 5", n)
	}

	// After the cooldown one trial goes; its failure opens it again.
	clk.Add(5 * time.Minute)
	if err := run(7); errKind(err) != kindPlain {
		t.Fatalf("failing trial: %v", err)
	}
	if err := run(8); errKind(err) != kindRefused {
		t.Fatalf("after a failed trial: %v, want refused", err)
	}
	if n := a.calls.Load(); n != 6 {
		t.Fatalf("the app got %d requests, want 6", n)
	}

	// A successful trial closes it.
	clk.Add(5 * time.Minute)
	mu.Lock()
	code = http.StatusOK
	mu.Unlock()
	for i := range 3 {
		if err := run(int64(10 + i)); err != nil {
			t.Fatalf("after a successful trial: %v", err)
		}
	}
	if n := a.calls.Load(); n != 9 {
		t.Errorf("the app got %d requests, want 9", n)
	}
}

func TestCircuitHalfOpenAllowsOneTrial(t *testing.T) {
	release := make(chan struct{})
	var fail sync.Once
	a := newApp(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		failing := false
		fail.Do(func() { failing = true })
		if failing {
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		<-release
		w.WriteHeader(http.StatusOK)
	})
	x, clk, _ := newExecutor(t, a, rest.Config{BreakerFailures: 1, Actions: deleteAction})
	if _, err := x.Execute(bg, sampleTask(1, "delete"), sampleAccount()); errKind(err) != kindPlain {
		t.Fatalf("first: %v", err)
	}
	clk.Add(defaultCooldown)
	trial := make(chan error)
	go func() {
		_, err := x.Execute(bg, sampleTask(2, "delete"), sampleAccount())
		trial <- err
	}()
	for a.calls.Load() < 2 {
		time.Sleep(time.Millisecond)
	}
	// While the trial is out, others wait rather than go to admins.
	_, err := x.Execute(bg, sampleTask(3, "delete"), sampleAccount())
	if errKind(err) != kindAfter {
		t.Errorf("during the trial: %v, want retry after", err)
	}
	close(release)
	if err := <-trial; err != nil {
		t.Fatalf("trial: %v", err)
	}
	if _, err := x.Execute(bg, sampleTask(3, "delete"), sampleAccount()); err != nil {
		t.Errorf("after the trial: %v", err)
	}
}

const defaultCooldown = 5 * time.Minute

func TestRefusalsDoNotOpenTheCircuit(t *testing.T) {
	a := newApp(t, status(http.StatusNotFound))
	x, _, _ := newExecutor(t, a, rest.Config{BreakerFailures: 2, Actions: deleteAction})
	for i := range 5 {
		if _, err := x.Execute(bg, sampleTask(int64(i), "delete"), sampleAccount()); errKind(err) != kindRefused || strings.Contains(err.Error(), "circuit") {
			t.Fatalf("call %d: %v, want the app's refusal", i, err)
		}
	}
	if n := a.calls.Load(); n != 5 {
		t.Errorf("the app got %d requests, want 5", n)
	}
}

// The app may see a request as late as its answer, so the window counts
// from the answer: a slow call holds its slot longer.
func TestRateLimitCountsFromTheAnswer(t *testing.T) {
	var clk *clock
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		clk.Add(5 * time.Second) // a slow answer
		w.WriteHeader(http.StatusOK)
	})
	x, c, _ := newExecutor(t, a, rest.Config{RatePerMinute: 1, Actions: deleteAction})
	clk = c
	if _, err := x.Execute(bg, sampleTask(1, "delete"), sampleAccount()); err != nil {
		t.Fatal(err)
	}
	clk.Add(55 * time.Second) // a minute after the request began
	_, err := x.Execute(bg, sampleTask(2, "delete"), sampleAccount())
	if retryAfterOf(err) != 5*time.Second {
		t.Errorf("err = %v, want to retry after 5s", err)
	}
}

// A task whose promised slot is still counting a late answer keeps its
// place, a little later.
func TestRateLimitPromiseAfterALateAnswer(t *testing.T) {
	var (
		clk  *clock
		slow atomic.Bool
	)
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if slow.Load() {
			clk.Add(5 * time.Second)
		}
		w.WriteHeader(http.StatusOK)
	})
	x, c, _ := newExecutor(t, a, rest.Config{RatePerMinute: 1, Actions: deleteAction})
	clk = c
	run := func(id int64) error {
		_, err := x.Execute(bg, sampleTask(id, "delete"), sampleAccount())
		return err
	}
	if err := run(1); err != nil {
		t.Fatal(err)
	}
	clk.Add(10 * time.Second)
	if err := run(2); retryAfterOf(err) != 50*time.Second {
		t.Fatalf("task 2: %v, want to come back at 60s", err)
	}
	if err := run(3); retryAfterOf(err) != 110*time.Second {
		t.Fatalf("task 3: %v, want to come back at 120s", err)
	}
	clk.Add(50 * time.Second)
	slow.Store(true)
	if err := run(2); err != nil { // answered at 65s
		t.Fatal(err)
	}
	slow.Store(false)
	clk.Add(55 * time.Second)
	if err := run(3); retryAfterOf(err) != 5*time.Second {
		t.Fatalf("task 3 at 120s: %v, want 5s more", err)
	}
	clk.Add(5 * time.Second)
	if err := run(3); err != nil {
		t.Fatalf("task 3 at 125s: %v", err)
	}
}
