package engine

import (
	"context"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
)

// overdueBatch bounds the tasks one transaction flags, so that a long
// outage's backlog does not hold the writer for long.
const overdueBatch = 200

// FlagOverdue flags the pending tasks whose deadline passed before now
// and that were not flagged yet: each gets an audit entry and one
// task.overdue notification, in the transaction that flags it. It
// returns how many it flagged.
func (e *Engine) FlagOverdue(ctx context.Context, now time.Time) (int, error) {
	total := 0
	for more := true; more; {
		n := 0
		err := e.db.Update(ctx, func(tx store.Tx) error {
			q, err := queueOf(tx)
			if err != nil {
				return err
			}
			list, err := q.OverdueUnflagged(ctx, now, overdueBatch)
			if err != nil {
				return err
			}
			more = len(list) == overdueBatch
			for _, t := range list {
				flagged, err := q.FlagOverdue(ctx, t, now, System)
				if err != nil {
					return err
				}
				if flagged {
					n++
				}
			}
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// WatchOverdue flags overdue tasks at once and then every interval, until
// ctx ends.
func (e *Engine) WatchOverdue(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := e.FlagOverdue(ctx, e.now())
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Error("flagging overdue tasks failed; retrying", "error", err)
		case n > 0:
			e.log.Info("tasks are overdue", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
