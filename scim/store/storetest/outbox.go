package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// memberSeed creates users alice (displayName "Alice A"), bob, carol and
// dave in app, olga in the other app, and group g1 with alice and bob.
func memberSeed(t *testing.T, open Opener) store.Store {
	s := fresh(t, open)
	createUsers(t, s, app,
		newUser("alice", "alice@x.com", doc{"displayName": "Alice A"}),
		newUser("bob", "bob@x.com", nil),
		newUser("carol", "carol@x.com", nil),
		newUser("dave", "dave@x.com", nil))
	createUsers(t, s, other, newUser("olga", "olga@x.com", nil))
	createGroup(t, s, app, newGroup("g1", "Admins"), "alice", "bob")
	createGroup(t, s, other, newGroup("og", "Admins"), "olga")
	return s
}

func memberFilter(t *testing.T, f string) query.Expr {
	t.Helper()
	members, ok := cat.Group.LookupPath("members")
	if !ok {
		t.Fatal("the Group schema has no members attribute")
	}
	e, err := query.ParseElementFilter(members, f, query.ElementOptions{})
	if err != nil {
		t.Fatalf("ParseElementFilter(%s): %v", f, err)
	}
	return e
}

func testMembers(t *testing.T, open Opener) {
	cases := []struct {
		name        string
		op          func(t *testing.T, tx store.Tx) (added, removed []string, err error)
		wantAdded   []string
		wantRemoved []string
		wantMembers []string
	}{
		{
			name: "add new and existing, in the order given, repeats once",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				added, err := tx.AddMembers(t.Context(), app, "g1", []string{"dave", "alice", "carol", "dave"})
				return added, nil, err
			},
			wantAdded: []string{"dave", "carol"}, wantMembers: []string{"alice", "bob", "carol", "dave"},
		},
		{
			name: "add nothing",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				added, err := tx.AddMembers(t.Context(), app, "g1", nil)
				return added, nil, err
			},
			wantMembers: []string{"alice", "bob"},
		},
		{
			name: "remove members and non-members",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				removed, err := tx.RemoveMembers(t.Context(), app, "g1", []string{"carol", "bob", "ghost", "olga"})
				return nil, removed, err
			},
			wantRemoved: []string{"bob"}, wantMembers: []string{"alice"},
		},
		{
			name: "remove where value eq",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				removed, err := tx.RemoveMembersWhere(t.Context(), app, "g1", memberFilter(t, `value eq "alice"`))
				return nil, removed, err
			},
			wantRemoved: []string{"alice"}, wantMembers: []string{"bob"},
		},
		{
			name: "remove where display, case-insensitively",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				removed, err := tx.RemoveMembersWhere(t.Context(), app, "g1", memberFilter(t, `display eq "BOB@X.COM"`))
				return nil, removed, err
			},
			wantRemoved: []string{"bob"}, wantMembers: []string{"alice"},
		},
		{
			name: "remove where nothing matches",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				removed, err := tx.RemoveMembersWhere(t.Context(), app, "g1", memberFilter(t, `value eq "carol"`))
				return nil, removed, err
			},
			wantMembers: []string{"alice", "bob"},
		},
		{
			name: "remove all",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				removed, err := tx.RemoveMembersWhere(t.Context(), app, "g1", nil)
				return nil, removed, err
			},
			wantRemoved: []string{"alice", "bob"}, wantMembers: []string{},
		},
		{
			name: "set",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				return tx.SetMembers(t.Context(), app, "g1", []string{"carol", "bob"})
			},
			wantAdded: []string{"carol"}, wantRemoved: []string{"alice"}, wantMembers: []string{"bob", "carol"},
		},
		{
			name: "operations in order within one transaction",
			op: func(t *testing.T, tx store.Tx) ([]string, []string, error) {
				var added, removed []string
				a, err := tx.AddMembers(t.Context(), app, "g1", []string{"carol"})
				if err != nil {
					return nil, nil, err
				}
				added = append(added, a...)
				r, err := tx.RemoveMembers(t.Context(), app, "g1", []string{"carol", "alice"})
				if err != nil {
					return nil, nil, err
				}
				removed = append(removed, r...)
				a, err = tx.AddMembers(t.Context(), app, "g1", []string{"alice"})
				return append(added, a...), removed, err
			},
			wantAdded: []string{"carol", "alice"}, wantRemoved: []string{"carol", "alice"}, wantMembers: []string{"alice", "bob"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := memberSeed(t, open)
			update(t, s, func(tx store.Tx) error {
				added, removed, err := c.op(t, tx)
				if err != nil {
					return err
				}
				if !slices.Equal(added, c.wantAdded) {
					t.Errorf("added %v, want %v", added, c.wantAdded)
				}
				if !slices.Equal(removed, c.wantRemoved) {
					t.Errorf("removed %v, want %v", removed, c.wantRemoved)
				}
				return nil
			})
			g := getGroup(t, s, app, "g1", store.Load{Members: true})
			if got := sorted(memberIDs(g)); !slices.Equal(got, c.wantMembers) {
				t.Errorf("members %v, want %v", got, c.wantMembers)
			}
			if g.Version != 1 {
				t.Errorf("member operations moved the version to %d; only ReplaceGroup does", g.Version)
			}
			if og := getGroup(t, s, other, "og", store.Load{Members: true}); !slices.Equal(memberIDs(og), []string{"olga"}) {
				t.Errorf("the other app's group changed: %v", memberIDs(og))
			}
		})
	}

	t.Run("a failing add adds nothing", func(t *testing.T) {
		s := memberSeed(t, open)
		err := s.Update(t.Context(), func(tx store.Tx) error {
			_, err := tx.AddMembers(t.Context(), app, "g1", []string{"carol", "olga"})
			return err
		})
		wantUnknownMember(t, err, "olga", false)
		if g := getGroup(t, s, app, "g1", store.Load{Members: true}); !slices.Equal(sorted(memberIDs(g)), []string{"alice", "bob"}) {
			t.Errorf("members after the failed add: %v", memberIDs(g))
		}
	})
}

