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
// A slot carries one request at a time, and the next only a rateWindow
// after the last one's answer: the app saw that request at the latest
// then, so however slow the network, any window of the app's own clock
// sees at most one request per slot.
//
// A task that finds no free slot is promised the earliest one not yet
// promised, and told to come back then: the engine retries it at that
// time, so tasks waiting together come back one slot each rather than
// all at once, most to be turned away again.
type limiter struct {
	mu        sync.Mutex
	slots     []slot // empty: no rate limit
	promises  map[int64]promise
	maxFlight time.Duration
	holdUntil time.Time
}

type slot struct {
	at       time.Time // when its last request's answer came
	inFlight bool
	promised time.Time // the latest time promised to a task; zero: none
}

// promise is a slot kept for a task from a time on.
type promise struct {
	slot int
	at   time.Time
}

// newLimiter allows perMinute requests a minute (0: any number) that
// last at most maxFlight each.
func newLimiter(perMinute int, maxFlight time.Duration) *limiter {
	return &limiter{slots: make([]slot, perMinute), promises: map[int64]promise{}, maxFlight: maxFlight}
}

var errHeld = errors.New("the app asked to wait (Retry-After) before its API is called again")

// take reserves a slot for task id's request at now, or says why not and
// how long to wait. The slot (-1 without a rate limit) goes back with
// done.
func (l *limiter) take(now time.Time, id int64) (int, time.Duration, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.holdUntil) {
		return -1, l.holdUntil.Sub(now), errHeld
	}
	if len(l.slots) == 0 {
		return -1, 0, nil
	}
	l.forget(now)
	if p, ok := l.promises[id]; ok {
		if now.Before(p.at) {
			return -1, p.at.Sub(now), l.full()
		}
		s := &l.slots[p.slot]
		switch free := s.at.Add(rateWindow); {
		case !s.inFlight && !now.Before(free):
			delete(l.promises, id)
			s.inFlight = true
			return p.slot, 0, nil
		case !s.inFlight:
			// The request before ran late: the same slot, a little later.
			l.promises[id] = promise{slot: p.slot, at: free}
			s.promised = later(s.promised, free)
			return -1, free.Sub(now), l.full()
		}
		delete(l.promises, id)
	}
	best, bestAt := 0, time.Time{}
	for i, s := range l.slots {
		at := l.freeAt(s, now)
		if i == 0 || at.Before(bestAt) {
			best, bestAt = i, at
		}
	}
	if !bestAt.After(now) {
		l.slots[best].inFlight = true
		return best, 0, nil
	}
	l.promises[id] = promise{slot: best, at: bestAt}
	l.slots[best].promised = bestAt
	return -1, bestAt.Sub(now), l.full()
}

// freeAt is the earliest time slot s may carry a request no task was
// promised.
func (l *limiter) freeAt(s slot, now time.Time) time.Time {
	at := s.at.Add(rateWindow)
	if s.inFlight {
		// Answered at most maxFlight from now.
		at = now.Add(l.maxFlight + rateWindow)
	}
	if !s.promised.IsZero() {
		at = later(at, s.promised.Add(rateWindow))
	}
	return at
}

// forget drops the promises of tasks that did not come back within a
// window of their time (cancelled, or handed to an admin).
func (l *limiter) forget(now time.Time) {
	for id, p := range l.promises {
		if now.After(p.at.Add(rateWindow)) {
			delete(l.promises, id)
		}
	}
}

func (l *limiter) full() error {
	return fmt.Errorf("the app's API allows %d requests a minute, all taken", len(l.slots))
}

// done records that the request in slot i was answered (or failed) at now.
func (l *limiter) done(i int, now time.Time) {
	if i < 0 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.slots[i].at, l.slots[i].inFlight = now, false
}

// hold stops every request until until, as the app asked.
func (l *limiter) hold(until time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.holdUntil = later(l.holdUntil, until)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
