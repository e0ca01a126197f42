package scim

import (
	"reflect"
	"slices"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Change events are computed from the stored and the new state, never from
// the HTTP verb: Okta deactivates by PUT or by PATCH without a path, Entra
// ID by PATCH with "False", and Okta re-sends an unchanged group rename
// with every membership change. Nothing changed, no event.

// active reads a user's active flag; a user without one is active.
func active(doc map[string]any) bool { return doc["active"] != false }

// userEvents are the events of a user going from old to new (old nil for
// a new user, new nil for a deleted one).
func userEvents(res *catalog.Resource, app, id string, old, new map[string]any) []store.Event {
	ev := func(t store.EventType, attrs []string) store.Event {
		return store.Event{App: app, Type: t, ResourceType: "User", ResourceID: id, Attributes: attrs}
	}
	switch {
	case old == nil:
		return []store.Event{ev(store.UserCreated, nil)}
	case new == nil:
		if active(old) {
			// Deactivation flows (reassigning a leaver's work) must run
			// for a user deleted while still active.
			return []store.Event{ev(store.UserDeactivated, nil), ev(store.UserDeleted, nil)}
		}
		return []store.Event{ev(store.UserDeleted, nil)}
	}
	var events []store.Event
	changed := slices.DeleteFunc(changedAttributes(res, old, new), func(a string) bool { return a == "active" })
	if len(changed) > 0 {
		events = append(events, ev(store.UserUpdated, changed))
	}
	switch was, is := active(old), active(new); {
	case was && !is:
		events = append(events, ev(store.UserDeactivated, nil))
	case !was && is:
		events = append(events, ev(store.UserReactivated, nil))
	}
	return events
}

// groupEvents are the events of a group's attributes going from old to new
// (old nil for a new group, new nil for a deleted one) and of the member
// changes, in that order.
func groupEvents(res *catalog.Resource, app, id string, old, new map[string]any, added, removed []string) []store.Event {
	ev := func(t store.EventType) store.Event {
		return store.Event{App: app, Type: t, ResourceType: "Group", ResourceID: id}
	}
	var events []store.Event
	switch {
	case old == nil:
		events = append(events, ev(store.GroupCreated))
	case new == nil:
		// A deleted group's members leave it first, so that role rules
		// keyed on the group are re-evaluated for each of them.
		for _, m := range removed {
			e := ev(store.GroupMemberRemoved)
			e.MemberID = m
			events = append(events, e)
		}
		return append(events, ev(store.GroupDeleted))
	default:
		changed := changedAttributes(res, old, new)
		if slices.Contains(changed, "displayName") {
			events = append(events, ev(store.GroupRenamed))
			changed = slices.DeleteFunc(changed, func(a string) bool { return a == "displayName" })
		}
		if len(changed) > 0 {
			e := ev(store.GroupUpdated)
			e.Attributes = changed
			events = append(events, e)
		}
	}
	for _, m := range added {
		e := ev(store.GroupMemberAdded)
		e.MemberID = m
		events = append(events, e)
	}
	for _, m := range removed {
		e := ev(store.GroupMemberRemoved)
		e.MemberID = m
		events = append(events, e)
	}
	return events
}

// changedAttributes lists, by path, the top-level attributes whose values
// differ between two documents; extension attributes count one by one.
func changedAttributes(res *catalog.Resource, old, new map[string]any) []string {
	var changed []string
	for _, a := range res.Attributes() {
		var o, n any
		if a.Extension() {
			o, n = asMap(old[a.Schema])[a.Name], asMap(new[a.Schema])[a.Name]
		} else {
			o, n = old[a.Name], new[a.Name]
		}
		if !reflect.DeepEqual(o, n) {
			changed = append(changed, a.Path())
		}
	}
	return changed
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// memberChanges nets the member changes of one request: a member added
// and removed again, or removed and added back, did not change.
type memberChanges struct {
	order []string
	was   map[string]bool // membership before the request, of the ids touched
	is    map[string]bool
}

func newMemberChanges() *memberChanges {
	return &memberChanges{was: map[string]bool{}, is: map[string]bool{}}
}

func (m *memberChanges) record(id string, member bool) {
	if _, seen := m.was[id]; !seen {
		m.was[id] = !member
		m.order = append(m.order, id)
	}
	m.is[id] = member
}

func (m *memberChanges) added(ids []string) {
	for _, id := range ids {
		m.record(id, true)
	}
}

func (m *memberChanges) removed(ids []string) {
	for _, id := range ids {
		m.record(id, false)
	}
}

// net returns the members added and removed by the request as a whole.
func (m *memberChanges) net() (added, removed []string) {
	for _, id := range m.order {
		switch was, is := m.was[id], m.is[id]; {
		case !was && is:
			added = append(added, id)
		case was && !is:
			removed = append(removed, id)
		}
	}
	return added, removed
}
