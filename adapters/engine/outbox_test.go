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
	w.createUser("dan") // not dispatched yet

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
		{"processed and old enough", 0, total - 1},
		{"the unprocessed event stays", 0, 0},
	} {
		n, err := w.eng.PruneOutbox(ctx, c.retention)
		if err != nil || n != c.pruned {
			t.Errorf("%s: pruned %d, %v; want %d", c.name, n, err, c.pruned)
		}
	}
	if n := count(); n != 1 {
		t.Errorf("%d events left, want dan's create", n)
	}
	// The engine still dispatches what was left, and nothing twice.
	w.dispatch()
	w.wantTasks("ann create User_(Standard) open", "bob create User_(Standard) open",
		"cat create User_(Standard) open", "dan create User_(Standard) open")
}
