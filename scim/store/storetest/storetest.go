// Package storetest is the conformance suite for store.Store backends. A
// backend's tests call Run with a function that opens a fresh, empty store;
// every behaviour the SCIM layer relies on is checked here, so that all
// backends answer alike.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// The apps of the suite. Nothing done in one may be visible in the other.
const (
	app   = "acme"
	other = "other"
)

const (
	enterprise = catalog.EnterpriseUserSchema
	bridge     = catalog.BridgeUserSchema
)

// Opener opens a fresh, empty store. The suite closes it.
type Opener = func(t *testing.T) store.Store

// Run runs the conformance suite. Each subtest opens a store of its own
// with open; the filter and paging tables share one store per table, which
// they only read.
func Run(t *testing.T, open Opener) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("Groups", func(t *testing.T) { testGroups(t, open) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, open) })
	t.Run("UserState", func(t *testing.T) { testUserState(t, open) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("UserFilters", func(t *testing.T) { testUserFilters(t, open) })
	t.Run("GroupFilters", func(t *testing.T) { testGroupFilters(t, open) })
	t.Run("Paging", func(t *testing.T) { testPaging(t, open) })
	t.Run("Totals", func(t *testing.T) { testTotals(t, open) })
	t.Run("Members", func(t *testing.T) { testMembers(t, open) })
	t.Run("LargeMemberships", func(t *testing.T) { testLargeMemberships(t, open) })
	t.Run("Version", func(t *testing.T) { testVersion(t, open) })
	t.Run("Events", func(t *testing.T) { testEvents(t, open) })
}

// fresh opens a store and closes it when the test ends.
func fresh(t *testing.T, open Opener) store.Store {
	t.Helper()
	s := open(t)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

type doc = map[string]any

// newUser builds a user whose attribute document holds userName and attrs.
func newUser(id, userName string, attrs doc) *store.User {
	m := doc{"userName": userName}
	for k, v := range attrs {
		m[k] = v
	}
	raw, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return &store.User{ID: id, UserName: userName, Attributes: raw}
}

func newGroup(id, displayName string) *store.Group {
	return &store.Group{ID: id, DisplayName: displayName, Attributes: json.RawMessage(`{}`)}
}

func update(t *testing.T, s store.Store, fn func(tx store.Tx) error) {
	t.Helper()
	if err := s.Update(t.Context(), fn); err != nil {
		t.Fatalf("Update: %v", err)
	}
}

// createUsers creates each user in a transaction of its own, so that
// creation order and creation times follow the argument order.
func createUsers(t *testing.T, s store.Store, app string, users ...*store.User) {
	t.Helper()
	for _, u := range users {
		update(t, s, func(tx store.Tx) error { return tx.CreateUser(t.Context(), app, u) })
	}
}

func createGroup(t *testing.T, s store.Store, app string, g *store.Group, members ...string) {
	t.Helper()
	update(t, s, func(tx store.Tx) error { return tx.CreateGroup(t.Context(), app, g, members) })
}

func getUser(t *testing.T, s store.Reader, app, id string, load store.Load) store.User {
	t.Helper()
	u, err := s.GetUser(t.Context(), app, id, load)
	if err != nil {
		t.Fatalf("GetUser(%s, %s): %v", app, id, err)
	}
	return u
}

func getGroup(t *testing.T, s store.Reader, app, id string, load store.Load) store.Group {
	t.Helper()
	g, err := s.GetGroup(t.Context(), app, id, load)
	if err != nil {
		t.Fatalf("GetGroup(%s, %s): %v", app, id, err)
	}
	return g
}

func wantNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("%s: got error %v, want store.ErrNotFound", what, err)
	}
}

func wantConflict(t *testing.T, err error, attribute string) {
	t.Helper()
	var ce *store.ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("got error %v, want *store.ConflictError", err)
	}
	if ce.Attribute != attribute {
		t.Errorf("ConflictError.Attribute = %q, want %q", ce.Attribute, attribute)
	}
}

func wantUnknownMember(t *testing.T, err error, id string, group bool) {
	t.Helper()
	var ue *store.UnknownMemberError
	if !errors.As(err, &ue) {
		t.Fatalf("got error %v, want *store.UnknownMemberError", err)
	}
	if ue.ID != id || ue.Group != group {
		t.Errorf("UnknownMemberError = {ID: %q, Group: %v}, want {ID: %q, Group: %v}", ue.ID, ue.Group, id, group)
	}
}

// sameJSON reports whether two JSON documents hold the same value.
func sameJSON(t *testing.T, got, want json.RawMessage) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("stored attributes are not JSON: %v: %s", err, got)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("test attributes are not JSON: %v", err)
	}
	return reflect.DeepEqual(g, w)
}

func userIDs(users []store.User) []string {
	ids := []string{}
	for _, u := range users {
		ids = append(ids, u.ID)
	}
	return ids
}

func groupIDs(groups []store.Group) []string {
	ids := []string{}
	for _, g := range groups {
		ids = append(ids, g.ID)
	}
	return ids
}

// sorted returns a sorted copy, for comparing sets.
func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	if s == nil {
		s = []string{}
	}
	return s
}

// all asks for every result in one page.
func all(f query.Expr) store.List { return store.List{Filter: f, StartIndex: 1, Count: 1000} }

