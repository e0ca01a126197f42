package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// Options tune a Sender. The zero value is a sensible default.
type Options struct {
	// Poll is how often the outbox is read for due notifications.
	// Default 1s.
	Poll time.Duration
	// Timeout bounds each request, answer included. Default 10s.
	Timeout time.Duration
	// MinBackoff is the wait after a first failure; each further failure
	// doubles it, up to MaxBackoff, with jitter. Defaults 10s and 1h.
	MinBackoff, MaxBackoff time.Duration
	// MaxAttempts is how many rounds of requests a notification gets
	// before it is given up. Default 16: with the default backoff, four
	// to eight and a half hours of trying.
	MaxAttempts int
	// Concurrency bounds the notifications being delivered at once;
	// PerWebhook the requests in flight to one webhook. Defaults 8 and 2.
	Concurrency, PerWebhook int
	// Client makes the requests. Default: one that does not follow
	// redirects (a redirect is a failure).
	Client *http.Client
	// UserAgent is sent with every request. Default "scimbridge".
	UserAgent string
	// Delivered, when set, learns the outcome of each request to a
	// webhook, named by its Label, as it happens (for metrics).
	Delivered func(webhook string, ok bool)
}

func (o Options) withDefaults() Options {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Poll, time.Second)
	def(&o.Timeout, 10*time.Second)
	def(&o.MinBackoff, 10*time.Second)
	def(&o.MaxBackoff, time.Hour)
	o.MaxBackoff = max(o.MaxBackoff, o.MinBackoff)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 16
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.PerWebhook <= 0 {
		o.PerWebhook = 2
	}
	if o.Client == nil {
		o.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if o.UserAgent == "" {
		o.UserAgent = "scimbridge"
	}
	return o
}

// How long delivered and given-up notifications are kept, and how often
// older ones are deleted.
const (
	keepFinished = 30 * 24 * time.Hour
	pruneEvery   = time.Hour
)

// Sender delivers the outbox's due notifications to the webhooks that
// want them. A receiver that fails or hangs is retried with backoff and
// paused meanwhile, so the others keep getting theirs.
type Sender struct {
	db    *sqlite.DB
	hooks []*hook
	log   *slog.Logger
	opt   Options
	now   func() time.Time

	slots chan struct{} // notifications being delivered
	wg    sync.WaitGroup
	mu    sync.Mutex
	busy  map[int64]bool // ids being delivered, not to start twice
}

// hook is a webhook and what the sender knows of its health.
type hook struct {
	Webhook
	key, label string
	slots      chan struct{} // requests in flight

	mu          sync.Mutex
	failures    int       // in a row
	pausedUntil time.Time // no requests before, after a failure
}

// New returns a sender of db's outbox to hooks. Run starts it.
func New(db *sqlite.DB, hooks []Webhook, log *slog.Logger, opt Options) (*Sender, error) {
	if log == nil {
		log = slog.Default()
	}
	opt = opt.withDefaults()
	s := &Sender{db: db, log: log, opt: opt, now: func() time.Time { return time.Now().UTC() },
		slots: make(chan struct{}, opt.Concurrency), busy: map[int64]bool{}}
	keys := map[string]bool{}
	for i, w := range hooks {
		if !slices.Contains(Formats(), w.format()) {
			return nil, fmt.Errorf("webhook %d (%s): unknown format %q", i+1, w.Label(), w.Format)
		}
		h := &hook{Webhook: w, key: w.Key(), label: w.Label(), slots: make(chan struct{}, opt.PerWebhook)}
		if keys[h.key] {
			return nil, fmt.Errorf("webhook %d (%s): the same URL and format twice", i+1, h.label)
		}
		keys[h.key] = true
		s.hooks = append(s.hooks, h)
	}
	return s, nil
}