// testLargeMemberships changes thousands of members in one request, the
// way a PUT of a big group or its deletion does. It guards against a cost
// per member that grows with the request (a statement per member inside
// a savepoint costs the square of their number).
func testLargeMemberships(t *testing.T, open Opener) {
	const n = 5000
	s := fresh(t, open)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("u%05d", i)
	}
	for start := 0; start < n; start += 500 {
		update(t, s, func(tx store.Tx) error {
			for _, id := range ids[start : start+500] {
				if err := tx.CreateUser(t.Context(), app, newUser(id, id+"@x.com", nil)); err != nil {
					return err
				}
			}
			return nil
		})
	}
	createGroup(t, s, app, newGroup("big", "Big"), ids[:n/2]...)
	update(t, s, func(tx store.Tx) error {
		added, removed, err := tx.SetMembers(t.Context(), app, "big", ids[n/4:])
		if err != nil {
			return err
		}
		if len(added) != n/2 || len(removed) != n/4 || added[0] != ids[n/2] || removed[0] != ids[0] {
			t.Errorf("SetMembers: %d added (first %s), %d removed (first %s)", len(added), added[0], len(removed), removed[0])
		}
		events := make([]store.Event, 0, n)
		for _, id := range added {
			events = append(events, store.Event{App: app, Type: store.GroupMemberAdded, ResourceType: "Group", ResourceID: "big", MemberID: id})
		}
		return tx.AppendEvents(t.Context(), events)
	})
	if g := getGroup(t, s, app, "big", store.Load{Members: true}); len(g.Members) != n*3/4 {
		t.Errorf("%d members, want %d", len(g.Members), n*3/4)
	}
	evs, err := s.Events(t.Context(), app, 0, n)
	if err != nil || len(evs) != n/2 || evs[0].MemberID != ids[n/2] || evs[len(evs)-1].MemberID != ids[n-1] {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Seq <= evs[i-1].Seq || evs[i].MemberID <= evs[i-1].MemberID {
			t.Fatalf("events out of order at %d: %+v after %+v", i, evs[i], evs[i-1])
		}
	}
	update(t, s, func(tx store.Tx) error {
		removed, err := tx.RemoveMembersWhere(t.Context(), app, "big", nil)
		if len(removed) != n*3/4 {
			t.Errorf("RemoveMembersWhere(nil) removed %d", len(removed))
		}
		return err
	})
}

func testVersion(t *testing.T, open Opener) {
	s := memberSeed(t, open)
	u := newUser("alice", "alice@x.com", doc{"title": "new"})
	update(t, s, func(tx store.Tx) error { return tx.ReplaceUser(t.Context(), app, u) })
	update(t, s, func(tx store.Tx) error { return tx.ReplaceGroup(t.Context(), app, newGroup("g1", "Admins")) })
	update(t, s, func(tx store.Tx) error { return tx.ReplaceGroup(t.Context(), app, newGroup("g1", "Admins")) })
	cases := []struct {
		app, resourceType, id string
		want                  int64
		notFound              bool
	}{
		{app, "User", "alice", 2, false},
		{app, "User", "bob", 1, false},
		{app, "Group", "g1", 3, false},
		{app, "User", "g1", 0, true},
		{app, "Group", "alice", 0, true},
		{app, "User", "olga", 0, true},
		{other, "User", "olga", 1, false},
	}
	for _, c := range cases {
		v, err := s.Version(t.Context(), c.app, c.resourceType, c.id)
		if c.notFound {
			wantNotFound(t, "Version "+c.resourceType+" "+c.id, err)
			continue
		}
		if err != nil || v != c.want {
			t.Errorf("Version(%s, %s, %s) = %d, %v; want %d", c.app, c.resourceType, c.id, v, err, c.want)
		}
	}
	if _, err := s.Version(t.Context(), app, "Widget", "alice"); err == nil {
		t.Error("Version of an unknown resource type succeeded")
	}
}

