package engine

import "time"

// WithConsumer returns a copy of e that reads the outbox under another
// cursor name, to replay events the engine already handled.
func (e *Engine) WithConsumer(name string) *Engine {
	c := *e
	c.consumer = name
	return &c
}

// SetClock makes e read the time from now.
func (e *Engine) SetClock(now func() time.Time) { e.now = now }
