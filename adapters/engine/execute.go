package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Executor carries out a task in the app by itself, such as a simulated
// SSO login or an API call. Execute must be safe to repeat: after a crash
// the task is tried again. An error wrapped with Refused is final; one
// made by RetryAfter is retried when it says (at most an hour later); any
// other is retried with backoff.
type Executor interface {
	Execute(ctx context.Context, t task.Task, a account.Account) (Result, error)
}

// Result is what an executor learned while carrying out a task.
type Result struct {
	// AppUserID is the app's own id of the account, when the app told it
	// (an API's create answer); empty otherwise.
	AppUserID string
}

// RetryAfterError is a temporary failure with the earliest time to try
// again that the app asked for (HTTP 429 or 503 with Retry-After).
type RetryAfterError struct {
	After time.Duration
	Err   error
	// NotTried says that no call was made (the executor's own rate
	// limit): the attempt does not count towards handing the task over.
	NotTried bool
}

func (e *RetryAfterError) Error() string { return e.Err.Error() }
func (e *RetryAfterError) Unwrap() error { return e.Err }

// RetryAfter marks err as temporary, to be retried no sooner than after.
func RetryAfter(err error, after time.Duration) error {
	return &RetryAfterError{After: after, Err: err}
}

// Later says that the executor did not try the task now (its own rate
// limit is reached) and will after d; it costs the task no attempt.
func Later(err error, d time.Duration) error {
	return &RetryAfterError{After: d, Err: err, NotTried: true}
}

// RefusedError is an executor's final failure: the app said no, and
// trying again would not change that.
type RefusedError struct{ Err error }

func (e *RefusedError) Error() string { return e.Err.Error() }
func (e *RefusedError) Unwrap() error { return e.Err }

// Refused marks err as final.
func Refused(err error) error { return &RefusedError{Err: err} }

// Retry policy of automatic tasks: exponential from retryBase, at most
// retryMax apart, handed to an admin after maxAttempts.
const (
	retryBase   = 30 * time.Second
	retryMax    = time.Hour
	maxAttempts = 6
	execTimeout = 30 * time.Second
	execBatch   = 20
)

// backoff is the wait before attempt n+1, with jitter so that many tasks
// that failed together do not retry together.
func backoff(n int) time.Duration {
	d := retryBase << min(n-1, 10)
	d = min(d, retryMax)
	return d/2 + rand.N(d/2+1)
}

// Execute runs the automatic tasks that are due with the executors by
// name, and returns how many it ran. A task whose executor is missing or
// that fails for good becomes an admin's task, never a silent drop.
func (e *Engine) Execute(ctx context.Context, executors map[string]Executor) (int, error) {
	due, err := queue.In(e.db.ReadSQL()).DueAutomatic(ctx, e.now(), execBatch)
	if err != nil {
		return 0, err
	}
	for _, t := range due {
		acct, _, err := queue.In(e.db.ReadSQL()).Account(ctx, t.App, t.UserID)
		if err != nil {
			return 0, err
		}
		var (
			res    Result
			runErr error
		)
		if x, ok := executors[t.Executor]; ok {
			xctx, cancel := context.WithTimeout(ctx, execTimeout)
			res, runErr = x.Execute(xctx, t, acct)
			cancel()
		} else {
			runErr = Refused(fmt.Errorf("this scimbridge has no %q executor", t.Executor))
		}
		if ctx.Err() != nil {
			return 0, ctx.Err()
		}
		if err := e.settle(ctx, t, res, runErr); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// settle records what running task t came to, if the task still waits
// for its executor (an admin or a replan may have moved it meanwhile).
func (e *Engine) settle(ctx context.Context, t task.Task, res Result, runErr error) error {
	return e.db.Update(ctx, func(tx store.Tx) error {
		q, err := queueOf(tx)
		if err != nil {
			return err
		}
		now, err := q.Task(ctx, t.ID)
		if err != nil {
			return err
		}
		if now.Status != task.Open || now.Executor != t.Executor {
			if runErr == nil && (now.Status == task.Superseded || now.Status == task.Cancelled) {
				// The app did it all the same: what it now holds is a
				// fact the replacement must be planned against.
				return e.applied(ctx, tx, q, t, res, fmt.Sprintf("task %d was carried out by the app after it was %s", t.ID, now.Status))
			}
			return nil
		}
		var (
			refused *RefusedError
			later   *RetryAfterError
		)
		switch {
		case runErr == nil:
			return e.executed(ctx, tx, q, now, res)
		case errors.As(runErr, &later) && later.NotTried:
			return q.Retry(ctx, now.ID, now.Attempts, e.now().Add(min(later.After, retryMax)), now.LastError)
		case errors.As(runErr, &refused) || now.Attempts+1 >= maxAttempts:
			e.log.Warn("an automatic task goes to an admin", "task", t.ID, "app", t.App, "executor", t.Executor, "attempts", now.Attempts+1, "error", runErr)
			return e.handOver(ctx, q, now, runErr)
		default:
			// The app's own Retry-After is the best guess of when it
			// will take the call; without one, back off.
			wait := backoff(now.Attempts + 1)
			if errors.As(runErr, &later) && later.After > 0 {
				wait = min(later.After, retryMax)
			}
			next := e.now().Add(wait)
			e.log.Info("an automatic task failed; retrying", "task", t.ID, "app", t.App, "executor", t.Executor, "attempt", now.Attempts+1, "next", next, "error", runErr)
			return q.Retry(ctx, now.ID, now.Attempts+1, next, runErr.Error())
		}
	})
}

// executed records a task its executor carried out: done and verified,
// since the app itself answered, then what it makes true.
func (e *Engine) executed(ctx context.Context, tx store.Tx, q queue.Queue, t task.Task, res Result) error {
	note := fmt.Sprintf("carried out by the %s executor", t.Executor)
	if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Done, Actor: System, Note: note, Reason: note}); err != nil {
		return err
	}
	if _, err := q.Move(ctx, t.ID, queue.Change{To: task.Verified, Actor: System, Reason: "the app accepted it"}); err != nil {
		return err
	}
	return e.applied(ctx, tx, q, t, res, fmt.Sprintf("task %d carried out", t.ID))
}

