package scim_test

import (
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// The PATCH rows of IDP-REQUESTS.md. Each checks the resource after the
// request and the change events it produced.

// userAt returns user id as GET reads it.
func (h *harness) userAt(id string) map[string]any {
	h.t.Helper()
	r := h.get("/Users/" + id)
	mustStatus(h.t, r, http.StatusOK)
	return r.obj(h.t)
}

// wantEvents checks the events after seq against want and returns the new
// last sequence number.
func wantEvents(t *testing.T, h *harness, after int64, names map[string]string, want ...string) int64 {
	t.Helper()
	got, last := h.events(after, names)
	if len(want) == 0 {
		want = []string{}
	}
	if len(got) == 0 {
		got = []string{}
	}
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got  %q\n want %q", got, want)
	}
	return last
}

func lastSeq(h *harness) int64 {
	_, last := h.events(0, nil)
	return last
}

// E6: Entra replaces the work email through a value-filter path, with a
// capitalised op; a missing element is created, siblings are kept.
func testE6(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"e6@example.com",
		"emails":[{"value":"home@example.com","type":"home"},{"value":"old@example.com","type":"work","primary":true}]}`)
	id := str(u["id"])
	seq := lastSeq(h)
	r := h.patch("/Users/"+id, `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]`)
	mustStatus(t, r, http.StatusOK)
	want := []any{
		map[string]any{"value": "home@example.com", "type": "home"},
		map[string]any{"value": "new@example.com", "type": "work", "primary": true},
	}
	if got := r.obj(t)["emails"]; !reflect.DeepEqual(got, want) {
		t.Errorf("emails after the replace = %v, want %v", got, want)
	}
	wantEvents(t, h, seq, map[string]string{id: "u"}, "user.updated u [emails]")

	// No work email yet: the replace creates it.
	v := h.createUser(`{"schemas":[` + userSchema + `],"userName":"e6b@example.com","emails":[{"value":"home@example.com","type":"home"}]}`)
	r = h.patch("/Users/"+str(v["id"]), `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"created@example.com"}]`)
	mustStatus(t, r, http.StatusOK)
	want = []any{
		map[string]any{"value": "home@example.com", "type": "home"},
		map[string]any{"value": "created@example.com", "type": "work"},
	}
	if got := h.userAt(str(v["id"]))["emails"]; !reflect.DeepEqual(got, want) {
		t.Errorf("emails after the replace of a missing element = %v, want %v", got, want)
	}
	// The new address is indexed for filters.
	lr := h.list(`/Users?filter=emails.value%20eq%20%22created@example.com%22`)
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != v["id"] {
		t.Errorf("filter on the patched email returned %v", res)
	}
}

// E7: Entra deactivates with the string "False" and a capitalised op.
func testE7(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("e7@example.com"))
	id := str(u["id"])
	names := map[string]string{id: "u"}
	seq := lastSeq(h)
	r := h.patch("/Users/"+id, `[{"op":"Replace","path":"active","value":"False"}]`)
	mustStatus(t, r, http.StatusOK)
	if got := r.obj(t)["active"]; got != false {
		t.Errorf("active = %v, want false", got)
	}
	seq = wantEvents(t, h, seq, names, "user.deactivated u")
	// Sent again: nothing changes, no event.
	mustStatus(t, h.patch("/Users/"+id, `[{"op":"Replace","path":"active","value":"False"}]`), http.StatusOK)
	seq = wantEvents(t, h, seq, names)
	mustStatus(t, h.patch("/Users/"+id, `[{"op":"Replace","path":"active","value":"True"}]`), http.StatusOK)
	wantEvents(t, h, seq, names, "user.reactivated u")
	if got := h.userAt(id)["active"]; got != true {
		t.Errorf("active = %v after True", got)
	}
}

// E8: Entra with the aadOptscim062020 flag replaces without a path, with
// dotted and URN-prefixed keys.
func testE8(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `,` + entSchema + `],"userName":"e8@example.com",
		"name":{"givenName":"Old","familyName":"Family"},
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Sales"}}`)
	id := str(u["id"])
	seq := lastSeq(h)
	r := h.patch("/Users/"+id, `[{"op":"replace","value":{
		"displayName":"New Name",
		"name.givenName":"New",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"701984"}}]`)
	mustStatus(t, r, http.StatusOK)
	got := h.userAt(id)
	if got["displayName"] != "New Name" {
		t.Errorf("displayName = %v", got["displayName"])
	}
	if name := got["name"].(map[string]any); name["givenName"] != "New" || name["familyName"] != "Family" {
		t.Errorf("name = %v, want givenName New and familyName kept", name)
	}
	ent, _ := got["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if ent["employeeNumber"] != "701984" || ent["department"] != "Sales" {
		t.Errorf("enterprise extension = %v", ent)
	}
	wantEvents(t, h, seq, map[string]string{id: "u"},
		"user.updated u [name displayName urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber]")
}