func testUsers(t *testing.T, open Opener) {
	t.Run("create and get", func(t *testing.T) {
		s := fresh(t, open)
		u := newUser("u1", "alice@example.com", doc{
			"name":     doc{"givenName": "Alice"},
			"emails":   []any{doc{"value": "alice@example.com", "type": "work", "primary": true}},
			enterprise: doc{"employeeNumber": "42"},
		})
		u.ExternalID = "EXT-1"
		before := time.Now()
		createUsers(t, s, app, u)
		if u.Version != 1 {
			t.Errorf("CreateUser set Version %d, want 1", u.Version)
		}
		if u.Created.IsZero() || !u.Created.Equal(u.Modified) {
			t.Errorf("CreateUser set Created %v, Modified %v; want equal, non-zero times", u.Created, u.Modified)
		}
		if u.Created.Before(before.Add(-time.Second)) {
			t.Errorf("Created %v is before the test started (%v)", u.Created, before)
		}
		got := getUser(t, s, app, "u1", store.Load{})
		if got.ID != "u1" || got.UserName != u.UserName || got.ExternalID != "EXT-1" {
			t.Errorf("GetUser = {ID: %q, UserName: %q, ExternalID: %q}, want u1, %q, EXT-1", got.ID, got.UserName, got.ExternalID, u.UserName)
		}
		if !sameJSON(t, got.Attributes, u.Attributes) {
			t.Errorf("Attributes = %s, want %s", got.Attributes, u.Attributes)
		}
		if got.Version != 1 || !got.Created.Equal(u.Created) || !got.Modified.Equal(u.Modified) {
			t.Errorf("GetUser: Version %d, Created %v, Modified %v; want 1, %v, %v", got.Version, got.Created, got.Modified, u.Created, u.Modified)
		}
		if got.Groups != nil || got.State != nil {
			t.Errorf("GetUser without Load filled Groups %v, State %v", got.Groups, got.State)
		}
	})

	t.Run("no externalId reads back empty", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", nil))
		if got := getUser(t, s, app, "u1", store.Load{}); got.ExternalID != "" {
			t.Errorf("ExternalID = %q, want empty", got.ExternalID)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, other, newUser("o1", "a", nil))
		cases := []struct{ name, app, id string }{
			{"unknown id", app, "nope"},
			{"id of another app", app, "o1"},
			{"empty id", app, ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				_, err := s.GetUser(t.Context(), c.app, c.id, store.Load{})
				wantNotFound(t, "GetUser", err)
				err = s.Update(t.Context(), func(tx store.Tx) error {
					return tx.ReplaceUser(t.Context(), c.app, newUser(c.id, "x", nil))
				})
				wantNotFound(t, "ReplaceUser", err)
				err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteUser(t.Context(), c.app, c.id) })
				wantNotFound(t, "DeleteUser", err)
			})
		}
		if got := getUser(t, s, other, "o1", store.Load{}); got.UserName != "a" || got.Version != 1 {
			t.Errorf("the other app's user changed: %+v", got)
		}
	})

	t.Run("replace", func(t *testing.T) {
		s := fresh(t, open)
		u := newUser("u1", "alice", doc{"title": "Engineer"})
		createUsers(t, s, app, u)
		created := u.Created
		for version := int64(2); version <= 3; version++ {
			time.Sleep(2 * time.Millisecond)
			r := newUser("u1", "alice2", doc{"displayName": fmt.Sprint("v", version)})
			r.ExternalID = "X"
			update(t, s, func(tx store.Tx) error { return tx.ReplaceUser(t.Context(), app, r) })
			if r.Version != version || !r.Created.Equal(created) || !r.Modified.After(created) {
				t.Errorf("ReplaceUser set Version %d, Created %v, Modified %v; want %d, %v, after it", r.Version, r.Created, r.Modified, version, created)
			}
			got := getUser(t, s, app, "u1", store.Load{})
			if got.Version != version || !got.Created.Equal(created) || !got.Modified.Equal(r.Modified) {
				t.Errorf("after replace: Version %d, Created %v, Modified %v; want %d, %v, %v", got.Version, got.Created, got.Modified, version, created, r.Modified)
			}
			if got.UserName != "alice2" || got.ExternalID != "X" || !sameJSON(t, got.Attributes, r.Attributes) {
				t.Errorf("after replace: %q %q %s, want alice2 X %s", got.UserName, got.ExternalID, got.Attributes, r.Attributes)
			}
		}
	})

	t.Run("replace reindexes emails", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", doc{"emails": []any{doc{"value": "old@x.com"}}}))
		update(t, s, func(tx store.Tx) error {
			return tx.ReplaceUser(t.Context(), app, newUser("u1", "a", doc{"emails": []any{doc{"value": "new@x.com"}}}))
		})
		for _, c := range []struct {
			filter string
			want   []string
		}{
			{`emails.value eq "old@x.com"`, []string{}},
			{`emails.value eq "new@x.com"`, []string{"u1"}},
		} {
			if got := userIDs(listUsers(t, s, app, all(userFilter(t, c.filter))).Resources); !slices.Equal(got, c.want) {
				t.Errorf("%s: got %v, want %v", c.filter, got, c.want)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", nil), newUser("u2", "b", nil))
		update(t, s, func(tx store.Tx) error { return tx.DeleteUser(t.Context(), app, "u1") })
		_, err := s.GetUser(t.Context(), app, "u1", store.Load{})
		wantNotFound(t, "GetUser after delete", err)
		getUser(t, s, app, "u2", store.Load{})
		err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteUser(t.Context(), app, "u1") })
		wantNotFound(t, "second DeleteUser", err)
		// The userName is free again.
		createUsers(t, s, app, newUser("u3", "A", nil))
	})

	t.Run("delete removes the user from groups", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", nil), newUser("u2", "b", nil))
		createGroup(t, s, app, newGroup("g1", "G"), "u1", "u2")
		update(t, s, func(tx store.Tx) error { return tx.DeleteUser(t.Context(), app, "u1") })
		g := getGroup(t, s, app, "g1", store.Load{Members: true})
		if got := memberIDs(g); !slices.Equal(got, []string{"u2"}) {
			t.Errorf("members after deleting u1: %v, want [u2]", got)
		}
		page := listGroups(t, s, app, all(groupFilter(t, `members eq "u1"`)))
		if page.Total != 0 {
			t.Errorf(`members eq "u1" after delete: total %d, want 0`, page.Total)
		}
	})

	t.Run("userName conflicts", func(t *testing.T) {
		cases := []struct {
			name, existing, new string
			sameApp             bool
			conflict            bool
		}{
			{"same", "alice", "alice", true, true},
			{"ASCII case", "alice@example.com", "ALICE@Example.COM", true, true},
			{"non-ASCII case", "ÉMILE@x.com", "émile@X.COM", true, true},
			{"different", "alice", "alicia", true, false},
			{"accent differs", "emile", "émile", true, false},
			{"other app", "alice", "alice", false, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := fresh(t, open)
				createUsers(t, s, app, newUser("u1", c.existing, nil))
				target := app
				if !c.sameApp {
					target = other
				}
				err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.CreateUser(t.Context(), target, newUser("u2", c.new, nil))
				})
				if !c.conflict {
					if err != nil {
						t.Fatalf("CreateUser(%q) after %q: %v", c.new, c.existing, err)
					}
					return
				}
				wantConflict(t, err, "userName")
				_, err = s.GetUser(t.Context(), target, "u2", store.Load{})
				wantNotFound(t, "the conflicting user", err)
			})
		}
	})

	t.Run("replace userName", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "alice", nil), newUser("u2", "bob", nil))
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.ReplaceUser(t.Context(), app, newUser("u2", "ALICE", nil))
		})
		wantConflict(t, err, "userName")
		if got := getUser(t, s, app, "u2", store.Load{}); got.UserName != "bob" || got.Version != 1 {
			t.Errorf("after the failed replace: %q version %d, want bob version 1", got.UserName, got.Version)
		}
		// Changing the case of one's own userName is no conflict.
		update(t, s, func(tx store.Tx) error {
			return tx.ReplaceUser(t.Context(), app, newUser("u1", "Alice", nil))
		})
		if got := getUser(t, s, app, "u1", store.Load{}); got.UserName != "Alice" {
			t.Errorf("userName = %q, want Alice", got.UserName)
		}
	})
}

func memberIDs(g store.Group) []string {
	ids := []string{}
	for _, m := range g.Members {
		ids = append(ids, m.ID)
	}
	return sorted(ids)
}