// applied records what the app holds after it carried out t, and
// replans the account; why is the replan's reason.
func (e *Engine) applied(ctx context.Context, tx store.Tx, q queue.Queue, t task.Task, res Result, why string) error {
	if err := e.observe(ctx, q, t, System); err != nil {
		return err
	}
	if res.AppUserID != "" {
		a, _, err := q.Account(ctx, t.App, t.UserID)
		if err != nil {
			return err
		}
		a.AppUserID = res.AppUserID
		if err := q.PutAccount(ctx, &a, System, fmt.Sprintf("task %d: the app's id of the account", t.ID)); err != nil {
			return err
		}
	}
	// A simulated login is a login: the app saw the user sign in.
	if t.Kind == string(profile.Create) && t.Executor == plan.ExecutorSAML {
		a, _, err := q.Account(ctx, t.App, t.UserID)
		if err != nil {
			return err
		}
		a.LastLogin, a.Observed.Source = e.now(), "login:"+LoginSimulated
		if err := q.PutAccount(ctx, &a, System, "first login (simulated)"); err != nil {
			return err
		}
	}
	if err := e.replan(ctx, tx, t.App, t.UserID, System, why); err != nil {
		return err
	}
	return e.checkOverLimit(ctx, q, t.App)
}

// handOver turns an automatic task into an admin's, with why the
// executor gave up at the top of its steps.
func (e *Engine) handOver(ctx context.Context, q queue.Queue, t task.Task, why error) error {
	p := e.apps[t.App].Profile
	assignee := ""
	if p != nil {
		assignee = p.Assignee[profile.ActionKind(t.Kind)]
	}
	head := fmt.Sprintf("scimbridge's %s executor could not do this (%d attempts): %v. Do it by hand:", t.Executor, t.Attempts+1, why)
	t2, err := q.HandOver(ctx, t.ID, assignee, head, why.Error(), System)
	if err != nil {
		return err
	}
	_, err = q.EnqueueTask(ctx, queue.TaskOpened, t2)
	return err
}

// RunExecutors runs due automatic tasks every interval until ctx ends.
func (e *Engine) RunExecutors(ctx context.Context, executors map[string]Executor, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		for {
			n, err := e.Execute(ctx, executors)
			if err != nil {
				if ctx.Err() == nil {
					e.log.Error("running automatic tasks failed; retrying", "error", err)
				}
				break
			}
			if n < execBatch {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
