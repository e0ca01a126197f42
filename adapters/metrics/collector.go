package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// taskStatuses and accountStates are always reported, zero or not, so
// that a series does not vanish when its count drops to nothing.
func taskStatuses() []task.Status {
	return []task.Status{task.AwaitingApproval, task.Open, task.Claimed, task.Done, task.Verified,
		task.Failed, task.Cancelled, task.Superseded, task.Rejected}
}

func accountStates() []account.State {
	return []account.State{account.Pending, account.AwaitingLogin, account.Active, account.Blocked,
		account.Deactivated, account.Deleted, account.Absent}
}

// stateCollector reads scimbridge's state from the database when it is
// scraped. Every read is a counter the triggers keep or a bounded index
// lookup, so a scrape costs the same on a big directory as on a small one
// (seats, which count an app's active accounts by role, are read only for
// apps with seat limits).
type stateCollector struct {
	db      *sqlite.DB
	eng     *engine.Engine
	apps    []string
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time

	outboxPending, outboxAge              *prometheus.Desc
	tasks, overdue, accounts              *prometheus.Desc
	seatsUsed, seatsPending, seatsLimit   *prometheus.Desc
	notifications, stateUp, stateDuration *prometheus.Desc
}

func newStateCollector(cfg Config) *stateCollector {
	d := prometheus.NewDesc
	return &stateCollector{
		db: cfg.DB, eng: cfg.Engine, apps: cfg.Apps, timeout: cfg.Timeout, log: cfg.Logger,
		now: func() time.Time { return time.Now().UTC() },

		outboxPending: d("scimbridge_outbox_pending_events",
			"Change events recorded but not yet handled, by consumer of the outbox.", []string{"consumer"}, nil),
		outboxAge: d("scimbridge_outbox_oldest_pending_age_seconds",
			"Age of the oldest change event not yet handled (0 when none waits), by consumer.", []string{"consumer"}, nil),
		tasks: d("scimbridge_tasks",
			"Tasks by app and status.", []string{"app", "status"}, nil),
		overdue: d("scimbridge_tasks_overdue",
			"Pending tasks past their deadline, by app.", []string{"app"}, nil),
		accounts: d("scimbridge_accounts",
			"Accounts in downstream apps by app and state.", []string{"app", "state"}, nil),
		seatsUsed: d("scimbridge_seats_used",
			"Seats held by active accounts, by app and licensed module.", []string{"app", "module"}, nil),
		seatsPending: d("scimbridge_seats_pending",
			"Seats that pending tasks are about to give, by app and module.", []string{"app", "module"}, nil),
		seatsLimit: d("scimbridge_seats_limit",
			"Seats bought, by app and module (only modules with a known limit); enforced says whether the app refuses more.",
			[]string{"app", "module", "enforced"}, nil),
		notifications: d("scimbridge_notifications_undelivered",
			"Notifications not delivered to every webhook: waiting for a first or further attempt (pending) or given up (kept until pruned).",
			[]string{"state"}, nil),
		stateUp: d("scimbridge_state_up",
			"1 when this scrape read all of scimbridge's state from the database, 0 when a read failed (see the log).", nil, nil),
		stateDuration: d("scimbridge_state_scrape_duration_seconds",
			"Time this scrape spent reading scimbridge's state from the database.", nil, nil),
	}
}

func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.outboxPending, c.outboxAge, c.tasks, c.overdue, c.accounts,
		c.seatsUsed, c.seatsPending, c.seatsLimit, c.notifications, c.stateUp, c.stateDuration} {
		ch <- d
	}
}

func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	// The Collector interface has no context: the timeout is this scrape's own.
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	start := time.Now()
	err := c.collect(ctx, ch)
	up := 1.0
	if err != nil {
		up = 0
		c.log.Warn("metrics: reading scimbridge's state failed", "error", err)
	}
	ch <- prometheus.MustNewConstMetric(c.stateUp, prometheus.GaugeValue, up)
	ch <- prometheus.MustNewConstMetric(c.stateDuration, prometheus.GaugeValue, time.Since(start).Seconds())
}

// collect sends what it can read and returns every failure: one app's
// error leaves the others' metrics in place.
func (c *stateCollector) collect(ctx context.Context, ch chan<- prometheus.Metric) error {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	var errs []error
	if n, oldest, err := c.eng.Backlog(ctx); err != nil {
		errs = append(errs, err)
	} else {
		age := 0.0
		if !oldest.IsZero() {
			age = max(0, c.now().Sub(oldest).Seconds())
		}
		gauge(c.outboxPending, float64(n), engine.Consumer)
		gauge(c.outboxAge, age, engine.Consumer)
	}
	q := queue.In(c.db.ReadSQL())
	now := c.now()
	for _, app := range c.apps {
		if err := c.collectApp(ctx, q, app, now, gauge); err != nil {
			errs = append(errs, fmt.Errorf("app %s: %w", app, err))
		}
	}
	if trying, givenUp, err := q.CountUndelivered(ctx); err != nil {
		errs = append(errs, err)
	} else {
		gauge(c.notifications, float64(trying), "pending")
		gauge(c.notifications, float64(givenUp), "given_up")
	}
	return errors.Join(errs...)
}

func (c *stateCollector) collectApp(ctx context.Context, q queue.Queue, app string, now time.Time,
	gauge func(*prometheus.Desc, float64, ...string)) error {
	tasks, err := q.CountTasks(ctx, app, now)
	if err != nil {
		return err
	}
	accounts, err := q.CountAccounts(ctx, app)
	if err != nil {
		return err
	}
	seats, err := c.eng.SeatUse(ctx, app)
	if err != nil {
		return err
	}
	for _, s := range taskStatuses() {
		gauge(c.tasks, float64(tasks.ByStatus[s]), app, string(s))
	}
	// A status this list does not know yet is still reported.
	for s, n := range tasks.ByStatus {
		if !task.Known(s) {
			gauge(c.tasks, float64(n), app, string(s))
		}
	}
	gauge(c.overdue, float64(tasks.Overdue), app)
	known := map[account.State]bool{}
	for _, s := range accountStates() {
		known[s] = true
		gauge(c.accounts, float64(accounts[s]), app, string(s))
	}
	for s, n := range accounts {
		if !known[s] {
			gauge(c.accounts, float64(n), app, string(s))
		}
	}
	for _, m := range seats {
		gauge(c.seatsUsed, float64(m.Used), app, m.Module)
		gauge(c.seatsPending, float64(m.Pending), app, m.Module)
		if m.Limit > 0 {
			gauge(c.seatsLimit, float64(m.Limit), app, m.Module, strconv.FormatBool(m.Enforced))
		}
	}
	return nil
}
