package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// rssEvery is the memory sampling period.
const rssEvery = 200 * time.Millisecond

// memory is what the sampler saw of the server's resident memory, in
// bytes.
type memory struct {
	peakRSS int64 // the largest VmRSS sampled
	// hwm is VmHWM at the end, the kernel's own peak, which catches spikes
	// between samples; but the kernel updates it lazily, so it can be
	// below a sampled VmRSS.
	hwm     int64
	samples int
	err     error // the first read error, if any
}

// peak is the larger of the two peaks; the target is judged on it.
func (m memory) peak() int64 { return max(m.peakRSS, m.hwm) }

// rssSampler reads /proc/<pid>/status (Linux only) in the background.
type rssSampler struct {
	pid  int
	quit chan struct{}
	wg   sync.WaitGroup
	mem  memory
}

func startRSSSampler(pid int) *rssSampler {
	s := &rssSampler{pid: pid, quit: make(chan struct{})}
	s.wg.Go(s.loop)
	return s
}

func (s *rssSampler) loop() {
	tick := time.NewTicker(rssEvery)
	defer tick.Stop()
	for {
		s.sample()
		select {
		case <-s.quit:
			return
		case <-tick.C:
		}
	}
}

func (s *rssSampler) sample() {
	st, err := readProcStatus(s.pid)
	if err != nil {
		if s.mem.err == nil {
			s.mem.err = err
		}
		return
	}
	s.mem.samples++
	s.mem.peakRSS = max(s.mem.peakRSS, st["VmRSS"])
}

// finish stops sampling and reads VmHWM; call it while the server still
// runs.
func (s *rssSampler) finish() memory {
	close(s.quit)
	s.wg.Wait()
	s.sample()
	st, err := readProcStatus(s.pid)
	if err != nil {
		if s.mem.err == nil {
			s.mem.err = err
		}
		return s.mem
	}
	s.mem.hwm = st["VmHWM"]
	return s.mem
}

// readProcStatus returns the "Vm…" lines of /proc/<pid>/status in bytes.
func readProcStatus(pid int) (map[string]int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, fmt.Errorf("read server memory: %w", err)
	}
	defer f.Close()
	out := map[string]int64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "VmRSS:	   12345 kB"; the kernel's kB are KiB.
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasPrefix(key, "Vm") {
			continue
		}
		fields := strings.Fields(val)
		if len(fields) != 2 || fields[1] != "kB" {
			continue
		}
		n, err := strconv.ParseInt(fields[0], 10, 64)
		if err != nil {
			return nil, fmt.Errorf("read server memory: %s: %w", key, err)
		}
		out[key] = n * 1024
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read server memory: %w", err)
	}
	if _, ok := out["VmRSS"]; !ok {
		return nil, fmt.Errorf("read server memory: no VmRSS in /proc/%d/status", pid)
	}
	return out, nil
}