func testGroups(t *testing.T, open Opener) {
	// seed creates alice (with a displayName), bob (without), carol, and
	// a user of the other app.
	seed := func(t *testing.T) store.Store {
		s := fresh(t, open)
		createUsers(t, s, app,
			newUser("alice", "alice@x.com", doc{"displayName": "Alice A"}),
			newUser("bob", "bob@x.com", nil),
			newUser("carol", "carol@x.com", nil))
		createUsers(t, s, other, newUser("olga", "olga@x.com", nil))
		return s
	}

	t.Run("create and get", func(t *testing.T) {
		s := seed(t)
		g := newGroup("g1", "Admins")
		g.ExternalID = "G-1"
		createGroup(t, s, app, g, "alice", "bob")
		if g.Version != 1 || g.Created.IsZero() || !g.Created.Equal(g.Modified) {
			t.Errorf("CreateGroup set Version %d, Created %v, Modified %v", g.Version, g.Created, g.Modified)
		}
		got := getGroup(t, s, app, "g1", store.Load{Members: true})
		if got.DisplayName != "Admins" || got.ExternalID != "G-1" || got.Version != 1 || !got.Created.Equal(g.Created) {
			t.Errorf("GetGroup = %+v", got)
		}
		want := []store.Member{{ID: "alice", Display: "Alice A"}, {ID: "bob", Display: "bob@x.com"}}
		members := slices.Clone(got.Members)
		slices.SortFunc(members, func(a, b store.Member) int { return cmpString(a.ID, b.ID) })
		if !slices.Equal(members, want) {
			t.Errorf("Members = %+v, want %+v (Display is displayName, else userName)", got.Members, want)
		}
		if again := getGroup(t, s, app, "g1", store.Load{Members: true}); !slices.Equal(again.Members, got.Members) {
			t.Errorf("member order is not stable: %v then %v", got.Members, again.Members)
		}
	})

	t.Run("members only when asked", func(t *testing.T) {
		s := seed(t)
		createGroup(t, s, app, newGroup("g1", "Admins"), "alice")
		if got := getGroup(t, s, app, "g1", store.Load{}); got.Members != nil {
			t.Errorf("GetGroup without Load.Members: Members = %v", got.Members)
		}
		page := listGroups(t, s, app, all(nil))
		if len(page.Resources) != 1 || page.Resources[0].Members != nil {
			t.Errorf("ListGroups without Load.Members: %+v", page.Resources)
		}
		q := all(nil)
		q.Load.Members = true
		page = listGroups(t, s, app, q)
		if len(page.Resources) != 1 || !slices.Equal(memberIDs(page.Resources[0]), []string{"alice"}) {
			t.Errorf("ListGroups with Load.Members: %+v", page.Resources)
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := seed(t)
		createGroup(t, s, other, newGroup("og", "Admins"), "olga")
		for _, id := range []string{"nope", "og"} {
			_, err := s.GetGroup(t.Context(), app, id, store.Load{})
			wantNotFound(t, "GetGroup "+id, err)
			err = s.Update(t.Context(), func(tx store.Tx) error {
				return tx.ReplaceGroup(t.Context(), app, newGroup(id, "X"))
			})
			wantNotFound(t, "ReplaceGroup "+id, err)
			for name, op := range map[string]func(tx store.Tx) error{
				"AddMembers": func(tx store.Tx) error {
					_, err := tx.AddMembers(t.Context(), app, id, []string{"alice"})
					return err
				},
				"RemoveMembers": func(tx store.Tx) error {
					_, err := tx.RemoveMembers(t.Context(), app, id, []string{"olga"})
					return err
				},
				"RemoveMembersWhere": func(tx store.Tx) error {
					_, err := tx.RemoveMembersWhere(t.Context(), app, id, nil)
					return err
				},
				"SetMembers": func(tx store.Tx) error {
					_, _, err := tx.SetMembers(t.Context(), app, id, nil)
					return err
				},
			} {
				wantNotFound(t, name+" "+id, s.Update(t.Context(), op))
			}
			_, err = s.Version(t.Context(), app, "Group", id)
			wantNotFound(t, "Version "+id, err)
			err = s.Update(t.Context(), func(tx store.Tx) error { return tx.DeleteGroup(t.Context(), app, id) })
			wantNotFound(t, "DeleteGroup "+id, err)
		}
		if got := getGroup(t, s, other, "og", store.Load{Members: true}); got.DisplayName != "Admins" || len(got.Members) != 1 {
			t.Errorf("the other app's group changed: %+v", got)
		}
	})

	t.Run("displayName conflicts", func(t *testing.T) {
		cases := []struct {
			name, existing, new string
			sameApp, conflict   bool
		}{
			{"same", "Admins", "Admins", true, true},
			{"ASCII case", "Admins", "ADMINS", true, true},
			{"non-ASCII case", "Équipe", "éQUIPE", true, true},
			{"different", "Admins", "Admin", true, false},
			{"other app", "Admins", "Admins", false, false},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := seed(t)
				createGroup(t, s, app, newGroup("g1", c.existing))
				target := app
				if !c.sameApp {
					target = other
				}
				err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.CreateGroup(t.Context(), target, newGroup("g2", c.new), nil)
				})
				if !c.conflict {
					if err != nil {
						t.Fatalf("CreateGroup(%q) after %q: %v", c.new, c.existing, err)
					}
					return
				}
				wantConflict(t, err, "displayName")
			})
		}
	})

	t.Run("replace displayName conflict", func(t *testing.T) {
		s := seed(t)
		createGroup(t, s, app, newGroup("g1", "Admins"))
		createGroup(t, s, app, newGroup("g2", "Users"), "bob")
		err := s.Update(t.Context(), func(tx store.Tx) error {
			return tx.ReplaceGroup(t.Context(), app, newGroup("g2", "admins"))
		})
		wantConflict(t, err, "displayName")
		got := getGroup(t, s, app, "g2", store.Load{Members: true})
		if got.DisplayName != "Users" || !slices.Equal(memberIDs(got), []string{"bob"}) {
			t.Errorf("after the failed replace: %+v", got)
		}
	})

	t.Run("unknown members", func(t *testing.T) {
		cases := []struct {
			name    string
			members []string
			id      string
			group   bool
		}{
			{"unknown id", []string{"alice", "ghost"}, "ghost", false},
			{"user of another app", []string{"olga"}, "olga", false},
			{"a group", []string{"alice", "g0"}, "g0", true},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := seed(t)
				createGroup(t, s, app, newGroup("g0", "Existing"))
				err := s.Update(t.Context(), func(tx store.Tx) error {
					return tx.CreateGroup(t.Context(), app, newGroup("g1", "New"), c.members)
				})
				wantUnknownMember(t, err, c.id, c.group)
				_, err = s.GetGroup(t.Context(), app, "g1", store.Load{})
				wantNotFound(t, "the group with an unknown member", err)

				createGroup(t, s, app, newGroup("g2", "Other"), "bob")
				for name, op := range map[string]func(tx store.Tx) error{
					"SetMembers": func(tx store.Tx) error {
						_, _, err := tx.SetMembers(t.Context(), app, "g2", c.members)
						return err
					},
					"AddMembers": func(tx store.Tx) error {
						_, err := tx.AddMembers(t.Context(), app, "g2", c.members)
						return err
					},
				} {
					err = s.Update(t.Context(), op)
					wantUnknownMember(t, err, c.id, c.group)
					if got := getGroup(t, s, app, "g2", store.Load{Members: true}); !slices.Equal(memberIDs(got), []string{"bob"}) || got.Version != 1 {
						t.Errorf("after the failed %s: version %d, members %v", name, got.Version, memberIDs(got))
					}
				}
			})
		}
	})

	t.Run("replace sets membership exactly", func(t *testing.T) {
		cases := []struct {
			name                  string
			before, after         []string
			wantAdded, wantRemove []string
		}{
			{"add and remove", []string{"alice", "bob"}, []string{"bob", "carol"}, []string{"carol"}, []string{"alice"}},
			{"remove all", []string{"alice", "bob"}, nil, nil, []string{"alice", "bob"}},
			{"from none", nil, []string{"carol", "alice", "bob"}, []string{"carol", "alice", "bob"}, nil},
			{"same", []string{"alice"}, []string{"alice"}, nil, nil},
			{"duplicates", nil, []string{"bob", "bob"}, []string{"bob"}, nil},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				s := seed(t)
				g := newGroup("g1", "Admins")
				createGroup(t, s, app, g, c.before...)
				created := g.Created
				time.Sleep(2 * time.Millisecond)
				r := newGroup("g1", "Admins2")
				r.ExternalID = "E"
				update(t, s, func(tx store.Tx) error {
					added, removed, err := tx.SetMembers(t.Context(), app, "g1", c.after)
					if err != nil {
						return err
					}
					if !slices.Equal(added, c.wantAdded) || !slices.Equal(sorted(removed), c.wantRemove) {
						t.Errorf("SetMembers(%v) from %v: added %v, removed %v; want %v, %v", c.after, c.before, added, removed, c.wantAdded, c.wantRemove)
					}
					return tx.ReplaceGroup(t.Context(), app, r)
				})
				got := getGroup(t, s, app, "g1", store.Load{Members: true})
				if want := sorted(slices.Compact(sorted(c.after))); !slices.Equal(memberIDs(got), want) {
					t.Errorf("members = %v, want %v", memberIDs(got), want)
				}
				if got.DisplayName != "Admins2" || got.ExternalID != "E" || got.Version != 2 || !got.Created.Equal(created) || !got.Modified.After(created) {
					t.Errorf("after replace: %+v (created %v)", got, created)
				}
			})
		}
	})

	t.Run("user groups only when asked", func(t *testing.T) {
		s := seed(t)
		createGroup(t, s, app, newGroup("g1", "Admins"), "alice", "bob")
		createGroup(t, s, app, newGroup("g2", "Users"), "alice")
		if got := getUser(t, s, app, "alice", store.Load{}); got.Groups != nil {
			t.Errorf("GetUser without Load.Groups: Groups = %v", got.Groups)
		}
		got := getUser(t, s, app, "alice", store.Load{Groups: true})
		refs := slices.Clone(got.Groups)
		slices.SortFunc(refs, func(a, b store.GroupRef) int { return cmpString(a.ID, b.ID) })
		if want := []store.GroupRef{{ID: "g1", DisplayName: "Admins"}, {ID: "g2", DisplayName: "Users"}}; !slices.Equal(refs, want) {
			t.Errorf("alice's groups = %v, want %v", got.Groups, want)
		}
		if got := getUser(t, s, app, "carol", store.Load{Groups: true}); len(got.Groups) != 0 {
			t.Errorf("carol's groups = %v, want none", got.Groups)
		}
		q := all(nil)
		q.Load.Groups = true
		byID := map[string]int{}
		for _, u := range listUsers(t, s, app, q).Resources {
			byID[u.ID] = len(u.Groups)
		}
		if want := map[string]int{"alice": 2, "bob": 1, "carol": 0}; !reflect.DeepEqual(byID, want) {
			t.Errorf("ListUsers with Load.Groups: group counts %v, want %v", byID, want)
		}
		for _, u := range listUsers(t, s, app, all(nil)).Resources {
			if u.Groups != nil {
				t.Errorf("ListUsers without Load.Groups filled %s's groups", u.ID)
			}
		}
	})

	t.Run("delete", func(t *testing.T) {
		s := seed(t)
		createGroup(t, s, app, newGroup("g1", "Admins"), "alice")
		update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(t.Context(), app, "g1") })
		_, err := s.GetGroup(t.Context(), app, "g1", store.Load{})
		wantNotFound(t, "GetGroup after delete", err)
		if got := getUser(t, s, app, "alice", store.Load{Groups: true}); len(got.Groups) != 0 {
			t.Errorf("alice's groups after the group was deleted: %v", got.Groups)
		}
		// The displayName is free again.
		createGroup(t, s, app, newGroup("g2", "ADMINS"))
	})
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

