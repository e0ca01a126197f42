package main

import (
	"math"
	"slices"
)

// number is what the statistics helpers work on: durations and rates.
type number interface {
	~int64 | ~float64
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted, which
// must be in ascending order, by the nearest-rank method: the smallest
// value with at least p% of the values at or below it. It is exact, never
// interpolated, so a reported p99 is a latency some request really had.
// It returns 0 for an empty slice.
func percentile[T number](sorted []T, p float64) T {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// p*n before dividing keeps integer ranks exact (0.99*100 is not 99).
	rank := int(math.Ceil(p * float64(n) / 100))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// median returns the median of xs, the mean of the two middle values for
// an even count, without reordering xs. It returns 0 for an empty slice.
func median[T number](xs []T) T {
	n := len(xs)
	if n == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
