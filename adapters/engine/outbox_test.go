package engine_test

import (
	"context"
	"testing"
	"time"
)

func TestPruneOutbox(t *testing.T) {
	ctx := context.Background()
	w := newWorld(t, peopleAI(t))
	for _, name := range []string{"ann", "bob", "cat"} {
		w.createUser(name)
	}
	w.dispatch()
	backlog := func(wantN int64) {
		t.Helper()
		n, oldest, err := w.eng.Backlog(ctx)
		if err != nil || n != wantN || (n == 0) != oldest.IsZero() {
			t.Errorf("Backlog = %d, %v, %v; want %d", n, oldest, err, wantN)
		}
		if n > 0 && time.Since(oldest) > time.Minute {
			t.Errorf("oldest pending event at %v", oldest)
		}
	}
	backlog(0)
	w.createUser("dan") // not dispatched yet
	backlog(1)
	w.createUser("eve")
	backlog(2)

	count := func() int {
		evs, err := w.db.Events(ctx, "", 0, 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(evs)
	}
	total := count()
	for _, c := range []struct {
		name      string
		retention time.Duration
		pruned    int
	}{
		{"younger than the retention", time.Hour, 0},
		{"processed and old enough", 0, total - 2},
		{"the unprocessed event stays", 0, 0},
	} {
		n, err := w.eng.PruneOutbox(ctx, c.retention)
		if err != nil || n != c.pruned {
			t.Errorf("%s: pruned %d, %v; want %d", c.name, n, err, c.pruned)
		}
	}
	if n := count(); n != 2 {
		t.Errorf("%d events left, want dan's and eve's creates", n)
	}
	// The engine still dispatches what was left, and nothing twice.
	w.dispatch()
	w.wantTasks("ann create User_(Standard) open", "bob create User_(Standard) open",
		"cat create User_(Standard) open", "dan create User_(Standard) open", "eve create User_(Standard) open")
	backlog(0)
}
