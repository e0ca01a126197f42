package sqlite

import (
	"context"
	"database/sql"
	"log/slog"
	"time"
)

// busyLog is the number of log frames left uncopied after a checkpoint
// above which the next one comes sooner: writes are arriving faster than
// the interval drains them.
const busyLog = 4096

// checkpointer copies the write-ahead log into the database file on a
// timer. A PASSIVE checkpoint takes no lock that writers or readers wait
// for; the log restarts from its beginning at the first write after a
// checkpoint that caught up with it.
type checkpointer struct {
	db       *sql.DB
	interval time.Duration
	log      *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
}

func startCheckpointer(db *sql.DB, interval time.Duration, log *slog.Logger) *checkpointer {
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, interval: interval, log: log, cancel: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	wait := time.NewTimer(c.interval)
	defer wait.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		var busy, logFrames, copied int
		err := c.db.QueryRowContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &logFrames, &copied)
		next := c.interval
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// Logged once per failing spell, not at every interval.
			if !failing {
				c.log.Error("database checkpoint failed; the write-ahead log grows until one succeeds", "error", err)
			}
			failing = true
		default:
			if failing {
				c.log.Info("database checkpoints succeed again")
			}
			failing = false
			if logFrames-copied > busyLog {
				next = c.interval / 8
			}
		}
		wait.Reset(next)
	}
}

// stop ends the checkpointer; a checkpoint in progress is interrupted,
// which loses nothing: the next one, or the last connection's close,
// copies the rest.
func (c *checkpointer) stop() {
	c.cancel()
	<-c.done
}