var errBoom = errors.New("boom")

func testUpdate(t *testing.T, open Opener) {
	t.Run("error leaves no trace", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", doc{"title": "old"}))
		createGroup(t, s, app, newGroup("g1", "G"), "u1")
		err := s.Update(t.Context(), func(tx store.Tx) error {
			ctx := t.Context()
			if err := tx.CreateUser(ctx, app, newUser("u2", "b", nil)); err != nil {
				return err
			}
			if err := tx.ReplaceUser(ctx, app, newUser("u1", "a", doc{"title": "new"})); err != nil {
				return err
			}
			if _, _, err := tx.SetMembers(ctx, app, "g1", []string{"u2"}); err != nil {
				return err
			}
			if err := tx.ReplaceGroup(ctx, app, newGroup("g1", "G")); err != nil {
				return err
			}
			if err := tx.AppendEvents(ctx, []store.Event{{App: app, Type: store.UserCreated, ResourceType: "User", ResourceID: "u2"}}); err != nil {
				return err
			}
			if err := tx.MarkProcessed(ctx, "dispatcher", 1); err != nil {
				return err
			}
			if err := tx.CreateToken(ctx, store.Token{ID: "t1", App: app, Hash: []byte{1}, Created: time.Now()}); err != nil {
				return err
			}
			return fmt.Errorf("wrapped: %w", errBoom)
		})
		if !errors.Is(err, errBoom) {
			t.Fatalf("Update returned %v, want the function's error", err)
		}
		_, err = s.GetUser(t.Context(), app, "u2", store.Load{})
		wantNotFound(t, "the user created before the error", err)
		_, err = s.GetToken(t.Context(), "t1")
		wantNotFound(t, "the token created before the error", err)
		if evs, err := s.Events(t.Context(), "", 0, 10); err != nil || len(evs) != 0 {
			t.Errorf("events appended before the error: %v, %v", evs, err)
		}
		if seq, err := s.Cursor(t.Context(), "dispatcher"); err != nil || seq != 0 {
			t.Errorf("cursor moved before the error: %d, %v", seq, err)
		}
		u := getUser(t, s, app, "u1", store.Load{})
		if u.Version != 1 || !sameJSON(t, u.Attributes, json.RawMessage(`{"userName":"a","title":"old"}`)) {
			t.Errorf("the replaced user kept the replace: version %d, %s", u.Version, u.Attributes)
		}
		if g := getGroup(t, s, app, "g1", store.Load{Members: true}); !slices.Equal(memberIDs(g), []string{"u1"}) || g.Version != 1 {
			t.Errorf("the group kept the replace: version %d, members %v", g.Version, memberIDs(g))
		}
	})

	t.Run("reads inside see the transaction's writes", func(t *testing.T) {
		s := fresh(t, open)
		update(t, s, func(tx store.Tx) error {
			ctx := t.Context()
			if err := tx.CreateUser(ctx, app, newUser("u1", "a", doc{"emails": []any{doc{"value": "a@x.com"}}})); err != nil {
				return err
			}
			if _, err := tx.GetUser(ctx, app, "u1", store.Load{}); err != nil {
				return fmt.Errorf("GetUser inside: %w", err)
			}
			page, err := tx.ListUsers(ctx, app, all(userFilter(t, `emails.value eq "A@X.COM"`)))
			if err != nil {
				return err
			}
			if got := userIDs(page.Resources); !slices.Equal(got, []string{"u1"}) {
				t.Errorf("ListUsers inside the transaction: %v, want [u1]", got)
			}
			return nil
		})
	})

	t.Run("concurrent updates all persist", func(t *testing.T) {
		s := fresh(t, open)
		const n = 50
		errs := concurrently(n, func(i int) error {
			return s.Update(t.Context(), func(tx store.Tx) error {
				return tx.CreateUser(t.Context(), app, newUser(fmt.Sprint("u", i), fmt.Sprint("user", i), nil))
			})
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("update %d: %v", i, err)
			}
		}
		page := listUsers(t, s, app, store.List{StartIndex: 1})
		if page.Total != n {
			t.Errorf("total %d users, want %d", page.Total, n)
		}
	})

	t.Run("a failing update does not affect concurrent ones", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("taken", "taken", nil))
		const n = 40
		// Every fifth update fails: by a conflict, by its own error, or by
		// a panic. The others must commit regardless.
		errs := concurrently(n, func(i int) error {
			return s.Update(t.Context(), func(tx store.Tx) error {
				ctx := t.Context()
				switch i % 5 {
				case 0:
					return tx.CreateUser(ctx, app, newUser(fmt.Sprint("u", i), "TAKEN", nil))
				case 1:
					if err := tx.CreateUser(ctx, app, newUser(fmt.Sprint("u", i), fmt.Sprint("user", i), nil)); err != nil {
						return err
					}
					return errBoom
				case 2:
					if err := tx.CreateUser(ctx, app, newUser(fmt.Sprint("u", i), fmt.Sprint("user", i), nil)); err != nil {
						return err
					}
					panic("boom")
				}
				return tx.CreateUser(ctx, app, newUser(fmt.Sprint("u", i), fmt.Sprint("user", i), nil))
			})
		})
		for i, err := range errs {
			_, getErr := s.GetUser(t.Context(), app, fmt.Sprint("u", i), store.Load{})
			switch i % 5 {
			case 0:
				wantConflict(t, err, "userName")
				wantNotFound(t, fmt.Sprint("conflicting user ", i), getErr)
			case 1:
				if !errors.Is(err, errBoom) {
					t.Errorf("update %d: got %v, want errBoom", i, err)
				}
				wantNotFound(t, fmt.Sprint("user of failed update ", i), getErr)
			case 2:
				if err == nil {
					t.Errorf("update %d panicked but returned no error", i)
				}
				wantNotFound(t, fmt.Sprint("user of panicking update ", i), getErr)
			default:
				if err != nil || getErr != nil {
					t.Errorf("update %d: %v; GetUser: %v", i, err, getErr)
				}
			}
		}
		if page := listUsers(t, s, app, store.List{StartIndex: 1}); page.Total != 1+n*2/5 {
			t.Errorf("total %d users, want %d", page.Total, 1+n*2/5)
		}
	})

	t.Run("panic", func(t *testing.T) {
		s := fresh(t, open)
		err := s.Update(t.Context(), func(tx store.Tx) error {
			if err := tx.CreateUser(t.Context(), app, newUser("u1", "a", nil)); err != nil {
				return err
			}
			panic("boom")
		})
		if err == nil {
			t.Fatal("Update returned no error for a panicking function")
		}
		_, err = s.GetUser(t.Context(), app, "u1", store.Load{})
		wantNotFound(t, "the user created before the panic", err)
		createUsers(t, s, app, newUser("u1", "a", nil))
		getUser(t, s, app, "u1", store.Load{})
		if err := s.Ping(t.Context()); err != nil {
			t.Errorf("Ping after a panic: %v", err)
		}
	})
}