// E9: Entra sets the manager as a bare string (or as {"value": …}),
// replaces it and removes it.
func testE9(t *testing.T, h *harness) {
	const mgr = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
	u := h.createUser(simpleUser("e9@example.com"))
	id := str(u["id"])
	manager := func() any {
		ent, _ := h.userAt(id)["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
		return ent["manager"]
	}
	steps := []struct {
		ops  string
		want any
	}{
		{`[{"op":"Add","path":"` + mgr + `","value":"271"}]`, map[string]any{"value": "271"}},
		{`[{"op":"Replace","path":"` + mgr + `","value":{"value":"272"}}]`, map[string]any{"value": "272"}},
		{`[{"op":"Replace","path":"` + mgr + `","value":"273"}]`, map[string]any{"value": "273"}},
		{`[{"op":"Remove","path":"` + mgr + `"}]`, nil},
	}
	for _, st := range steps {
		mustStatus(t, h.patch("/Users/"+id, st.ops), http.StatusOK)
		if got := manager(); !reflect.DeepEqual(got, st.want) {
			t.Errorf("after %s: manager = %v, want %v", st.ops, got, st.want)
		}
	}
}

// E10: Entra adds an address one sub-attribute at a time; the adds merge
// into one element.
func testE10(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"e10@example.com","addresses":[{"type":"home","locality":"Ghent"}]}`)
	id := str(u["id"])
	for _, op := range []string{
		`{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Antwerp"}`,
		`{"op":"add","path":"addresses[type eq \"work\"].postalCode","value":"2000"}`,
		`{"op":"add","path":"addresses[type eq \"work\"].country","value":"BE"}`,
	} {
		mustStatus(t, h.patch("/Users/"+id, "["+op+"]"), http.StatusOK)
	}
	want := []any{
		map[string]any{"type": "home", "locality": "Ghent"},
		map[string]any{"type": "work", "locality": "Antwerp", "postalCode": "2000", "country": "BE"},
	}
	if got := h.userAt(id)["addresses"]; !reflect.DeepEqual(got, want) {
		t.Errorf("addresses = %v, want %v", got, want)
	}
}

// E11: Entra's complex app-role mapping sends each role as JSON inside a
// string.
func testE11(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("e11@example.com"))
	id := str(u["id"])
	r := h.patch("/Users/"+id, `[{"op":"Add","path":"roles","value":[
		{"value":"{\"id\":\"8b2f1c2e-0000-4000-8000-000000000001\",\"value\":\"Admin\",\"displayName\":\"Administrator\"}"}]}]`)
	mustStatus(t, r, http.StatusOK)
	roles, _ := h.userAt(id)["roles"].([]any)
	if len(roles) != 1 {
		t.Fatalf("roles = %v, want one", roles)
	}
	role := roles[0].(map[string]any)
	if role["value"] != "Admin" || role["display"] != "Administrator" {
		t.Errorf("role = %v, want value Admin and display Administrator", role)
	}
}

// memberIDs returns the ids of a group's members as GET reads them.
func (h *harness) memberIDs(groupID string) []string {
	h.t.Helper()
	r := h.get("/Groups/" + groupID)
	mustStatus(h.t, r, http.StatusOK)
	var ids []string
	members, _ := r.obj(h.t)["members"].([]any)
	for _, m := range members {
		ids = append(ids, str(m.(map[string]any)["value"]))
	}
	slices.Sort(ids)
	return ids
}

