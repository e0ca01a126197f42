package main

import (
	"slices"
	"testing"
	"time"
)

// seq returns 1, 2, …, n.
func seq(n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = float64(i + 1)
	}
	return s
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"empty", nil, 50, 0},
		{"single p50", []float64{7}, 50, 7},
		{"single p99", []float64{7}, 99, 7},
		{"p50 of 1..10", seq(10), 50, 5},
		{"p50 of 1..3", seq(3), 50, 2},
		{"p50 of 1..4", seq(4), 50, 2},
		{"p99 of 1..100", seq(100), 99, 99},
		{"p99 of 1..1000", seq(1000), 99, 990},
		{"p99 of 1..10 is the max", seq(10), 99, 10},
		{"p99 of 1..101 rounds up", seq(101), 99, 100},
		{"p100 is the max", seq(10), 100, 10},
		{"tiny p is the min", seq(10), 0.1, 1},
		{"repeated values", []float64{1, 1, 1, 5, 5}, 50, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.p); got != tt.want {
				t.Errorf("percentile(%v, %v) = %v, want %v", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}

func TestPercentileDurations(t *testing.T) {
	sorted := []time.Duration{time.Millisecond, 2 * time.Millisecond, 30 * time.Millisecond}
	if got := percentile(sorted, 99); got != 30*time.Millisecond {
		t.Errorf("p99 = %v, want 30ms", got)
	}
}

func TestMedian(t *testing.T) {
	tests := []struct {
		name string
		xs   []float64
		want float64
	}{
		{"empty", nil, 0},
		{"one", []float64{4}, 4},
		{"odd, unsorted", []float64{9, 1, 5}, 5},
		{"even takes the mean of the middle two", []float64{4, 1, 3, 2}, 2.5},
		{"two", []float64{3000, 3100}, 3050},
		{"outlier does not move it", []float64{10, 11, 12, 13, 1e9}, 12},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := slices.Clone(tt.xs)
			if got := median(tt.xs); got != tt.want {
				t.Errorf("median(%v) = %v, want %v", tt.xs, got, tt.want)
			}
			if !slices.Equal(in, tt.xs) {
				t.Errorf("median reordered its input: %v, was %v", tt.xs, in)
			}
		})
	}
}

func TestMedianDurations(t *testing.T) {
	xs := []time.Duration{3 * time.Millisecond, time.Millisecond}
	if got := median(xs); got != 2*time.Millisecond {
		t.Errorf("median = %v, want 2ms", got)
	}
}