// concurrently runs fn(0) … fn(n-1) in goroutines released together and
// returns their errors.
func concurrently(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func testUserState(t *testing.T, open Opener) {
	login := time.Date(2026, 3, 4, 5, 6, 7, 123456000, time.UTC)
	cases := []struct {
		name  string
		state store.UserState
	}{
		{"full", store.UserState{ProvisioningState: "active", PendingActions: 3, LastLogin: &login}},
		{"no login", store.UserState{ProvisioningState: "pending", PendingActions: 1}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh(t, open)
			createUsers(t, s, app, newUser("u1", "a", nil))
			if got := getUser(t, s, app, "u1", store.Load{State: true}); got.State != nil {
				t.Errorf("State before any was set: %+v", got.State)
			}
			update(t, s, func(tx store.Tx) error { return tx.SetUserState(t.Context(), app, "u1", c.state) })
			got := getUser(t, s, app, "u1", store.Load{State: true})
			if !sameState(got.State, &c.state) {
				t.Errorf("State = %s, want %s", fmtState(got.State), fmtState(&c.state))
			}
			if got.Version != 1 {
				t.Errorf("SetUserState changed the version to %d", got.Version)
			}
			if got := getUser(t, s, app, "u1", store.Load{}); got.State != nil {
				t.Errorf("State without Load.State: %+v", got.State)
			}
			q := all(nil)
			q.Load.State = true
			page := listUsers(t, s, app, q)
			if len(page.Resources) != 1 || !sameState(page.Resources[0].State, &c.state) {
				t.Errorf("ListUsers with Load.State: %+v", page.Resources)
			}
		})
	}

	t.Run("overwrite", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, app, newUser("u1", "a", nil))
		update(t, s, func(tx store.Tx) error {
			return tx.SetUserState(t.Context(), app, "u1", store.UserState{ProvisioningState: "pending", PendingActions: 2, LastLogin: &login})
		})
		want := store.UserState{ProvisioningState: "active"}
		update(t, s, func(tx store.Tx) error { return tx.SetUserState(t.Context(), app, "u1", want) })
		if got := getUser(t, s, app, "u1", store.Load{State: true}); !sameState(got.State, &want) {
			t.Errorf("State = %s, want %s", fmtState(got.State), fmtState(&want))
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := fresh(t, open)
		createUsers(t, s, other, newUser("o1", "a", nil))
		for _, id := range []string{"nope", "o1"} {
			err := s.Update(t.Context(), func(tx store.Tx) error {
				return tx.SetUserState(t.Context(), app, id, store.UserState{ProvisioningState: "active"})
			})
			wantNotFound(t, "SetUserState "+id, err)
		}
	})
}

func sameState(a, b *store.UserState) bool {
	if a == nil || b == nil {
		return a == b
	}
	if a.ProvisioningState != b.ProvisioningState || a.PendingActions != b.PendingActions {
		return false
	}
	return sameTime(a.LastLogin, b.LastLogin)
}

func sameTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func fmtState(s *store.UserState) string {
	if s == nil {
		return "nil"
	}
	login := "nil"
	if s.LastLogin != nil {
		login = s.LastLogin.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("{%q %d %s}", s.ProvisioningState, s.PendingActions, login)
}

func testTokens(t *testing.T, open Opener) {
	at := func(min int) time.Time { return time.Date(2026, 1, 2, 3, min, 5, 250000000, time.UTC) }
	tokens := []store.Token{
		{ID: "t1", App: app, Hash: []byte{0, 1, 2, 255}, Description: "Entra", Created: at(0)},
		{ID: "t2", App: other, Hash: []byte{9}, Description: "", Created: at(1)},
		{ID: "t3", Admin: true, Name: "Alice Admin", Hash: []byte{7, 7}, Description: "console", Created: at(2)},
	}
	seed := func(t *testing.T) store.Store {
		s := fresh(t, open)
		update(t, s, func(tx store.Tx) error {
			for _, tok := range tokens {
				if err := tx.CreateToken(t.Context(), tok); err != nil {
					return err
				}
			}
			return nil
		})
		return s
	}
	getToken := func(t *testing.T, s store.Store, id string) store.Token {
		t.Helper()
		tok, err := s.GetToken(t.Context(), id)
		if err != nil {
			t.Fatalf("GetToken(%s): %v", id, err)
		}
		return tok
	}

	t.Run("create get list", func(t *testing.T) {
		s := seed(t)
		for _, want := range tokens {
			if got := getToken(t, s, want.ID); !sameToken(got, want) {
				t.Errorf("GetToken(%s) = %+v, want %+v", want.ID, got, want)
			}
		}
		list, err := s.ListTokens(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != len(tokens) {
			t.Fatalf("ListTokens returned %d tokens, want %d", len(list), len(tokens))
		}
		for _, got := range list {
			i := slices.IndexFunc(tokens, func(w store.Token) bool { return w.ID == got.ID })
			if i < 0 || !sameToken(got, tokens[i]) {
				t.Errorf("ListTokens has %+v", got)
			}
		}
	})

	t.Run("revoke", func(t *testing.T) {
		s := seed(t)
		update(t, s, func(tx store.Tx) error { return tx.RevokeToken(t.Context(), "t1", at(10)) })
		update(t, s, func(tx store.Tx) error { return tx.RevokeToken(t.Context(), "t1", at(20)) })
		got := getToken(t, s, "t1")
		if want := at(10); got.Revoked == nil || !got.Revoked.Equal(want) {
			t.Errorf("Revoked = %v, want the first revocation, %v", got.Revoked, want)
		}
		if got := getToken(t, s, "t2"); got.Revoked != nil {
			t.Errorf("revoking t1 revoked t2 at %v", got.Revoked)
		}
	})

	t.Run("touch", func(t *testing.T) {
		s := seed(t)
		for _, min := range []int{10, 20} {
			update(t, s, func(tx store.Tx) error { return tx.TouchToken(t.Context(), "t1", at(min)) })
			if got := getToken(t, s, "t1"); got.LastUsed == nil || !got.LastUsed.Equal(at(min)) {
				t.Errorf("LastUsed = %v, want %v", got.LastUsed, at(min))
			}
		}
		if got := getToken(t, s, "t1"); got.Revoked != nil {
			t.Errorf("touching revoked the token")
		}
	})

	t.Run("not found", func(t *testing.T) {
		s := seed(t)
		_, err := s.GetToken(t.Context(), "nope")
		wantNotFound(t, "GetToken", err)
		err = s.Update(t.Context(), func(tx store.Tx) error { return tx.RevokeToken(t.Context(), "nope", at(1)) })
		wantNotFound(t, "RevokeToken", err)
		err = s.Update(t.Context(), func(tx store.Tx) error { return tx.TouchToken(t.Context(), "nope", at(1)) })
		wantNotFound(t, "TouchToken", err)
	})

	t.Run("empty list", func(t *testing.T) {
		s := fresh(t, open)
		list, err := s.ListTokens(t.Context())
		if err != nil || len(list) != 0 {
			t.Errorf("ListTokens on an empty store: %v, %v", list, err)
		}
	})
}

func sameToken(a, b store.Token) bool {
	return a.ID == b.ID && a.App == b.App && a.Admin == b.Admin && a.Name == b.Name && slices.Equal(a.Hash, b.Hash) && a.Description == b.Description &&
		a.Created.Equal(b.Created) && sameTime(a.LastUsed, b.LastUsed) && sameTime(a.Revoked, b.Revoked)
}

var cat = catalog.New()

func userFilter(t *testing.T, f string) query.Expr {
	t.Helper()
	e, err := query.ParseFilter(cat.User, f)
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", f, err)
	}
	return e
}

func groupFilter(t *testing.T, f string) query.Expr {
	t.Helper()
	e, err := query.ParseFilter(cat.Group, f)
	if err != nil {
		t.Fatalf("ParseFilter(%s): %v", f, err)
	}
	return e
}

func listUsers(t *testing.T, s store.Reader, app string, q store.List) store.Page[store.User] {
	t.Helper()
	page, err := s.ListUsers(t.Context(), app, q)
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	return page
}

func listGroups(t *testing.T, s store.Reader, app string, q store.List) store.Page[store.Group] {
	t.Helper()
	page, err := s.ListGroups(t.Context(), app, q)
	if err != nil {
		t.Fatalf("ListGroups: %v", err)
	}
	return page
}

// filterCase is a filter and the ids it must match, in creation order.
type filterCase struct {
	filter string
	want   []string
}

func ids(s ...string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// The users of the filter fixture, in creation order.
const (
	alice   = "u-alice"
	bob     = "u-bob"
	emile   = "u-emile"
	special = "u-special"
)

// seedFilterUsers stores the filter fixture: four users and three groups
// in app, and look-alikes in the other app that no filter may return.
func seedFilterUsers(t *testing.T, s store.Store) {
	aliceAttrs := doc{
		"name":        doc{"givenName": "Alice", "familyName": "Liddell"},
		"displayName": "Alice Liddell",
		"title":       "Engineer",
		"active":      true,
		"emails": []any{
			doc{"value": "alice@example.com", "type": "work", "primary": true},
			doc{"value": "alice@home.net", "type": "home"},
		},
		"phoneNumbers": []any{doc{"value": "+1-555-0100", "type": "mobile"}},
		"addresses":    []any{doc{"locality": "Springfield", "type": "work"}},
		enterprise:     doc{"employeeNumber": "42", "department": "R&D", "manager": doc{"value": "m-1"}},
	}
	a := newUser(alice, "alice@example.com", aliceAttrs)
	a.ExternalID = "EXT-1"
	b := newUser(bob, "Bob@Example.com", doc{
		"name":         doc{"givenName": "Bob"},
		"title":        "Manager",
		"active":       false,
		"emails":       []any{doc{"value": "bob@example.org", "type": "work"}},
		"phoneNumbers": []any{doc{"value": "+1-555-0101", "type": "work"}},
		enterprise:     doc{"employeeNumber": "7"},
	})
	b.ExternalID = "ext-1"
	e := newUser(emile, "ÉMILE@x.com", doc{
		"name":      doc{"givenName": "Émile"},
		"active":    true,
		"emails":    []any{doc{"value": "Émile@X.com", "type": "home"}},
		"addresses": []any{doc{"locality": "Shelbyville"}},
		enterprise:  doc{"manager": doc{"value": alice}},
	})
	sp := newUser(special, `50%_off"quote\back`, doc{"displayName": `a"b`, "title": "100% sure_thing"})
	for _, u := range []*store.User{a, b, e, sp} {
		createUsers(t, s, app, u)
		time.Sleep(time.Millisecond) // distinct creation times
	}
	createGroup(t, s, app, newGroup("g-admins", "Admins"), alice, bob)
	createGroup(t, s, app, newGroup("g-users", "Users"), alice, emile)
	createGroup(t, s, app, newGroup("g-empty", "Équipe"))
	login := time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)
	update(t, s, func(tx store.Tx) error {
		ctx := t.Context()
		return errors.Join(
			tx.SetUserState(ctx, app, alice, store.UserState{ProvisioningState: "active", PendingActions: 2, LastLogin: &login}),
			tx.SetUserState(ctx, app, bob, store.UserState{ProvisioningState: "pending"}))
	})

	o := newUser("o-alice", "alice@example.com", aliceAttrs)
	o.ExternalID = "EXT-1"
	createUsers(t, s, other, o, newUser("o-special", `50%_off"quote\back`, doc{"title": "100% sure_thing"}))
	g := newGroup("o-admins", "Admins")
	g.ExternalID = "G-1"
	createGroup(t, s, other, g, "o-alice")
	update(t, s, func(tx store.Tx) error {
		return tx.SetUserState(t.Context(), other, "o-alice", store.UserState{ProvisioningState: "active", PendingActions: 5})
	})
}

// rfc3339 renders a time for a filter.
func rfc3339(tm time.Time) string { return tm.UTC().Format(time.RFC3339Nano) }

func testUserFilters(t *testing.T, open Opener) {
	s := fresh(t, open)
	seedFilterUsers(t, s)
	created := map[string]string{}
	for _, id := range []string{alice, bob, emile, special} {
		created[id] = rfc3339(getUser(t, s, app, id, store.Load{}).Created)
	}
	const (
		emp = enterprise + ":"
		brg = bridge + ":"
	)
	cases := []filterCase{
		// Every operator on userName, which is not caseExact.
		{`userName eq "alice@example.com"`, ids(alice)},
		{`userName eq "ALICE@EXAMPLE.COM"`, ids(alice)},
		{`userName eq "émile@X.COM"`, ids(emile)},
		{`userName eq "emile@x.com"`, ids()},
		{`userName ne "alice@example.com"`, ids(bob, emile, special)},
		{`userName co "EXAMPLE"`, ids(alice, bob)},
		{`userName sw "BOB@"`, ids(bob)},
		{`userName ew ".COM"`, ids(alice, bob, emile)},
		{`userName gt "bob@example.com"`, ids(emile)},
		{`userName ge "BOB@example.com"`, ids(bob, emile)},
		{`userName lt "bob@example.com"`, ids(alice, special)},
		{`userName le "ALICE@example.com"`, ids(alice, special)},
		{`userName pr`, ids(alice, bob, emile, special)},
		{`userName sw ""`, ids(alice, bob, emile, special)},
		{`userName EQ "alice@example.com"`, ids(alice)},

		// Presence and absence.
		{`title pr`, ids(alice, bob, special)},
		{`not (title pr)`, ids(emile)},
		{`title eq "engineer"`, ids(alice)},
		{`title ne "Engineer"`, ids(bob, emile, special)},
		{`not (title eq "Engineer")`, ids(bob, emile, special)},
		{`title sw ""`, ids(alice, bob, special)},
		{`title ew ""`, ids(alice, bob, special)},
		{`title co ""`, ids(alice, bob, special)},
		{`title gt "f"`, ids(bob)},

		// Characters that mean something to LIKE, quotes and backslashes.
		{`title co "%"`, ids(special)},
		{`title co "_"`, ids(special)},
		{`title sw "M_n"`, ids()},
		{`title sw "%"`, ids()},
		{`title sw "100%"`, ids(special)},
		{`title ew "_THING"`, ids(special)},
		{`userName eq "50%_off\"quote\\back"`, ids(special)},
		{`userName co "\\"`, ids(special)},
		{`userName co "\""`, ids(special)},
		{`userName sw "50%_"`, ids(special)},
		{`userName ew "e\\BACK"`, ids(special)},
		{`displayName eq "a\"b"`, ids(special)},
		{`displayName eq "a\u0022b"`, ids(special)},

		// externalId is caseExact.
		{`externalId eq "EXT-1"`, ids(alice)},
		{`externalId eq "ext-1"`, ids(bob)},
		{`externalId sw "EXT"`, ids(alice)},
		{`externalId pr`, ids(alice, bob)},
		{`externalId ne "EXT-1"`, ids(bob, emile, special)},

		// Sub-attributes and other strings, not caseExact.
		{`name.givenName eq "ALICE"`, ids(alice)},
		{`name.givenName eq "émile"`, ids(emile)},
		{`name.givenName sw "É"`, ids(emile)},
		{`name.familyName pr`, ids(alice)},
		{`name pr`, ids(alice, bob, emile)},
		{`not (name pr)`, ids(special)},
		{`displayName co "LIDDELL"`, ids(alice)},
		{`id eq "u-bob"`, ids(bob)},
		{`id ne "u-bob"`, ids(alice, emile, special)},

		// Emails, from the document.
		{`emails.value eq "ALICE@example.com"`, ids(alice)},
		{`emails eq "émile@x.com"`, ids(emile)},
		{`emails.value ew ".net"`, ids(alice)},
		{`emails.value co "example"`, ids(alice, bob)},
		{`emails.type eq "HOME"`, ids(alice, emile)},
		{`emails[type eq "work" and value co "example"]`, ids(alice, bob)},
		{`emails[type eq "home" and value co "example"]`, ids()},
		{`emails[type eq "work"].value eq "alice@example.com"`, ids(alice)},
		{`emails[type eq "home"].value eq "alice@example.com"`, ids()},
		{`emails[type eq "work"].value ew ".org"`, ids(bob)},
		{`emails[primary eq true]`, ids(alice)},
		{`emails[not (type eq "work")]`, ids(alice, emile)},
		{`emails[type eq "work" or value sw "é"]`, ids(alice, bob, emile)},
		{`emails pr`, ids(alice, bob, emile)},
		{`not (emails pr)`, ids(special)},
		{`not (emails[type eq "home"])`, ids(bob, special)},

		// Multi-valued attributes kept only in the document.
		{`phoneNumbers[type eq "mobile"]`, ids(alice)},
		{`phoneNumbers.value eq "+1-555-0101"`, ids(bob)},
		{`phoneNumbers eq "+1-555-0100"`, ids(alice)},
		{`phoneNumbers pr`, ids(alice, bob)},
		{`not (phoneNumbers pr)`, ids(emile, special)},
		{`not (phoneNumbers[type eq "mobile"])`, ids(bob, emile, special)},
		{`addresses[locality eq "springfield"]`, ids(alice)},
		{`addresses.locality sw "Shelby"`, ids(emile)},
		{`addresses[locality eq "Springfield" and type eq "home"]`, ids()},

		// The enterprise extension.
		{emp + `employeeNumber eq "42"`, ids(alice)},
		{`employeeNumber eq "7"`, ids(bob)},
		{emp + `employeeNumber pr`, ids(alice, bob)},
		{`not (` + emp + `employeeNumber eq "42")`, ids(bob, emile, special)},
		{emp + `manager.value eq "m-1"`, ids(alice)},
		{emp + `manager.value eq "u-alice"`, ids(emile)},
		{emp + `manager pr`, ids(alice, emile)},
		{emp + `department eq "r&d"`, ids(alice)},

		// The scimbridge extension, from the recorded state.
		{brg + `provisioningState eq "active"`, ids(alice)},
		{brg + `provisioningState pr`, ids(alice, bob)},
		{brg + `pendingActions gt 1`, ids(alice)},
		{brg + `pendingActions eq 0`, ids(bob)},
		{`not (` + brg + `provisioningState eq "active")`, ids(bob, emile, special)},
		{brg + `provisioningState eq "ACTIVE"`, ids()}, // caseExact
		{brg + `lastLogin gt "2026-02-01T09:59:59Z"`, ids(alice)},
		{brg + `lastLogin eq "2026-02-01T11:00:00+01:00"`, ids(alice)},
		{brg + `lastLogin lt "2026-02-01T10:00:00Z"`, ids()},

		// Booleans.
		{`active eq true`, ids(alice, emile)},
		{`active eq false`, ids(bob)},
		{`active ne true`, ids(bob, special)},
		{`not (active eq true)`, ids(bob, special)},
		{`active pr`, ids(alice, bob, emile)},

		// Group membership.
		{`groups.value eq "g-admins"`, ids(alice, bob)},
		{`groups[value eq "g-users"]`, ids(alice, emile)},
		{`groups eq "g-users"`, ids(alice, emile)},
		{`groups.display eq "ADMINS"`, ids(alice, bob)},
		{`groups pr`, ids(alice, bob, emile)},
		{`not (groups pr)`, ids(special)},
		{`groups.value eq "o-admins"`, ids()},

		// Creation times.
		{`meta.created gt "` + created[bob] + `"`, ids(emile, special)},
		{`meta.created ge "` + created[bob] + `"`, ids(bob, emile, special)},
		{`meta.created lt "` + created[bob] + `"`, ids(alice)},
		{`meta.created le "` + created[bob] + `"`, ids(alice, bob)},
		{`meta.created eq "` + created[bob] + `"`, ids(bob)},
		{`meta.lastModified ge "` + created[special] + `"`, ids(special)},
		{`meta.created gt "2000-01-01T00:00:00+02:00"`, ids(alice, bob, emile, special)},

		// Logic and grouping.
		{`title eq "Engineer" or title eq "Manager"`, ids(alice, bob)},
		{`title eq "Engineer" and active eq false`, ids()},
		{`title pr or active eq true and emails.value ew ".net"`, ids(alice, bob, special)},
		{`(title pr or active eq true) and emails.value ew ".net"`, ids(alice)},
		{`not (title eq "Engineer" or emails pr)`, ids(special)},
		{`NOT (active eq true) AND title pr`, ids(bob, special)},
		{`userName eq "alice@example.com" and emails[type eq "work"]`, ids(alice)},
		{`((userName sw "a") or (userName sw "b")) and not (id eq "u-bob")`, ids(alice)},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			page := listUsers(t, s, app, all(userFilter(t, c.filter)))
			if got := userIDs(page.Resources); !slices.Equal(got, c.want) || page.Total != len(c.want) {
				t.Errorf("got %v (total %d), want %v", got, page.Total, c.want)
			}
		})
	}

	t.Run("inside a transaction", func(t *testing.T) {
		update(t, s, func(tx store.Tx) error {
			for _, c := range cases[:10] {
				page := listUsers(t, tx, app, all(userFilter(t, c.filter)))
				if got := userIDs(page.Resources); !slices.Equal(got, c.want) {
					t.Errorf("%s: got %v, want %v", c.filter, got, c.want)
				}
			}
			return nil
		})
	})
}