// Run delivers notifications until ctx ends, then waits for the rounds
// in flight: their requests are cancelled, and what they achieved is
// recorded, so the database must stay open until Run returns.
func (s *Sender) Run(ctx context.Context) error {
	defer s.wg.Wait()
	t := time.NewTicker(s.opt.Poll)
	defer t.Stop()
	var pruned time.Time
	for {
		now := s.now()
		if now.Sub(pruned) >= pruneEvery {
			pruned = now
			s.prune(ctx, now)
		}
		if err := s.start(ctx, now); err != nil && ctx.Err() == nil {
			s.log.Error("reading the notification outbox failed; retrying", "error", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (s *Sender) prune(ctx context.Context, now time.Time) {
	var n int64
	err := s.db.Update(ctx, func(tx store.Tx) error {
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		n, err = q.PruneNotifications(ctx, now.Add(-keepFinished))
		return err
	})
	switch {
	case err != nil && ctx.Err() == nil:
		s.log.Error("deleting old notifications failed", "error", err)
	case n > 0:
		s.log.Debug("deleted old notifications", "count", n)
	}
}

// start begins a round of delivery for as many due notifications as
// there are free slots.
func (s *Sender) start(ctx context.Context, now time.Time) error {
	if err := s.settleUnwanted(ctx, now); err != nil {
		return err
	}
	free := cap(s.slots) - len(s.slots)
	if free <= 0 {
		return nil
	}
	s.mu.Lock()
	inFlight := len(s.busy)
	s.mu.Unlock()
	due, err := queue.In(s.db.ReadSQL()).DueNotifications(ctx, now, free+inFlight)
	if err != nil {
		return err
	}
	for _, n := range due {
		if !s.claim(n.ID) {
			continue
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.unclaim(n.ID)
			return nil
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() { <-s.slots; s.unclaim(n.ID) }()
			s.round(ctx, n.ID)
		}()
	}
	return nil
}

// settleBatch bounds the notifications one statement marks as wanted by
// no webhook.
const settleBatch = 5000

// settleUnwanted marks the notifications no webhook wants as done, in
// bulk, so that they cost no round (and no write) each.
func (s *Sender) settleUnwanted(ctx context.Context, now time.Time) error {
	wanted := make([]queue.Interest, len(s.hooks))
	for i, h := range s.hooks {
		wanted[i] = queue.Interest{Kinds: h.Events, Apps: h.Apps}
	}
	for {
		var n int64
		err := s.db.Update(ctx, func(tx store.Tx) error {
			q, err := queueOf(tx)
			if err != nil {
				return err
			}
			n, err = q.SettleUnwanted(ctx, now, wanted, settleBatch)
			return err
		})
		if err != nil || n < settleBatch {
			return err
		}
	}
}

func (s *Sender) claim(id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		return false
	}
	s.busy[id] = true
	return true
}

func (s *Sender) unclaim(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.busy, id)
}

// result is what one webhook made of one round.
type result struct {
	h *hook
	// waited: no request was made (the webhook is paused or busy, or the
	// sender is stopping); the webhook can be tried again at ready.
	waited bool
	ready  time.Time
	err    error
	// retryAfter is the receiver's Retry-After, if it sent one.
	retryAfter time.Duration
}

// round sends n to every webhook that wants it and lacks it, at once,
// and records the outcome.
func (s *Sender) round(ctx context.Context, id int64) {
	now := s.now()
	// Read afresh: the list that named id may predate the record of the
	// round before, and its SentTo would send twice.
	n, err := queue.In(s.db.ReadSQL()).Notification(ctx, id)
	if err != nil {
		if ctx.Err() == nil && !errors.Is(err, queue.ErrNoNotification) {
			s.log.Error("reading a notification failed", "notification", id, "error", err)
		}
		return
	}
	if !n.Delivered.IsZero() || n.NextAttempt.IsZero() || n.NextAttempt.After(now) {
		return
	}
	var pending []*hook
	for _, h := range s.hooks {
		if h.Wants(n.Kind, n.App) && !slices.Contains(n.SentTo, h.key) {
			pending = append(pending, h)
		}
	}
	bodies := map[string][]byte{}
	for _, h := range pending {
		f := h.format()
		if _, ok := bodies[f]; ok {
			continue
		}
		b, err := Body(f, n)
		if err != nil {
			// Retrying cannot mend a payload.
			s.log.Error("a notification cannot be delivered; giving up", "notification", n.ID, "event", n.Kind, "error", err)
			s.record(ctx, n, func(ctx context.Context, q queue.Queue) error {
				return q.MarkFailed(ctx, n.ID, time.Time{}, queue.Progress{Attempts: n.Attempts, SentTo: n.SentTo, Error: err.Error()})
			})
			return
		}
		bodies[f] = b
	}

	results := make([]result, len(pending))
	var wg sync.WaitGroup
	for i, h := range pending {
		if ready, ok := h.acquire(now); !ok {
			results[i] = result{h: h, waited: true, ready: ready}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer h.release()
			results[i] = s.post(ctx, h, n, bodies[h.format()])
		}()
	}
	wg.Wait()

	p := queue.Progress{Attempts: n.Attempts, SentTo: slices.Clone(n.SentTo)}
	if slices.ContainsFunc(results, func(r result) bool { return !r.waited }) {
		p.Attempts++
	}
	// A webhook that failed is tried again after the notification's
	// backoff and its own, whichever is later; one that only waited, as
	// soon as it is free, so that a busy receiver is not held back by a
	// failing one.
	retry := now.Add(s.backoff(p.Attempts))
	var next time.Time
	earliest := func(t time.Time) {
		if next.IsZero() || t.Before(next) {
			next = t
		}
	}
	for _, r := range results {
		switch {
		case r.waited:
			earliest(r.ready)
		case r.err == nil:
			p.SentTo = append(p.SentTo, r.h.key)
			r.h.succeeded()
			s.log.Debug("webhook delivered", "webhook", r.h.label, "event", n.Kind, "notification", n.ID)
			s.delivered(r.h.label, true)
		default:
			p.Error = r.h.label + ": " + r.err.Error()
			s.delivered(r.h.label, false)
			earliest(later(r.h.failed(now, r.retryAfter, s.backoff), retry))
		}
	}
	switch {
	case len(p.SentTo) == len(n.SentTo)+len(pending):
		s.record(ctx, n, func(ctx context.Context, q queue.Queue) error { return q.MarkDelivered(ctx, n.ID, now, p) })
	case p.Error != "" && p.Attempts >= s.opt.MaxAttempts:
		s.log.Error("webhook delivery failed; giving up", "event", n.Kind, "notification", n.ID,
			"attempts", p.Attempts, "error", p.Error)
		s.record(ctx, n, func(ctx context.Context, q queue.Queue) error { return q.MarkFailed(ctx, n.ID, time.Time{}, p) })
	default:
		if p.Error != "" {
			s.log.Warn("webhook delivery failed; retrying", "event", n.Kind, "notification", n.ID,
				"attempts", p.Attempts, "error", p.Error, "next_attempt", next)
		}
		s.record(ctx, n, func(ctx context.Context, q queue.Queue) error { return q.MarkFailed(ctx, n.ID, next, p) })
	}
}

func (s *Sender) delivered(webhook string, ok bool) {
	if s.opt.Delivered != nil {
		s.opt.Delivered(webhook, ok)
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// record writes a round's outcome. It runs even while the sender stops,
// so that deliveries made are not made again.
func (s *Sender) record(ctx context.Context, n queue.Notification, fn func(context.Context, queue.Queue) error) {
	ctx = context.WithoutCancel(ctx)
	err := s.db.Update(ctx, func(tx store.Tx) error {
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		return fn(ctx, q)
	})
	if err != nil {
		s.log.Error("recording a webhook delivery failed; it may be repeated", "notification", n.ID, "error", err)
	}
}

// backoff is the wait before attempt n+1: MinBackoff doubled per
// attempt, at most MaxBackoff, less up to half of it at random, so that
// receivers that come back are not hit by every sender at once.
func (s *Sender) backoff(n int) time.Duration {
	d := s.opt.MinBackoff
	for i := 1; i < n && d < s.opt.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, s.opt.MaxBackoff)
	return d - rand.N(d/2+1)
}

// acquire takes a request slot of h; when h is paused or full it says
// when to come back instead.
func (h *hook) acquire(now time.Time) (ready time.Time, ok bool) {
	h.mu.Lock()
	paused := h.pausedUntil
	h.mu.Unlock()
	if now.Before(paused) {
		return paused, false
	}
	select {
	case h.slots <- struct{}{}:
		return time.Time{}, true
	default:
		return now, false
	}
}

func (h *hook) release() { <-h.slots }

func (h *hook) succeeded() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures, h.pausedUntil = 0, time.Time{}
}

// maxRetryAfter bounds how long a receiver's Retry-After can hold a
// notification back.
const maxRetryAfter = 24 * time.Hour

// failed pauses h after a failure at now, for its backoff or as long as
// the receiver asked, and returns when it may be tried again.
func (h *hook) failed(now time.Time, retryAfter time.Duration, backoff func(int) time.Duration) time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.failures++
	wait := max(backoff(h.failures), min(retryAfter, maxRetryAfter))
	h.pausedUntil = later(h.pausedUntil, now.Add(wait))
	return h.pausedUntil
}

var errNotSQLite = errors.New("notify: the outbox needs the SQLite store")

func queueOf(tx store.Tx) (queue.Queue, error) {
	s, ok := sqlite.TxSQL(tx)
	if !ok {
		return queue.Queue{}, errNotSQLite
	}
	return queue.In(s), nil
}
