package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// Executor carries out tasks through one app's API. It is safe for
// concurrent use; its rate limit and circuit breaker are shared by all
// its calls.
type Executor struct {
	app     string
	base    *url.URL
	actions map[string]*compiled
	client  *http.Client
	timeout time.Duration
	log     *slog.Logger
	now     func() time.Time
	limit   *limiter
	breaker *breaker
	scrub   scrubber
}

var _ engine.Executor = (*Executor)(nil)

// Outcomes, as logged.
const (
	outDone         = "done"
	outRetry        = "retry"
	outRefused      = "refused"
	outUnrenderable = "unrenderable"
	outCircuitOpen  = "circuit_open"
	outThrottled    = "throttled"
	outCancelled    = "cancelled"
)

// Execute makes the call of t's kind. Its errors are final (engine.Refused)
// when retrying cannot help, engine.RetryAfter when the app or the rate
// limit says when to come back, and plain when backoff may help.
func (x *Executor) Execute(ctx context.Context, t task.Task, a account.Account) (engine.Result, error) {
	c, ok := x.actions[t.Kind]
	if !ok {
		return engine.Result{}, engine.Refused(fmt.Errorf("the app's API has no action for %s; do it by hand", t.Kind))
	}
	start := x.now()
	logAt := func(level slog.Level, outcome string, status int) {
		x.log.LogAttrs(ctx, level, "app API call", slog.String("app", x.app), slog.Int64("task", t.ID),
			slog.String("kind", t.Kind), slog.String("outcome", outcome), slog.Int("status", status),
			slog.Int("attempt", t.Attempts+1), slog.Duration("duration", x.now().Sub(start)))
	}

	r, err := x.render(c, x.data(t, a))
	if err != nil {
		logAt(slog.LevelWarn, outUnrenderable, 0)
		return engine.Result{}, engine.Refused(fmt.Errorf("the %s call cannot be made: %w", t.Kind, x.scrub.error(err)))
	}
	trial, err := x.breaker.admit(start)
	if err != nil {
		logAt(slog.LevelWarn, outCircuitOpen, 0)
		if errors.Is(err, errTrialInFlight) {
			return engine.Result{}, engine.Later(err, x.timeout)
		}
		return engine.Result{}, engine.Refused(err)
	}
	rctx, cancel := context.WithTimeout(ctx, x.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, r.method, r.url, r.bodyReader())
	if err != nil {
		x.breaker.release(trial)
		logAt(slog.LevelWarn, outUnrenderable, 0)
		return engine.Result{}, engine.Refused(fmt.Errorf("the %s call cannot be made: %s", t.Kind, x.scrub.string(transportError(err, x.timeout))))
	}
	req.Header = r.header
	slot, wait, err := x.limit.take(start, t.ID)
	if err != nil {
		x.breaker.release(trial)
		logAt(slog.LevelInfo, outThrottled, 0)
		return engine.Result{}, engine.Later(err, wait)
	}

	res, err := x.client.Do(req)
	var body []byte
	if err == nil {
		// The answer's start is enough for an id or an admin's snippet;
		// a failed read leaves what came.
		body, _ = io.ReadAll(io.LimitReader(res.Body, maxAnswer))
		res.Body.Close()
	}
	end := x.now()
	x.limit.done(slot, end)

	if err != nil {
		if ctx.Err() != nil {
			// The caller gave up, not the app: no failure of its API.
			x.breaker.release(trial)
			logAt(slog.LevelInfo, outCancelled, 0)
			return engine.Result{}, fmt.Errorf("the %s call was cancelled: %w", t.Kind, ctx.Err())
		}
		why := x.scrub.string(transportError(err, x.timeout))
		x.breaker.result(trial, true, why, end)
		logAt(slog.LevelWarn, outRetry, 0)
		return engine.Result{}, fmt.Errorf("the app's API could not be reached: %s", why)
	}

	status := res.StatusCode
	switch {
	case c.success(status):
		x.breaker.result(trial, false, "", end)
		logAt(slog.LevelInfo, outDone, status)
		return engine.Result{AppUserID: x.appUserID(ctx, c, t, status, body)}, nil
	case c.retry(status):
		why := answered(status)
		x.breaker.result(trial, true, why, end)
		logAt(slog.LevelWarn, outRetry, status)
		err := x.answerError(status, body)
		if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
			if d := retryAfter(res.Header.Get("Retry-After"), end); d > 0 {
				x.limit.hold(end.Add(d))
				return engine.Result{}, engine.RetryAfter(err, d)
			}
		}
		return engine.Result{}, err
	}
	// The app answered, so its API works; it just said no.
	x.breaker.result(trial, false, "", end)
	logAt(slog.LevelWarn, outRefused, status)
	if status >= 300 && status < 400 {
		return engine.Result{}, engine.Refused(fmt.Errorf("%s; redirects are not followed here: configure the final URL", answered(status)))
	}
	return engine.Result{}, engine.Refused(x.answerError(status, body))
}

// appUserID reads the app's id of the account from a successful answer.
// A missing id does not undo what the app did: the task is done, and a
// warning says the id is unknown.
func (x *Executor) appUserID(ctx context.Context, c *compiled, t task.Task, status int, body []byte) string {
	if c.idPath == nil {
		return ""
	}
	id, ok := appUserID(body, c.idPath)
	if !ok {
		x.log.LogAttrs(ctx, slog.LevelWarn, "the app's answer has no user id where the action says",
			slog.String("app", x.app), slog.Int64("task", t.ID), slog.String("kind", t.Kind), slog.Int("status", status))
	}
	return id
}

func answered(status int) string {
	return fmt.Sprintf("the app's API answered %d %s", status, http.StatusText(status))
}

// answerError is a failed answer for an admin: its status and the start
// of its body, without secrets.
func (x *Executor) answerError(status int, body []byte) error {
	if s := x.scrub.snippet(body); s != "" {
		return fmt.Errorf("%s: %s", answered(status), s)
	}
	return errors.New(answered(status))
}