// groupWith creates users named names and a group holding the first
// members of them, and returns the group id and the user ids by name.
func (h *harness) groupWith(displayName string, names []string, members int) (string, map[string]string) {
	h.t.Helper()
	ids := map[string]string{}
	var list string
	for i, n := range names {
		ids[n] = str(h.createUser(simpleUser(displayName + "-" + n))["id"])
		if i < members {
			if list != "" {
				list += ","
			}
			list += `{"value":"` + ids[n] + `"}`
		}
	}
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"` + displayName + `","members":[` + list + `]}`)
	return str(g["id"]), ids
}

// reverse maps ids to names for event lines.
func reverse(ids map[string]string, extra ...string) map[string]string {
	out := map[string]string{}
	for n, id := range ids {
		out[id] = n
	}
	for i := 0; i+1 < len(extra); i += 2 {
		out[extra[i]] = extra[i+1]
	}
	return out
}

func sortedIDs(ids map[string]string, names ...string) []string {
	var out []string
	for _, n := range names {
		out = append(out, ids[n])
	}
	slices.Sort(out)
	return out
}

// E14: Entra adds members with "$ref": null; 204.
func testE14(t *testing.T, h *harness) {
	g, ids := h.groupWith("E14", []string{"a", "b"}, 1)
	seq := lastSeq(h)
	r := h.patch("/Groups/"+g, `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+ids["b"]+`"}]}]`)
	mustStatus(t, r, http.StatusNoContent)
	if len(r.body) != 0 {
		t.Errorf("204 with a body: %s", r.body)
	}
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "a", "b")) {
		t.Errorf("members = %v", got)
	}
	seq = wantEvents(t, h, seq, reverse(ids, g, "g"), "group.member_added g b")
	// Adding a member again changes nothing.
	mustStatus(t, h.patch("/Groups/"+g, `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+ids["b"]+`"}]}]`), http.StatusNoContent)
	wantEvents(t, h, seq, nil)
	// A member id that is not a user of this app is refused.
	d := scimError(t, h.patch("/Groups/"+g, `[{"op":"Add","path":"members","value":[{"value":"no-such-user"}]}]`), http.StatusBadRequest, "invalidValue")
	if !strings.Contains(d, "no-such-user") {
		t.Errorf("detail %q does not name the member", d)
	}
}

// E15: Entra's default member removal: remove with a value list removes
// only the listed members.
func testE15(t *testing.T, h *harness) {
	g, ids := h.groupWith("E15", []string{"a", "b", "c"}, 3)
	seq := lastSeq(h)
	r := h.patch("/Groups/"+g, `[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+ids["a"]+`"}]}]`)
	mustStatus(t, r, http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "b", "c")) {
		t.Errorf("members = %v, want b and c", got)
	}
	wantEvents(t, h, seq, reverse(ids, g, "g"), "group.member_removed g a")
}

// E16: the value-path member removal (Okta, Entra with the flag).
func testE16(t *testing.T, h *harness) {
	g, ids := h.groupWith("E16", []string{"a", "b", "c"}, 3)
	seq := lastSeq(h)
	r := h.patch("/Groups/"+g, `[{"op":"remove","path":"members[value eq \"`+ids["b"]+`\"]"}]`)
	mustStatus(t, r, http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "a", "c")) {
		t.Errorf("members = %v, want a and c", got)
	}
	wantEvents(t, h, seq, reverse(ids, g, "g"), "group.member_removed g b")
}

// E17: a group rename by path, and an externalId without a path.
func testE17(t *testing.T, h *harness) {
	g, ids := h.groupWith("E17", []string{"a"}, 1)
	names := reverse(ids, g, "g")
	seq := lastSeq(h)
	mustStatus(t, h.patch("/Groups/"+g, `[{"op":"Replace","path":"displayName","value":"E17 renamed"}]`), http.StatusNoContent)
	seq = wantEvents(t, h, seq, names, "group.renamed g")
	mustStatus(t, h.patch("/Groups/"+g, `[{"op":"replace","value":{"externalId":"ext-17"}}]`), http.StatusNoContent)
	wantEvents(t, h, seq, names, "group.updated g [externalId]")
	got := h.get("/Groups/" + g).obj(t)
	if got["displayName"] != "E17 renamed" || got["externalId"] != "ext-17" {
		t.Errorf("group = %v", got)
	}
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "a")) {
		t.Errorf("a rename changed the members: %v", got)
	}
}

