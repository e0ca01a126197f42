package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
)

// pruneBatch bounds the events one transaction deletes, so that pruning
// a large backlog never holds the writer for long.
const pruneBatch = 2000

// PruneOutbox deletes the change events older than retention that every
// consumer of the outbox has processed, and returns how many it deleted.
func (e *Engine) PruneOutbox(ctx context.Context, retention time.Duration) (int, error) {
	before := e.now().Add(-retention)
	total := 0
	for {
		var n int
		err := e.db.Update(ctx, func(tx store.Tx) error {
			var err error
			n, err = tx.PruneEvents(ctx, before, pruneBatch)
			return err
		})
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

// Backlog is how many change events the engine has yet to handle, and
// when the oldest of them was recorded (zero when there are none).
// Sequence numbers have no gaps above the cursor (pruning stops at it),
// so the count is a difference of two key lookups, not a scan.
func (e *Engine) Backlog(ctx context.Context) (n int64, oldest time.Time, err error) {
	cursor, err := e.db.Cursor(ctx, e.consumer)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox backlog: %w", err)
	}
	next, err := e.db.Events(ctx, "", cursor, 1)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox backlog: %w", err)
	}
	if len(next) == 0 {
		return 0, time.Time{}, nil
	}
	last, err := e.db.LatestEvents(ctx, "", 1)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("outbox backlog: %w", err)
	}
	if len(last) == 0 {
		return 0, time.Time{}, nil
	}
	return last[0].Seq - cursor, next[0].Time, nil
}

// WatchOutbox prunes the outbox at once and then every interval, until
// ctx ends.
func (e *Engine) WatchOutbox(ctx context.Context, retention, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		n, err := e.PruneOutbox(ctx, retention)
		switch {
		case err != nil && ctx.Err() == nil:
			e.log.Error("pruning the outbox failed; retrying", "error", err)
		case n > 0:
			e.log.Info("pruned processed change events", "count", n, "older_than", retention.String())
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
