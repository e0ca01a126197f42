package rest

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// rateWindow is the span the rate limit counts requests in.
const rateWindow = time.Minute

// limiter keeps an app's requests to at most len(slots) in any
// rateWindow, and holds them all while the app asked to wait
// (Retry-After).
//
// A slot is a request: taken when it starts, and counted from when its
// answer came. The app sees a request somewhere between the two, so
// counting from the answer keeps any rateWindow of the app's own clock
// within the limit, however slow the network.
type limiter struct {
	mu        sync.Mutex
	slots     []slot // empty: no rate limit
	maxFlight time.Duration
	holdUntil time.Time
}

type slot struct {
	at       time.Time // when the request's answer came; zero: never used
	inFlight bool
}

// newLimiter allows perMinute requests a minute (0: any number) that
// last at most maxFlight each.
func newLimiter(perMinute int, maxFlight time.Duration) *limiter {
	return &limiter{slots: make([]slot, perMinute), maxFlight: maxFlight}
}

var errHeld = errors.New("the app asked to wait (Retry-After) before its API is called again")

// take reserves a slot for a request at now, or says why not and how
// long until one may be free. The slot (-1 without a rate limit) goes
// back with done.
func (l *limiter) take(now time.Time) (int, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.holdUntil) {
		return -1, l.holdUntil.Sub(now), errHeld
	}
	if len(l.slots) == 0 {
		return -1, 0, nil
	}
	wait := time.Duration(-1)
	for i, s := range l.slots {
		var w time.Duration
		if s.inFlight {
			// Free at most maxFlight from now, then counted for a window.
			w = l.maxFlight + rateWindow
		} else {
			w = s.at.Add(rateWindow).Sub(now)
			if s.at.IsZero() || w <= 0 {
				l.slots[i] = slot{inFlight: true}
				return i, 0, nil
			}
		}
		if wait < 0 || w < wait {
			wait = w
		}
	}
	return -1, wait, fmt.Errorf("the app's API allows %d requests a minute, all taken", len(l.slots))
}

// done records that the request in slot i was answered (or failed) at now.
func (l *limiter) done(i int, now time.Time) {
	if i < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slots[i] = slot{at: now}
}

// hold stops every request until until, as the app asked.
func (l *limiter) hold(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if until.After(l.holdUntil) {
		l.holdUntil = until
	}
}
