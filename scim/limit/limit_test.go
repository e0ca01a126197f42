package limit

import (
	"fmt"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func TestTake(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 2, Burst: 3}, 0)
	type step struct {
		at      time.Duration // after t0
		key     string
		ok      bool
		wait    time.Duration
		emptied bool
	}
	for i, s := range []step{
		{0, "a", true, 0, false},
		{0, "a", true, 0, false},
		{0, "a", true, 0, false},
		{0, "a", false, 500 * time.Millisecond, true},
		{0, "b", true, 0, false}, // another key has its own bucket
		{100 * time.Millisecond, "a", false, 400 * time.Millisecond, false},
		{500 * time.Millisecond, "a", true, 0, false},
		{500 * time.Millisecond, "a", false, 500 * time.Millisecond, false}, // still the same run of refusals
		{3 * time.Second, "a", true, 0, false},                              // full again
		{3 * time.Second, "a", true, 0, false},
		{3 * time.Second, "a", true, 0, false},
		{3 * time.Second, "a", false, 500 * time.Millisecond, true}, // a new run
	} {
		ok, wait, emptied := b.Take(s.key, t0.Add(s.at))
		if ok != s.ok || wait != s.wait || emptied != s.emptied {
			t.Errorf("step %d: Take(%s) = %v, %v, %v; want %v, %v, %v", i, s.key, ok, wait, emptied, s.ok, s.wait, s.emptied)
		}
	}
}

func TestSpendAndEmpty(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 1.0 / 3, Burst: 2}, 0) // 20 a minute
	if empty, _ := b.Empty("x", t0); empty {
		t.Fatal("an unknown key is empty")
	}
	if b.Spend("x", t0) {
		t.Error("the first of two spent emptied the bucket")
	}
	if !b.Spend("x", t0) {
		t.Error("the second of two did not empty the bucket")
	}
	empty, wait := b.Empty("x", t0.Add(time.Second))
	if !empty || wait != 2*time.Second {
		t.Errorf("Empty = %v, %v; want true, 2s", empty, wait)
	}
	if b.Spend("x", t0.Add(3*time.Second)) {
		t.Error("emptied reported twice in one run")
	}
	if empty, _ := b.Empty("x", t0.Add(6*time.Second)); empty {
		t.Error("still empty after the refill")
	}
}

// TestBounded checks that memory stays bounded: idle buckets go, and
// never more than maxKeys are held.
func TestBounded(t *testing.T) {
	b := NewBuckets(Rate{PerSecond: 10, Burst: 10}, 50)
	for i := range 200 {
		b.Take(fmt.Sprint(i), t0)
	}
	if n := b.Len(); n > 50 {
		t.Errorf("%d buckets held, at most 50 allowed", n)
	}
	b.Take("late", t0.Add(2*time.Second)) // the others refilled in 1s
	if n := b.Len(); n != 1 {
		t.Errorf("%d buckets held after the others went idle, want 1", n)
	}
}

func TestDefaultBurst(t *testing.T) {
	for rps, want := range map[float64]int{2.5: 5, 0.1: 1, 1000: 2000} {
		if got := NewBuckets(Rate{PerSecond: rps}, 0).Rate().Burst; got != want {
			t.Errorf("burst of %v a second: %d, want %d", rps, got, want)
		}
	}
}

func TestSeconds(t *testing.T) {
	for d, want := range map[time.Duration]int{0: 1, time.Millisecond: 1, time.Second: 1, 1500 * time.Millisecond: 2, time.Minute: 60} {
		if got := Seconds(d); got != want {
			t.Errorf("Seconds(%v) = %d, want %d", d, got, want)
		}
	}
}

func TestClient(t *testing.T) {
	proxies, err := ParseProxies([]string{"10.0.0.0/8", "::1", "fd00::/8"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, remote string
		forwarded    []string
		trusted      Proxies
		want         string
	}{
		{"no proxies: the peer", "192.0.2.1:5000", []string{"198.51.100.7"}, nil, "192.0.2.1"},
		{"untrusted peer: its header is ignored", "192.0.2.1:5000", []string{"198.51.100.7"}, proxies, "192.0.2.1"},
		{"trusted peer: the client it names", "10.1.2.3:5000", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"a forged first hop is skipped", "10.1.2.3:5000", []string{"1.2.3.4, 198.51.100.7"}, proxies, "198.51.100.7"},
		{"proxies in a chain", "10.1.2.3:5000", []string{"198.51.100.7, 10.9.9.9", "10.0.0.1"}, proxies, "198.51.100.7"},
		{"only proxies: the first", "10.1.2.3:5000", []string{"10.0.0.9"}, proxies, "10.0.0.9"},
		{"garbled header: the peer", "10.1.2.3:5000", []string{"198.51.100.7, nonsense"}, proxies, "10.1.2.3"},
		{"no header: the peer", "10.1.2.3:5000", nil, proxies, "10.1.2.3"},
		{"IPv6 proxy", "[::1]:5000", []string{"2001:db8::1"}, proxies, "2001:db8::1"},
		{"IPv4 in IPv6", "[::ffff:192.0.2.1]:80", nil, nil, "192.0.2.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.forwarded {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := c.trusted.Client(r); got.String() != c.want {
				t.Errorf("Client = %s, want %s", got, c.want)
			}
		})
	}
	if _, err := ParseProxies([]string{"10.0.0.0/33"}); err == nil {
		t.Error("a bad prefix was accepted")
	}
}

func TestKey(t *testing.T) {
	for in, want := range map[string]string{
		"192.0.2.1":            "192.0.2.1",
		"2001:db8:1:2:3:4:5:6": "2001:db8:1:2::/64",
		"2001:db8:1:2:ffff::1": "2001:db8:1:2::/64",
	} {
		if got := Key(netip.MustParseAddr(in)); got != want {
			t.Errorf("Key(%s) = %s, want %s", in, got, want)
		}
	}
	if Key(netip.Addr{}) != "unknown" {
		t.Error("the zero address has a key of its own")
	}
}