func testGroupFilters(t *testing.T, open Opener) {
	s := fresh(t, open)
	seedFilterUsers(t, s)
	admins := getGroup(t, s, app, "g-admins", store.Load{})
	cases := []filterCase{
		{`displayName eq "ADMINS"`, ids("g-admins")},
		{`displayName eq "équipe"`, ids("g-empty")},
		{`displayName sw "É"`, ids("g-empty")},
		{`displayName co "s"`, ids("g-admins", "g-users")},
		{`displayName ne "Admins"`, ids("g-users", "g-empty")},
		{`displayName pr`, ids("g-admins", "g-users", "g-empty")},
		{`members eq "u-alice"`, ids("g-admins", "g-users")},
		{`members[value eq "u-bob"]`, ids("g-admins")},
		{`members.value eq "u-emile"`, ids("g-users")},
		{`id eq "g-users" and members eq "u-bob"`, ids()},
		{`id eq "g-admins" and members eq "u-bob"`, ids("g-admins")},
		{`members pr`, ids("g-admins", "g-users")},
		{`not (members pr)`, ids("g-empty")},
		{`not (members eq "u-bob")`, ids("g-users", "g-empty")},
		{`members.display eq "alice liddell"`, ids("g-admins", "g-users")},
		{`members.display eq "bob@example.com"`, ids("g-admins")},
		{`members eq "o-alice"`, ids()},
		{`members eq "u-special"`, ids()},
		{`externalId pr`, ids()},
		{`meta.created gt "` + rfc3339(admins.Created) + `"`, ids("g-users", "g-empty")},
		{`displayName eq "Users" or members eq "u-bob"`, ids("g-admins", "g-users")},
	}
	for _, c := range cases {
		t.Run(c.filter, func(t *testing.T) {
			page := listGroups(t, s, app, all(groupFilter(t, c.filter)))
			if got := groupIDs(page.Resources); !slices.Equal(got, c.want) || page.Total != len(c.want) {
				t.Errorf("got %v (total %d), want %v", got, page.Total, c.want)
			}
		})
	}
}

