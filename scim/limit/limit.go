// Package limit keeps request rates in bounds: a token bucket per key (a
// bearer token's id, a client's address), in bounded memory, and the
// client address a request comes from when reverse proxies stand in front.
package limit

import (
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Rate is a token bucket: Burst requests at once, refilled at PerSecond.
// A zero PerSecond means no limit.
type Rate struct {
	PerSecond float64
	Burst     int
}

// Off reports whether r limits nothing.
func (r Rate) Off() bool { return r.PerSecond <= 0 }

// Effective gives a missing burst two seconds' worth of requests:
// clients send in bursts, and a limit should hold their rate, not their
// rhythm.
func (r Rate) Effective() Rate {
	if r.Burst <= 0 {
		r.Burst = max(1, int(math.Ceil(2*r.PerSecond)))
	}
	return r
}

// DefaultMaxKeys bounds the keys a Buckets holds when NewBuckets is given
// none: some megabytes at most.
const DefaultMaxKeys = 100_000

// Buckets holds one token bucket per key, all of the same Rate. A bucket
// left alone until it is full again is dropped, since a new one is the
// same; beyond the most keys, an arbitrary bucket makes room.
type Buckets struct {
	rate    Rate
	refill  time.Duration // from empty to full
	maxKeys int

	mu    sync.Mutex
	keys  map[string]*bucket
	swept time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
	// emptied is set when the bucket runs out, and cleared once it is
	// full again, so that each run of refusals is reported once.
	emptied bool
}

// NewBuckets returns buckets of rate r (which must not be Off) for at
// most maxKeys keys (DefaultMaxKeys when 0).
func NewBuckets(r Rate, maxKeys int) *Buckets {
	r = r.Effective()
	if maxKeys <= 0 {
		maxKeys = DefaultMaxKeys
	}
	return &Buckets{
		rate:    r,
		refill:  time.Duration(float64(r.Burst) / r.PerSecond * float64(time.Second)),
		maxKeys: maxKeys,
		keys:    map[string]*bucket{},
	}
}

// Rate is the buckets' rate, its burst filled in.
func (b *Buckets) Rate() Rate { return b.rate }

// Take takes one token from key's bucket at now. When there is none, ok
// is false and wait is how long until there is. emptied is true for the
// first take that finds the bucket empty since it was last full.
func (b *Buckets) Take(key string, now time.Time) (ok bool, wait time.Duration, emptied bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.get(key, now)
	if bk.lim.AllowN(now, 1) {
		return true, 0, false
	}
	emptied = !bk.emptied
	bk.emptied = true
	return false, b.wait(bk, now), emptied
}

// Spend takes one token from key's bucket at now, if it has one, and
// reports whether that left it empty for the first time since it was
// last full.
func (b *Buckets) Spend(key string, now time.Time) (emptied bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk := b.get(key, now)
	bk.lim.AllowN(now, 1)
	if bk.emptied || bk.lim.TokensAt(now) >= 1 {
		return false
	}
	bk.emptied = true
	return true
}

// Empty reports whether key's bucket has no token at now, and if so how
// long until it has one. It takes nothing.
func (b *Buckets) Empty(key string, now time.Time) (bool, time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	bk, ok := b.keys[key]
	if !ok || bk.lim.TokensAt(now) >= 1 {
		return false, 0
	}
	bk.seen = now
	return true, b.wait(bk, now)
}

// Len is the number of buckets held.
func (b *Buckets) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.keys)
}

// get returns key's bucket, making one (and room for it) if needed.
func (b *Buckets) get(key string, now time.Time) *bucket {
	if now.Sub(b.swept) >= b.refill {
		b.sweep(now)
	}
	bk, ok := b.keys[key]
	if !ok {
		if len(b.keys) >= b.maxKeys {
			b.sweep(now)
		}
		for k := range b.keys {
			if len(b.keys) < b.maxKeys {
				break
			}
			delete(b.keys, k)
		}
		bk = &bucket{lim: rate.NewLimiter(rate.Limit(b.rate.PerSecond), b.rate.Burst)}
		b.keys[key] = bk
	}
	bk.seen = now
	if bk.emptied && bk.lim.TokensAt(now) >= float64(b.rate.Burst) {
		bk.emptied = false
	}
	return bk
}

// sweep drops the buckets that have refilled since their last use.
func (b *Buckets) sweep(now time.Time) {
	for k, bk := range b.keys {
		if now.Sub(bk.seen) >= b.refill {
			delete(b.keys, k)
		}
	}
	b.swept = now
}

// wait is how long until bk holds a token.
func (b *Buckets) wait(bk *bucket, now time.Time) time.Duration {
	missing := 1 - bk.lim.TokensAt(now)
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / b.rate.PerSecond * float64(time.Second))
}

// Seconds is d in whole seconds, rounded up and at least 1: the value of
// a Retry-After header.
func Seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
