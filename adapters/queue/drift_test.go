package queue_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

func TestDrift(t *testing.T) {
	ctx := context.Background()
	db := open(t)
	t0 := time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		name  string
		do    func(q queue.Queue) (bool, error)
		fresh bool
		open  []string // "kind email first last" of the open drift after the step
	}{
		{"raised", func(q queue.Queue) (bool, error) {
			return q.RaiseDrift(ctx, queue.Drift{App: "acme", Email: " Mal@Example.com", Kind: "orphan", Detail: "unassigned", LastSeen: t0}, "ann")
		}, true, []string{"orphan mal@example.com 09:00 09:00"}},
		{"seen again", func(q queue.Queue) (bool, error) {
			return q.RaiseDrift(ctx, queue.Drift{App: "acme", Email: "mal@example.com", Kind: "orphan", Detail: "still", LastSeen: t0.Add(time.Hour)}, "ann")
		}, false, []string{"orphan mal@example.com 09:00 10:00"}},
		{"another kind, another app", func(q queue.Queue) (bool, error) {
			if _, err := q.RaiseDrift(ctx, queue.Drift{App: "beta", Email: "mal@example.com", Kind: "orphan", LastSeen: t0}, "ann"); err != nil {
				return false, err
			}
			return q.RaiseDrift(ctx, queue.Drift{App: "acme", Email: "mal@example.com", Kind: "wrong_role", UserID: "u1", LastSeen: t0}, "ann")
		}, true, []string{"orphan mal@example.com 09:00 10:00", "wrong_role mal@example.com 09:00 09:00"}},
		{"resolved", func(q queue.Queue) (bool, error) {
			return false, q.ResolveDrift(ctx, "acme", "MAL@example.com", "orphan", t0.Add(2*time.Hour), "ann", "gone")
		}, false, []string{"wrong_role mal@example.com 09:00 09:00"}},
		{"resolving twice changes nothing", func(q queue.Queue) (bool, error) {
			return false, q.ResolveDrift(ctx, "acme", "mal@example.com", "orphan", t0.Add(3*time.Hour), "ann", "gone")
		}, false, []string{"wrong_role mal@example.com 09:00 09:00"}},
		{"found again after it was resolved", func(q queue.Queue) (bool, error) {
			return q.RaiseDrift(ctx, queue.Drift{App: "acme", Email: "mal@example.com", Kind: "orphan", LastSeen: t0.Add(4 * time.Hour)}, "ann")
		}, true, []string{"orphan mal@example.com 13:00 13:00", "wrong_role mal@example.com 09:00 09:00"}},
	}
	for _, st := range steps {
		var fresh bool
		err := in(t, db, func(q queue.Queue) error {
			var err error
			fresh, err = st.do(q)
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if fresh != st.fresh {
			t.Errorf("%s: fresh %v, want %v", st.name, fresh, st.fresh)
		}
		list, err := queue.In(db.ReadSQL()).DriftOf(ctx, "acme", false)
		if err != nil {
			t.Fatal(err)
		}
		got := []string{}
		for _, d := range list {
			got = append(got, d.Kind+" "+d.Email+" "+d.FirstSeen.Format("15:04")+" "+d.LastSeen.Format("15:04"))
		}
		if !slices.Equal(got, st.open) {
			t.Errorf("%s: open drift %q, want %q", st.name, got, st.open)
		}
	}
	all, err := queue.In(db.ReadSQL()).DriftOf(ctx, "acme", true)
	if err != nil || len(all) != 2 {
		t.Fatalf("all drift: %+v %v", all, err)
	}
	trail, err := queue.In(db.ReadSQL()).Audit(ctx, "acme", "")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range trail {
		got = append(got, e.What+": "+e.From+" -> "+e.To+" ("+e.Reason+")")
	}
	want := []string{
		"drift orphan:  -> open (mal@example.com: unassigned)",
		"drift wrong_role:  -> open (mal@example.com)",
		"drift orphan: open -> resolved (mal@example.com: gone)",
		"drift orphan:  -> open (mal@example.com)",
	}
	if !slices.Equal(got, want) {
		t.Errorf("audit:\n got  %q\n want %q", got, want)
	}
}
