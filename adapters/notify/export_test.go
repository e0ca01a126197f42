package notify

import (
	"context"
	"time"
)

// SetNow makes the sender read the time from now.
func (s *Sender) SetNow(now func() time.Time) { s.now = now }

// Pass starts a round for the notifications due now and waits for it.
func (s *Sender) Pass(ctx context.Context) error {
	err := s.start(ctx, s.now())
	s.wg.Wait()
	return err
}

// Backoff is the wait before attempt n+1.
func (s *Sender) Backoff(n int) time.Duration { return s.backoff(n) }