func testPaging(t *testing.T, open Opener) {
	s := fresh(t, open)
	// Creation order; title and employeeNumber are missing on some users
	// and differ in case on others.
	seed := []struct{ id, userName, title, emp string }{
		{"p-delta", "delta", "b", "e3"},
		{"p-alpha", "Alpha", "", "e1"},
		{"p-charlie", "charlie", "A", ""},
		{"p-bravo", "Bravo", "", "e2"},
		{"p-echo", "echo", "c", "E5"},
		{"p-golf", "golf", "", ""},
		{"p-fox", "Foxtrot", "D", "e4"},
	}
	for _, u := range seed {
		attrs := doc{}
		if u.title != "" {
			attrs["title"] = u.title
		}
		if u.emp != "" {
			attrs[enterprise] = doc{"employeeNumber": u.emp}
		}
		createUsers(t, s, app, newUser(u.id, u.userName, attrs))
		time.Sleep(time.Millisecond) // distinct creation times
	}
	createUsers(t, s, other, newUser("o-1", "aaa", doc{"title": "a"}))
	creation := []string{"p-delta", "p-alpha", "p-charlie", "p-bravo", "p-echo", "p-golf", "p-fox"}
	byUserName := []string{"p-alpha", "p-bravo", "p-charlie", "p-delta", "p-echo", "p-fox", "p-golf"}

	sortBy := func(attr string, desc bool) *query.Sort {
		order := "ascending"
		if desc {
			order = "descending"
		}
		srt, err := query.ParseSort(cat.User, attr, order)
		if err != nil {
			t.Fatal(err)
		}
		return srt
	}

	t.Run("windows", func(t *testing.T) {
		cases := []struct {
			name         string
			filter       string
			sort         *query.Sort
			start, count int
			want         []string
			total        int
		}{
			{"count 0 gives the total only", "", nil, 1, 0, ids(), 7},
			{"count 0 with a filter", `title pr`, nil, 1, 0, ids(), 4},
			{"first page", "", nil, 1, 3, creation[0:3], 7},
			{"middle page", "", nil, 4, 3, creation[3:6], 7},
			{"last, partial page", "", nil, 7, 3, creation[6:], 7},
			{"exactly to the end", "", nil, 5, 3, creation[4:], 7},
			{"past the end", "", nil, 8, 3, ids(), 7},
			{"far past the end", "", nil, 100, 10, ids(), 7},
			{"count above total", "", nil, 1, 100, creation, 7},
			{"start index below 1 counts as 1", "", nil, 0, 3, creation[0:3], 7},
			{"start index below 1, partial page", "", nil, 0, 10, creation, 7},
			{"filtered page", `title pr`, nil, 2, 2, ids("p-charlie", "p-echo"), 4},
			{"sorted page", "", sortBy("userName", false), 3, 2, ids("p-charlie", "p-delta"), 7},
			{"sorted descending page", "", sortBy("userName", true), 2, 3, ids("p-fox", "p-echo", "p-delta"), 7},
			{"no match", `title eq "zzz"`, nil, 1, 10, ids(), 0},
			{"no match past the start", `title eq "zzz"`, nil, 3, 10, ids(), 0},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				var f query.Expr
				if c.filter != "" {
					f = userFilter(t, c.filter)
				}
				page := listUsers(t, s, app, store.List{Filter: f, Sort: c.sort, StartIndex: c.start, Count: c.count})
				if got := userIDs(page.Resources); !slices.Equal(got, c.want) || page.Total != c.total {
					t.Errorf("got %v (total %d), want %v (total %d)", got, page.Total, c.want, c.total)
				}
			})
		}
	})

	t.Run("creation order is stable across pages", func(t *testing.T) {
		var got []string
		for start := 1; start <= 7; start += 2 {
			page := listUsers(t, s, app, store.List{StartIndex: start, Count: 2})
			if page.Total != 7 {
				t.Errorf("page at %d: total %d, want 7", start, page.Total)
			}
			got = append(got, userIDs(page.Resources)...)
		}
		if !slices.Equal(got, creation) {
			t.Errorf("pages of 2 gave %v, want %v", got, creation)
		}
	})

	t.Run("sort", func(t *testing.T) {
		reversed := slices.Clone(byUserName)
		slices.Reverse(reversed)
		cases := []struct {
			name    string
			sort    *query.Sort
			missing []string // first (descending) or last (ascending), in any order
			want    []string // the others, in order
		}{
			{"userName ascending", sortBy("userName", false), nil, byUserName},
			{"userName descending", sortBy("userName", true), nil, reversed},
			{"title ascending", sortBy("title", false), ids("p-alpha", "p-bravo", "p-golf"), ids("p-charlie", "p-delta", "p-echo", "p-fox")},
			{"title descending", sortBy("title", true), ids("p-alpha", "p-bravo", "p-golf"), ids("p-fox", "p-echo", "p-delta", "p-charlie")},
			{"enterprise ascending", sortBy(enterprise+":employeeNumber", false), ids("p-charlie", "p-golf"), ids("p-alpha", "p-bravo", "p-delta", "p-fox", "p-echo")},
			{"enterprise descending", sortBy("employeeNumber", true), ids("p-charlie", "p-golf"), ids("p-echo", "p-fox", "p-delta", "p-bravo", "p-alpha")},
			{"meta.created descending", sortBy("meta.created", true), nil, ids("p-fox", "p-golf", "p-echo", "p-bravo", "p-charlie", "p-alpha", "p-delta")},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got := userIDs(listUsers(t, s, app, store.List{Sort: c.sort, StartIndex: 1, Count: 100}).Resources)
				if len(got) != 7 {
					t.Fatalf("got %v, want 7 users", got)
				}
				present, absent := got[:len(c.want)], got[len(c.want):]
				if c.sort.Descending {
					absent, present = got[:len(c.missing)], got[len(c.missing):]
				}
				if !slices.Equal(present, c.want) || !slices.Equal(sorted(absent), sorted(ids(c.missing...))) {
					t.Errorf("got %v; want %v with %v (any order) %s", got, c.want, c.missing, map[bool]string{false: "after", true: "before"}[c.sort.Descending])
				}
			})
		}
	})

	t.Run("groups", func(t *testing.T) {
		for _, name := range []string{"beta", "Alpha", "gamma"} {
			createGroup(t, s, app, newGroup("g-"+name, name))
		}
		page := listGroups(t, s, app, store.List{StartIndex: 2, Count: 1})
		if got := groupIDs(page.Resources); !slices.Equal(got, ids("g-Alpha")) || page.Total != 3 {
			t.Errorf("second group: %v (total %d), want [g-Alpha] (total 3)", got, page.Total)
		}
		srt, err := query.ParseSort(cat.Group, "displayName", "descending")
		if err != nil {
			t.Fatal(err)
		}
		page = listGroups(t, s, app, store.List{Sort: srt, StartIndex: 1, Count: 10})
		if got := groupIDs(page.Resources); !slices.Equal(got, ids("g-gamma", "g-beta", "g-Alpha")) || page.Total != 3 {
			t.Errorf("groups by displayName descending: %v (total %d)", got, page.Total)
		}
		page = listGroups(t, s, app, store.List{StartIndex: 1, Count: 0})
		if len(page.Resources) != 0 || page.Total != 3 {
			t.Errorf("count 0: %v (total %d), want none (total 3)", groupIDs(page.Resources), page.Total)
		}
	})
}

// testTotals follows the totals of unfiltered lists, which a backend may
// keep as counters, through creates, deletes, failed writes and two apps.
func testTotals(t *testing.T, open Opener) {
	s := fresh(t, open)
	const other = "other"
	totals := func(app string) (users, groups int) {
		t.Helper()
		u, err := s.ListUsers(t.Context(), app, store.List{StartIndex: 1})
		if err != nil {
			t.Fatal(err)
		}
		g, err := s.ListGroups(t.Context(), app, store.List{StartIndex: 1})
		if err != nil {
			t.Fatal(err)
		}
		return u.Total, g.Total
	}
	check := func(step string, app string, wantUsers, wantGroups int) {
		t.Helper()
		if u, g := totals(app); u != wantUsers || g != wantGroups {
			t.Errorf("%s: %s has %d users and %d groups, want %d and %d", step, app, u, g, wantUsers, wantGroups)
		}
	}
	check("empty", app, 0, 0)
	createUsers(t, s, app, newUser("t1", "t1", nil), newUser("t2", "t2", nil), newUser("t3", "t3", nil))
	createUsers(t, s, other, newUser("o1", "o1", nil))
	createGroup(t, s, app, newGroup("tg1", "tg1"), "t1")
	createGroup(t, s, app, newGroup("tg2", "tg2"))
	check("after creates", app, 3, 2)
	check("after creates", other, 1, 0)
	update(t, s, func(tx store.Tx) error { return tx.DeleteUser(t.Context(), app, "t2") })
	update(t, s, func(tx store.Tx) error { return tx.DeleteGroup(t.Context(), app, "tg1") })
	check("after deletes", app, 2, 1)
	err := s.Update(t.Context(), func(tx store.Tx) error {
		if err := tx.CreateUser(t.Context(), app, newUser("t4", "t4", nil)); err != nil {
			return err
		}
		return errors.New("roll back")
	})
	if err == nil {
		t.Fatal("the failing update succeeded")
	}
	dup := s.Update(t.Context(), func(tx store.Tx) error { return tx.CreateUser(t.Context(), app, newUser("t5", "T1", nil)) })
	wantConflict(t, dup, "userName")
	update(t, s, func(tx store.Tx) error { return tx.ReplaceUser(t.Context(), app, newUser("t1", "t1-renamed", nil)) })
	check("after a rollback, a conflict and a replace", app, 2, 1)
	check("unchanged", other, 1, 0)
}
