package rest_test

import (
	"net/http"
	"strings"
	"sync"
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
		wantKind  string
		wantAfter time.Duration
		wantCalls int64
	}{
		{0, kindNone, 0, 1},
		{10 * time.Second, kindNone, 0, 2},
		{10 * time.Second, kindNone, 0, 3},
		// The 4th within the minute waits for the first's slot.
		{10 * time.Second, kindAfter, 30 * time.Second, 3},
		{29 * time.Second, kindAfter, time.Second, 3},
		{time.Second, kindNone, 0, 4},
		{0, kindAfter, 10 * time.Second, 4},
		{10 * time.Second, kindNone, 0, 5},
	}
	for i, s := range steps {
		clk.Add(s.advance)
		_, err := x.Execute(bg, sampleTask(int64(i+1), "delete"), sampleAccount())
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
	for round := range 2 {
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			done    int
			limited int
		)
		for i := range callers {
			wg.Go(func() {
				_, err := x.Execute(bg, sampleTask(int64(round*callers+i), "delete"), sampleAccount())
				mu.Lock()
				defer mu.Unlock()
				switch errKind(err) {
				case kindNone:
					done++
				case kindAfter:
					limited++
				default:
					t.Errorf("unexpected error: %v", err)
				}
			})
		}
		wg.Wait()
		if done != rate || limited != callers-rate {
			t.Errorf("round %d: %d done and %d rate-limited, want %d and %d", round, done, limited, rate, callers-rate)
		}
		clk.Add(time.Minute)
	}
	if n := a.calls.Load(); n != 2*rate {
		t.Errorf("the app got %d requests, want %d", n, 2*rate)
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