// O5: Okta OIN deactivates with a path-less replace.
func testO5(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"o5@example.com","active":true,"title":"Engineer"}`)
	id := str(u["id"])
	seq := lastSeq(h)
	r := h.patch("/Users/"+id, `[{"op":"replace","value":{"active":false}}]`)
	mustStatus(t, r, http.StatusOK)
	got := r.obj(t)
	if got["active"] != false || got["title"] != "Engineer" {
		t.Errorf("user after the deactivation = %v", got)
	}
	wantEvents(t, h, seq, map[string]string{id: "u"}, "user.deactivated u")
}

// O8: Okta re-sends the unchanged id and displayName with every
// membership change; that is no change, no event and no new version.
func testO8(t *testing.T, h *harness) {
	g, _ := h.groupWith("O8", []string{"a"}, 1)
	before := h.get("/Groups/" + g)
	seq := lastSeq(h)
	for range 3 {
		r := h.patch("/Groups/"+g, `[{"op":"replace","value":{"id":"`+g+`","displayName":"O8"}}]`)
		mustStatus(t, r, http.StatusNoContent)
		if r.header.Get("ETag") != before.header.Get("ETag") {
			t.Errorf("ETag moved from %s to %s", before.header.Get("ETag"), r.header.Get("ETag"))
		}
	}
	wantEvents(t, h, seq, nil)
	after := h.get("/Groups/" + g).obj(t)
	if after["meta"].(map[string]any)["lastModified"] != before.obj(t)["meta"].(map[string]any)["lastModified"] {
		t.Error("lastModified moved without a change")
	}
	// Another resource's id is not ignored: the client meant another group.
	other, _ := h.groupWith("O8 other", nil, 0)
	d := scimError(t, h.patch("/Groups/"+g, `[{"op":"replace","value":{"id":"`+other+`","displayName":"O8 moved"}}]`), http.StatusBadRequest, "mutability")
	if !strings.Contains(d, other) {
		t.Errorf("detail %q does not name the id", d)
	}
	if got := h.get("/Groups/" + g).obj(t)["displayName"]; got != "O8" {
		t.Errorf("displayName %v after the refused PATCH", got)
	}
}

// O9: several operations in one request apply in order, all or nothing.
func testO9(t *testing.T, h *harness) {
	g, ids := h.groupWith("O9", []string{"a", "b", "c"}, 1)
	names := reverse(ids, g, "g")
	seq := lastSeq(h)
	r := h.patch("/Groups/"+g, `[
		{"op":"remove","path":"members[value eq \"`+ids["a"]+`\"]"},
		{"op":"add","path":"members","value":[{"value":"`+ids["b"]+`","display":"O9-b"}]}]`)
	mustStatus(t, r, http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "b")) {
		t.Errorf("members = %v, want b", got)
	}
	seq = wantEvents(t, h, seq, names, "group.member_added g b", "group.member_removed g a")

	// The second operation fails: the first is not kept either.
	r = h.patch("/Groups/"+g, `[
		{"op":"add","path":"members","value":[{"value":"`+ids["c"]+`"}]},
		{"op":"replace","path":"id","value":"x"}]`)
	scimError(t, r, http.StatusBadRequest, "mutability")
	r = h.patch("/Groups/"+g, `[
		{"op":"add","path":"members","value":[{"value":"`+ids["c"]+`"}]},
		{"op":"add","path":"members","value":[{"value":"ghost"}]}]`)
	scimError(t, r, http.StatusBadRequest, "invalidValue")
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "b")) {
		t.Errorf("members after failed requests = %v, want b", got)
	}
	seq = wantEvents(t, h, seq, names)

	// In order: add then remove the same member nets to nothing.
	mustStatus(t, h.patch("/Groups/"+g, `[
		{"op":"add","path":"members","value":[{"value":"`+ids["c"]+`"}]},
		{"op":"remove","path":"members[value eq \"`+ids["c"]+`\"]"}]`), http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "b")) {
		t.Errorf("members after add-then-remove = %v, want b", got)
	}
	wantEvents(t, h, seq, names)
}

// O10: a replace of members sets the whole membership; the change events
// are the difference.
func testO10(t *testing.T, h *harness) {
	g, ids := h.groupWith("O10", []string{"a", "b", "c"}, 2)
	seq := lastSeq(h)
	r := h.patch("/Groups/"+g, `[{"op":"replace","path":"members","value":[{"value":"`+ids["b"]+`"},{"value":"`+ids["c"]+`"}]}]`)
	mustStatus(t, r, http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, sortedIDs(ids, "b", "c")) {
		t.Errorf("members = %v, want b and c", got)
	}
	wantEvents(t, h, seq, reverse(ids, g, "g"), "group.member_added g c", "group.member_removed g a")
}

// G1: Microsoft's validator sends a PATCH without operations; it is a
// no-op.
func testG1(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("g1@example.com"))
	g, _ := h.groupWith("G1", nil, 0)
	seq := lastSeq(h)
	r := h.patch("/Users/"+str(u["id"]), `[]`)
	mustStatus(t, r, http.StatusOK)
	if got := r.obj(t); got["userName"] != "g1@example.com" || got["meta"].(map[string]any)["version"] != u["meta"].(map[string]any)["version"] {
		t.Errorf("empty PATCH answered %v", got)
	}
	mustStatus(t, h.patch("/Groups/"+g, `[]`), http.StatusNoContent)
	wantEvents(t, h, seq, nil)
}
