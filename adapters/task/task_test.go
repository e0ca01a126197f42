package task

import (
	"testing"
	"time"
)

func TestCanMove(t *testing.T) {
	cases := []struct {
		from, to Status
		ok       bool
	}{
		{Open, Claimed, true},
		{Open, Done, true},
		{Claimed, Done, true},
		{Claimed, Open, true},
		{Done, Verified, true},
		{Done, Open, true}, // reopened when an import contradicts it
		{AwaitingApproval, Open, true},
		{AwaitingApproval, Rejected, true},
		{AwaitingApproval, Done, false},
		{AwaitingApproval, Claimed, false},
		{Verified, Open, false},
		{Cancelled, Open, false},
		{Superseded, Done, false},
		{Failed, Open, false},
		{Rejected, Open, false},
		{Open, Verified, false},
	}
	for _, c := range cases {
		if got := CanMove(c.from, c.to); got != c.ok {
			t.Errorf("CanMove(%s, %s) = %v, want %v", c.from, c.to, got, c.ok)
		}
	}
}

func TestOverdue(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name string
		t    Task
		want bool
	}{
		{"open past due", Task{Status: Open, Due: now.Add(-time.Minute)}, true},
		{"claimed past due", Task{Status: Claimed, Due: now.Add(-time.Minute)}, true},
		{"open before due", Task{Status: Open, Due: now.Add(time.Minute)}, false},
		{"done past due", Task{Status: Done, Due: now.Add(-time.Minute)}, false},
		{"no deadline", Task{Status: Open}, false},
	}
	for _, c := range cases {
		if got := c.t.Overdue(now); got != c.want {
			t.Errorf("%s: Overdue = %v, want %v", c.name, got, c.want)
		}
	}
}
