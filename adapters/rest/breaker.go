package rest

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// breaker stops calling an app's API that keeps failing: after threshold
// retryable failures in a row it opens for cooldown, during which tasks
// go to admins at once rather than each waiting out its retries. Then
// one trial request may go (half-open); its success closes the circuit,
// its failure opens it again.
type breaker struct {
	threshold int
	cooldown  time.Duration

	mu        sync.Mutex
	failures  int       // in a row
	openUntil time.Time // zero: closed
	trial     bool      // the half-open trial is in flight
	last      string    // the last failure, for admins
}

// errTrialInFlight: the circuit is half-open and its one trial is out.
var errTrialInFlight = errors.New("the app's API is being tried again after failures in a row; waiting for that trial")

// openError is a request not made because the circuit is open.
type openError struct {
	failures int
	until    time.Time
	last     string
}

func (e *openError) Error() string {
	return fmt.Sprintf("the app's API failed %d times in a row; circuit open until %s (last: %s)",
		e.failures, e.until.UTC().Format(time.RFC3339), e.last)
}

// admit says whether a request may go at now, and whether it is the
// half-open trial (which release or result must end).
func (b *breaker) admit(now time.Time) (trial bool, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.openUntil.IsZero():
		return false, nil
	case now.Before(b.openUntil):
		return false, &openError{failures: b.failures, until: b.openUntil, last: b.last}
	case b.trial:
		return false, errTrialInFlight
	}
	b.trial = true
	return true, nil
}

// release ends an admitted request that was never made.
func (b *breaker) release(trial bool) {
	if !trial {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.trial = false
}

// result records how an admitted request went: failed (a retryable
// failure, described by why) or answered.
func (b *breaker) result(trial, failed bool, why string, now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if trial {
		b.trial = false
	}
	if !failed {
		b.failures, b.openUntil, b.last = 0, time.Time{}, ""
		return
	}
	b.failures++
	b.last = why
	if trial || b.failures >= b.threshold {
		b.openUntil = now.Add(b.cooldown)
	}
}