func testEvents(t *testing.T, open Opener) {
	t.Run("append and read", func(t *testing.T) {
		s := fresh(t, open)
		at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
		batch := []store.Event{
			{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u1"},
			{App: other, Type: store.GroupCreated, ResourceType: "Group", ResourceID: "g1", Time: at},
			{App: app, Type: store.UserUpdated, ResourceType: "User", ResourceID: "u1", Attributes: []string{"name", "emails"}, ID: "evt_given"},
			{App: app, Type: store.GroupMemberAdded, ResourceType: "Group", ResourceID: "g2", MemberID: "u1"},
		}
		before := time.Now().Add(-time.Second)
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), batch) })
		for i, e := range batch {
			if e.Seq == 0 || (i > 0 && e.Seq <= batch[i-1].Seq) {
				t.Errorf("event %d: seq %d does not follow %v", i, e.Seq, batch)
			}
			if e.ID == "" || (i != 2 && e.ID == batch[2].ID) {
				t.Errorf("event %d: id %q", i, e.ID)
			}
		}
		if batch[2].ID != "evt_given" {
			t.Errorf("a given id was replaced: %q", batch[2].ID)
		}
		if !batch[1].Time.Equal(at) || batch[0].Time.Before(before) {
			t.Errorf("times: %v, %v", batch[0].Time, batch[1].Time)
		}
		all, err := s.Events(t.Context(), "", 0, 100)
		if err != nil {
			t.Fatalf("Events: %v", err)
		}
		if len(all) != 4 {
			t.Fatalf("Events of every app: %d, want 4", len(all))
		}
		for i := range all {
			want := batch[i]
			got := all[i]
			if !got.Time.Equal(want.Time) {
				t.Errorf("event %d time %v, want %v", i, got.Time, want.Time)
			}
			got.Time, want.Time = time.Time{}, time.Time{}
			if !eventsEqual(got, want) {
				t.Errorf("event %d read back as %+v, want %+v", i, got, want)
			}
		}
		mine, err := s.Events(t.Context(), app, 0, 100)
		if err != nil || len(mine) != 3 || mine[1].ID != "evt_given" {
			t.Errorf("Events of %s: %+v, %v", app, mine, err)
		}
		page, err := s.Events(t.Context(), app, batch[0].Seq, 1)
		if err != nil || len(page) != 1 || page[0].Seq != batch[2].Seq {
			t.Errorf("Events after %d, limit 1: %+v, %v", batch[0].Seq, page, err)
		}
		if rest, err := s.Events(t.Context(), app, batch[3].Seq, 10); err != nil || len(rest) != 0 {
			t.Errorf("Events after the last: %+v, %v", rest, err)
		}
	})

	t.Run("latest", func(t *testing.T) {
		s := fresh(t, open)
		batch := []store.Event{
			{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u1"},
			{App: other, Type: store.UserCreated, ResourceType: "User", ResourceID: "o1"},
			{App: app, Type: store.UserUpdated, ResourceType: "User", ResourceID: "u1", Attributes: []string{"name"}},
			{App: app, Type: store.GroupMemberAdded, ResourceType: "Group", ResourceID: "g1", MemberID: "u1"},
			{App: other, Type: store.UserDeleted, ResourceType: "User", ResourceID: "o1"},
		}
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), batch) })
		cases := []struct {
			name string
			app  string
			n    int
			want []int // indexes into batch, oldest first
		}{
			{"last two of the app", app, 2, []int{2, 3}},
			{"more than there are", app, 10, []int{0, 2, 3}},
			{"last one", app, 1, []int{3}},
			{"none asked", app, 0, nil},
			{"every app", "", 3, []int{2, 3, 4}},
			{"unknown app", "ghost", 5, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := s.LatestEvents(t.Context(), c.app, c.n)
				if err != nil {
					t.Fatalf("LatestEvents: %v", err)
				}
				if len(got) != len(c.want) {
					t.Fatalf("LatestEvents(%q, %d) returned %d events, want %d: %+v", c.app, c.n, len(got), len(c.want), got)
				}
				for i, j := range c.want {
					if !eventsEqual(got[i], batch[j]) {
						t.Errorf("event %d is %+v, want %+v", i, got[i], batch[j])
					}
				}
			})
		}
	})

	t.Run("a failed update leaves no event", func(t *testing.T) {
		s := fresh(t, open)
		first := []store.Event{{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u1"}}
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), first) })
		err := s.Update(t.Context(), func(tx store.Tx) error {
			lost := []store.Event{{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u2"}}
			if err := tx.AppendEvents(t.Context(), lost); err != nil {
				return err
			}
			return errBoom
		})
		if err == nil {
			t.Fatal("the failing update succeeded")
		}
		second := []store.Event{{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u3"}}
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), second) })
		evs, err := s.Events(t.Context(), app, 0, 10)
		if err != nil || len(evs) != 2 || evs[1].ResourceID != "u3" || evs[1].Seq <= first[0].Seq {
			t.Errorf("events: %+v, %v", evs, err)
		}
	})

	t.Run("cursor", func(t *testing.T) {
		s := fresh(t, open)
		steps := []struct {
			mark, want int64
		}{{5, 5}, {3, 5}, {9, 9}, {9, 9}}
		if seq, err := s.Cursor(t.Context(), "dispatcher"); err != nil || seq != 0 {
			t.Errorf("new cursor: %d, %v", seq, err)
		}
		for _, st := range steps {
			update(t, s, func(tx store.Tx) error { return tx.MarkProcessed(t.Context(), "dispatcher", st.mark) })
			if seq, err := s.Cursor(t.Context(), "dispatcher"); err != nil || seq != st.want {
				t.Errorf("after marking %d: cursor %d, %v; want %d", st.mark, seq, err, st.want)
			}
		}
		if seq, err := s.Cursor(t.Context(), "other"); err != nil || seq != 0 {
			t.Errorf("another consumer's cursor: %d, %v", seq, err)
		}
	})

	t.Run("prune", func(t *testing.T) {
		s := fresh(t, open)
		old := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var batch []store.Event
		for i := range 10 {
			at := old.Add(time.Duration(i) * time.Hour)
			if i >= 8 {
				at = old.AddDate(0, 6, 0) // recent
			}
			batch = append(batch, store.Event{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: fmt.Sprintf("u%d", i), Time: at})
		}
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), batch) })
		cutoff := old.AddDate(0, 1, 0)
		prune := func(limit int) int {
			var n int
			update(t, s, func(tx store.Tx) error {
				var err error
				n, err = tx.PruneEvents(t.Context(), cutoff, limit)
				return err
			})
			return n
		}
		left := func() []string {
			evs, err := s.Events(t.Context(), "", 0, 100)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, e := range evs {
				ids = append(ids, e.ResourceID)
			}
			return ids
		}
		steps := []struct {
			name   string
			mark   map[string]int // consumer → index of the last event it processed
			limit  int
			pruned int
			first  string // the oldest event left
		}{
			{"no consumer yet keeps everything", nil, 100, 0, "u0"},
			{"only what the slowest consumer processed", map[string]int{"a": 5, "b": 2}, 100, 3, "u3"},
			{"at most limit at a time", map[string]int{"b": 7}, 2, 2, "u5"},
			{"never what is too recent", map[string]int{"a": 9, "b": 9}, 100, 3, "u8"},
		}
		for _, st := range steps {
			for consumer, i := range st.mark {
				update(t, s, func(tx store.Tx) error { return tx.MarkProcessed(t.Context(), consumer, batch[i].Seq) })
			}
			if n := prune(st.limit); n != st.pruned {
				t.Errorf("%s: pruned %d, want %d", st.name, n, st.pruned)
			}
			if ids := left(); len(ids) == 0 || ids[0] != st.first {
				t.Errorf("%s: left %v, want them to start at %s", st.name, ids, st.first)
			}
		}
		// A new event after pruning still gets a higher seq than any
		// before it, so cursors stay meaningful.
		next := []store.Event{{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u10"}}
		update(t, s, func(tx store.Tx) error { return tx.AppendEvents(t.Context(), next) })
		if next[0].Seq <= batch[9].Seq {
			t.Errorf("seq %d after pruning, want above %d", next[0].Seq, batch[9].Seq)
		}
	})
}

func eventsEqual(a, b store.Event) bool {
	return a.Seq == b.Seq && a.ID == b.ID && a.App == b.App && a.Type == b.Type &&
		a.ResourceType == b.ResourceType && a.ResourceID == b.ResourceID && a.MemberID == b.MemberID &&
		slices.Equal(a.Attributes, b.Attributes) && a.Time.Equal(b.Time)
}
