package main

import (
	"slices"
	"testing"
	"time"
)

// tenMS builds outbox samples every 10 ms from rows of {maxSeq, cursor}.
func tenMS(rows ...[2]int64) []outboxSample {
	out := make([]outboxSample, len(rows))
	for i, r := range rows {
		out[i] = outboxSample{at: time.Duration(i) * 10 * time.Millisecond, maxSeq: r[0], cursor: r[1]}
	}
	return out
}

// msList turns whole milliseconds into durations.
func msList(ms ...int) []time.Duration {
	out := make([]time.Duration, len(ms))
	for i, m := range ms {
		out[i] = time.Duration(m) * time.Millisecond
	}
	return out
}

func TestOutboxLags(t *testing.T) {
	tests := []struct {
		name    string
		samples []outboxSample
		want    []time.Duration
	}{
		{"no samples", nil, msList()},
		{"caught up throughout", tenMS([2]int64{5, 5}, [2]int64{5, 5}, [2]int64{5, 5}), msList(0, 0, 0)},
		{
			// Idle before and after: nothing waits, so no lag however old
			// the last dispatched event is.
			"idle engine that keeps up",
			tenMS([2]int64{0, 0}, [2]int64{3, 3}, [2]int64{3, 3}, [2]int64{3, 3}),
			msList(0, 0, 0, 0),
		},
		{
			// Event 1 appears at 10 ms; the engine takes it only at 40 ms.
			"lag grows until the engine takes the waiting event",
			tenMS([2]int64{0, 0}, [2]int64{1, 0}, [2]int64{1, 0}, [2]int64{1, 0}, [2]int64{1, 1}),
			msList(0, 0, 10, 20, 0),
		},
		{
			// The lag is the age of the oldest waiting event, event
			// cursor+1: after the first batch (up to 5) that is event 6,
			// first seen at 20 ms, not the newest.
			"batches: the oldest waiting event sets the lag",
			tenMS([2]int64{0, 0}, [2]int64{5, 0}, [2]int64{10, 0}, [2]int64{15, 5}, [2]int64{20, 5}, [2]int64{20, 15}, [2]int64{20, 20}),
			msList(0, 0, 10, 10, 20, 10, 0),
		},
		{
			// The cursor stops inside what one sample saw arrive: events 1
			// to 10 all count from the sample that first saw them.
			"cursor within a sample's arrivals",
			tenMS([2]int64{0, 0}, [2]int64{10, 0}, [2]int64{10, 4}, [2]int64{10, 9}, [2]int64{10, 10}),
			msList(0, 0, 10, 20, 0),
		},
		{
			// Events written before the first sample count from it.
			"backlog before the first sample",
			tenMS([2]int64{8, 2}, [2]int64{8, 5}, [2]int64{8, 8}),
			msList(0, 10, 0),
		},
		{
			// A read that shows a lower max(seq) than an earlier one does
			// not make events look newer or the engine caught up.
			"max(seq) going back is ignored",
			tenMS([2]int64{0, 0}, [2]int64{6, 0}, [2]int64{4, 4}, [2]int64{6, 4}),
			msList(0, 0, 10, 20),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := outboxLags(tt.samples); !slices.Equal(got, tt.want) {
				t.Errorf("outboxLags = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBurstWindow(t *testing.T) {
	s := tenMS([2]int64{10, 10}, [2]int64{20, 12}, [2]int64{30, 25}, [2]int64{30, 30}, [2]int64{30, 30})
	tests := []struct {
		name    string
		last    int64
		wantLen int
		reached bool
	}{
		{"reached mid-way", 25, 3, true},
		{"reached at the end of the burst", 30, 4, true},
		{"already there", 10, 1, true},
		{"never reached", 31, 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, reached := burstWindow(s, tt.last)
			if len(got) != tt.wantLen || reached != tt.reached {
				t.Errorf("burstWindow(last %d) = %d samples, %v; want %d, %v", tt.last, len(got), reached, tt.wantLen, tt.reached)
			}
		})
	}
}

func TestDispatchResultFigures(t *testing.T) {
	d := dispatchResult{
		creates: 1000, lastAck: 500 * time.Millisecond, events: 1000, done: 800 * time.Millisecond,
		lags: msList(0, 10, 20, 30, 900),
	}
	if got := d.rate(); got != 1250 {
		t.Errorf("rate = %v, want 1250 events/s", got)
	}
	if got := d.createRate(); got != 2000 {
		t.Errorf("createRate = %v, want 2000/s", got)
	}
	if got := d.drain(); got != 300*time.Millisecond {
		t.Errorf("drain = %v, want 300ms", got)
	}
	if d.lagP50() != 20*time.Millisecond || d.lagP99() != 900*time.Millisecond || d.lagMax() != 900*time.Millisecond {
		t.Errorf("lags p50 %v, p99 %v, max %v; want 20ms, 900ms, 900ms", d.lagP50(), d.lagP99(), d.lagMax())
	}
	if !d.met() {
		t.Error("a p99 of 900 ms should meet the 1 s target")
	}
	d.lags = msList(0, 1000)
	if d.met() {
		t.Error("a p99 of 1 s should miss the target")
	}
	if (dispatchResult{}).rate() != 0 || (dispatchResult{lags: msList(1)}).met() {
		t.Error("a burst the engine never finished has no rate and fails")
	}
}
