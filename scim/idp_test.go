package scim_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestIDPRequests holds one test per row of IDP-REQUESTS.md (what Okta and
// Entra really send), through the real HTTP handler. O15 (GET /Groups
// under 600 ms) is measured by `make bench`; here it only has to answer.
func TestIDPRequests(t *testing.T) {
	rows := []struct {
		id  string
		run func(t *testing.T, h *harness)
	}{
		{"E1", testE1}, {"E2", testE2}, {"E3", testE3}, {"E4", testE4}, {"E5", testE5},
		{"E6", testE6}, {"E7", testE7}, {"E8", testE8}, {"E9", testE9}, {"E10", testE10},
		{"E11", testE11}, {"E12", testE12}, {"E13", testE13}, {"E14", testE14}, {"E15", testE15},
		{"E16", testE16}, {"E17", testE17}, {"E18", testE18}, {"E19", testE19},
		{"O1", testO1}, {"O2", testO2}, {"O3", testO3}, {"O4", testO4}, {"O5", testO5},
		{"O6", testO6}, {"O7", testO7}, {"O8", testO8}, {"O9", testO9}, {"O10", testO10},
		{"O11", testO11}, {"O12", testO12}, {"O13", testO13}, {"O14", testO14}, {"O15", testO15},
		{"G1", testG1}, {"G2", testG2},
	}
	for _, row := range rows {
		t.Run(row.id, func(t *testing.T) {
			t.Parallel()
			row.run(t, newHarness(t))
		})
	}
}

// E1: Entra's Test Connection queries a random userName (and group
// displayName), maybe without a User-Agent, and needs 200 with an empty
// list, never 404.
func testE1(t *testing.T, h *harness) {
	for _, path := range []string{
		`/Users?filter=` + url.QueryEscape(`userName eq "a3f9c2e1-no-such-user"`),
		`/Groups?filter=` + url.QueryEscape(`displayName eq "no-such-group-7d1e"`),
	} {
		r := h.do(request{method: "GET", path: path, header: map[string]string{"User-Agent": ""}})
		mustStatus(t, r, http.StatusOK)
		lr := r.obj(t)
		if lr["totalResults"] != float64(0) {
			t.Errorf("%s: totalResults = %v, want 0", path, lr["totalResults"])
		}
		if res := resources(t, lr); len(res) != 0 {
			t.Errorf("%s: %d resources, want none", path, len(res))
		}
		if !bytes.Contains(r.body, []byte(`"Resources":[]`)) {
			t.Errorf("%s: Resources must be an empty list, not null: %s", path, r.body)
		}
	}
}

// E2: newer Entra jobs match on externalId.
func testE2(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"e2@example.com","externalId":"8f6c0c5e-7d2b-4c39-9a5e-0d5f1d7e2b11"}`)
	h.createUser(`{"schemas":[` + userSchema + `],"userName":"other@example.com","externalId":"11111111-2222-3333-4444-555555555555"}`)
	lr := h.list(`/Users?filter=` + url.QueryEscape(`externalId eq "8f6c0c5e-7d2b-4c39-9a5e-0d5f1d7e2b11"`))
	res := resources(t, lr)
	if len(res) != 1 || res[0]["id"] != u["id"] || res[0]["externalId"] != "8f6c0c5e-7d2b-4c39-9a5e-0d5f1d7e2b11" {
		t.Fatalf("externalId lookup returned %v", res)
	}
}

// E3: userName is caseExact false, and Entra may send another case.
func testE3(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("User@X.com"))
	lr := h.list(`/Users?filter=` + url.QueryEscape(`userName eq "USER@X.COM"`))
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != u["id"] {
		t.Fatalf("case-insensitive userName lookup returned %v", res)
	}
}

// E4: matching on the work email with a value-path filter.
func testE4(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"e4",
		"emails":[{"value":"home@b.example","type":"home"},{"value":"A@B.example","type":"work","primary":true}]}`)
	h.createUser(`{"schemas":[` + userSchema + `],"userName":"e4-decoy","emails":[{"value":"a@b.example","type":"home"}]}`)
	lr := h.list(`/Users?filter=` + url.QueryEscape(`emails[type eq "work"].value eq "a@b.example"`))
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != u["id"] {
		t.Fatalf("value-path filter returned %v, want only %v", res, u["id"])
	}
}

// E5: Entra's create: core and enterprise schemas, string boolean, meta
// and an empty roles list; a second create of the same userName is a 409.
func testE5(t *testing.T, h *harness) {
	body := `{
		"schemas":[` + userSchema + `,` + entSchema + `],
		"externalId":"0a21f0f2-8d2a-4f8e-8f4d-6b2c6f0a2b17",
		"userName":"Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1@contoso.com",
		"active":"True",
		"emails":[{"primary":true,"type":"work","value":"Test_User_fd0ea19b-0777-472c-9f96-4f70d2226f2e@contoso.com"}],
		"meta":{"resourceType":"User","created":"2001-01-01T00:00:00Z"},
		"name":{"formatted":"givenName familyName","familyName":"familyName","givenName":"givenName"},
		"roles":[],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","department":"Tour Operations"}
	}`
	r := h.do(request{method: "POST", path: "/Users", body: body})
	mustStatus(t, r, http.StatusCreated)
	u := r.obj(t)
	if str(u["id"]) == "" {
		t.Fatal("no id in the created user")
	}
	if u["active"] != true {
		t.Errorf(`active = %v, want true (from "True")`, u["active"])
	}
	meta := u["meta"].(map[string]any)
	if meta["created"] == "2001-01-01T00:00:00Z" {
		t.Error("the client's meta.created was kept")
	}
	if loc := r.header.Get("Location"); loc != meta["location"] || !strings.HasPrefix(loc, "https://scim.example.test/apps/acme/scim/v2/Users/") {
		t.Errorf("Location %q, meta.location %v", loc, meta["location"])
	}
	if _, ok := u["roles"]; ok {
		t.Errorf("an empty roles list came back as %v", u["roles"])
	}
	ent, _ := u["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].(map[string]any)
	if ent["employeeNumber"] != "701984" {
		t.Errorf("enterprise extension = %v", ent)
	}
	got := h.get("/Users/" + str(u["id"])).obj(t)
	if got["userName"] != u["userName"] || got["active"] != true {
		t.Errorf("stored user differs: %v", got)
	}
	dup := h.do(request{method: "POST", path: "/Users", body: strings.Replace(body, "Test_User_ab6490ee", "TEST_USER_AB6490EE", 1)})
	scimError(t, dup, http.StatusConflict, "uniqueness")
}

// E12: Entra's group create carries a Microsoft schema URI; displayName is
// unique.
func testE12(t *testing.T, h *harness) {
	body := `{"schemas":[` + groupSchema + `,"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId":"e9e30dba-f08f-4109-8486-d5c6a331660a","displayName":"Group1DisplayName"}`
	g := h.createGroup(body)
	if g["displayName"] != "Group1DisplayName" || g["externalId"] != "e9e30dba-f08f-4109-8486-d5c6a331660a" {
		t.Errorf("created group = %v", g)
	}
	if _, ok := g["members"]; ok {
		t.Errorf("a group without members has members = %v", g["members"])
	}
	dup := h.do(request{method: "POST", path: "/Groups", body: strings.Replace(body, "Group1DisplayName", "group1displayname", 1)})
	scimError(t, dup, http.StatusConflict, "uniqueness")
}

// E13: Entra reads groups with excludedAttributes=members.
func testE13(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("e13"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"Sales","members":[{"value":"` + str(u["id"]) + `"}]}`)
	if members, _ := g["members"].([]any); len(members) != 1 {
		t.Fatalf("created group members = %v", g["members"])
	}
	for _, path := range []string{
		`/Groups?excludedAttributes=members&filter=` + url.QueryEscape(`displayName eq "Sales"`),
		`/Groups/` + str(g["id"]) + `?excludedAttributes=members`,
	} {
		r := h.get(path)
		mustStatus(t, r, http.StatusOK)
		if bytes.Contains(r.body, []byte(`"members"`)) {
			t.Errorf("%s: members returned: %s", path, r.body)
		}
		if !bytes.Contains(r.body, []byte(`"displayName":"Sales"`)) {
			t.Errorf("%s: group missing: %s", path, r.body)
		}
	}
	full := h.get("/Groups/" + str(g["id"])).obj(t)
	members, _ := full["members"].([]any)
	if len(members) != 1 || members[0].(map[string]any)["value"] != u["id"] {
		t.Errorf("without excludedAttributes, members = %v", full["members"])
	}
}

// E18: deletes answer 204, and 404 when repeated.
func testE18(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("e18"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"E18"}`)
	for _, path := range []string{"/Users/" + str(u["id"]), "/Groups/" + str(g["id"])} {
		mustStatus(t, h.do(request{method: "DELETE", path: path}), http.StatusNoContent)
		scimError(t, h.do(request{method: "DELETE", path: path}), http.StatusNotFound, "")
		scimError(t, h.get(path), http.StatusNotFound, "")
	}
}

// E19: discovery endpoints, camelCase, no nulls, bulk not supported.
func testE19(t *testing.T, h *harness) {
	for _, path := range []string{"/Schemas", "/ResourceTypes", "/ServiceProviderConfig",
		"/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "/ResourceTypes/User"} {
		r := h.get(path)
		mustStatus(t, r, http.StatusOK)
		if n := countNulls(t, r.body); n > 0 {
			t.Errorf("%s: %d null values in %s", path, n, r.body)
		}
	}
	schemas := h.list("/Schemas")
	ids := map[string]bool{}
	for _, s := range resources(t, schemas) {
		ids[str(s["id"])] = true
	}
	for _, want := range []string{
		"urn:ietf:params:scim:schemas:core:2.0:User",
		"urn:ietf:params:scim:schemas:core:2.0:Group",
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
		"urn:scimbridge:params:scim:schemas:extension:2.0:User",
	} {
		if !ids[want] {
			t.Errorf("/Schemas lacks %s", want)
		}
	}
	spc := h.get("/ServiceProviderConfig").obj(t)
	for feature, want := range map[string]bool{"bulk": false, "filter": true, "sort": true, "patch": true, "etag": true, "changePassword": false} {
		m, _ := spc[feature].(map[string]any)
		if m["supported"] != want {
			t.Errorf("%s.supported = %v, want %v", feature, m["supported"], want)
		}
	}
	if schemes, _ := spc["authenticationSchemes"].([]any); len(schemes) != 1 {
		t.Errorf("authenticationSchemes = %v", spc["authenticationSchemes"])
	}
	rt := h.list("/ResourceTypes")
	for _, r := range resources(t, rt) {
		if r["endpoint"] != "/Users" && r["endpoint"] != "/Groups" {
			t.Errorf("unexpected resource type %v", r)
		}
	}
}

func countNulls(t *testing.T, body []byte) int {
	t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	var walk func(any) int
	walk = func(v any) int {
		switch v := v.(type) {
		case nil:
			return 1
		case map[string]any:
			n := 0
			for _, x := range v {
				n += walk(x)
			}
			return n
		case []any:
			n := 0
			for _, x := range v {
				n += walk(x)
			}
			return n
		}
		return 0
	}
	return walk(v)
}

// O1: Okta's lookup with paging parameters; counters are integers.
func testO1(t *testing.T, h *harness) {
	h.createUser(simpleUser("okta.user@example.com"))
	r := h.do(request{method: "GET", path: `/Users?filter=` + url.QueryEscape(`userName eq "okta.user@example.com"`) + `&startIndex=1&count=100`,
		header: map[string]string{"User-Agent": "Okta SCIM Client 1.0.0"}})
	mustStatus(t, r, http.StatusOK)
	for _, field := range []string{`"totalResults":1`, `"itemsPerPage":1`, `"startIndex":1`} {
		if !bytes.Contains(r.body, []byte(field)) {
			t.Errorf("body lacks %s: %s", field, r.body)
		}
	}
}

// O2: Okta's create sends a password (accepted, never stored or
// returned), an empty groups list and a locale.
func testO2(t *testing.T, h *harness) {
	const secret = "Sup3r-Secret-Okta-Pa55"
	body := `{"schemas":[` + userSchema + `],"userName":"o2@example.com",
		"name":{"givenName":"Ok","familyName":"Ta"},"emails":[{"primary":true,"value":"o2@example.com","type":"work"}],
		"displayName":"Ok Ta","locale":"en-US","externalId":"00ujl29u0le5T6Aj10h7","groups":[],
		"password":"` + secret + `","active":true}`
	r := h.do(request{method: "POST", path: "/Users", body: body})
	mustStatus(t, r, http.StatusCreated)
	u := r.obj(t)
	if u["locale"] != "en-US" || u["displayName"] != "Ok Ta" || u["externalId"] != "00ujl29u0le5T6Aj10h7" {
		t.Errorf("created user = %v", u)
	}
	for _, path := range []string{"", "/Users/" + str(u["id"]), "/Users?filter=" + url.QueryEscape(`userName eq "o2@example.com"`)} {
		b := r.body
		if path != "" {
			b = h.get(path).body
		}
		if bytes.Contains(bytes.ToLower(b), []byte("password")) || bytes.Contains(b, []byte(secret)) {
			t.Errorf("%q returned the password: %s", path, b)
		}
	}
	scimError(t, h.do(request{method: "POST", path: "/Users", body: body}), http.StatusConflict, "uniqueness")
	// Not in the database file either.
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(h.dbPath)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) {
			t.Errorf("the password is in %s", e.Name())
		}
	}
}

// O3: Okta pages through all users; the order is stable and the pages
// neither overlap nor skip.
func testO3(t *testing.T, h *harness) {
	const n = 150
	want := map[string]bool{}
	for i := 0; i < n; i++ {
		u := h.createUser(simpleUser(fmt.Sprintf("o3-%03d", (i*37)%n)))
		want[str(u["id"])] = true
	}
	seen := map[string]bool{}
	for _, start := range []int{1, 101} {
		lr := h.list(fmt.Sprintf("/Users?startIndex=%d&count=100", start))
		if lr["totalResults"] != float64(n) || lr["startIndex"] != float64(start) {
			t.Errorf("page %d: totalResults %v startIndex %v", start, lr["totalResults"], lr["startIndex"])
		}
		res := resources(t, lr)
		if lr["itemsPerPage"] != float64(len(res)) {
			t.Errorf("page %d: itemsPerPage %v but %d resources", start, lr["itemsPerPage"], len(res))
		}
		for _, r := range res {
			id := str(r["id"])
			if seen[id] {
				t.Errorf("user %s on two pages", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != n {
		t.Errorf("pages held %d users, want %d", len(seen), n)
	}
	again := resources(t, h.list("/Users?startIndex=1&count=100"))
	first := resources(t, h.list("/Users?startIndex=1&count=100"))
	for i := range first {
		if first[i]["id"] != again[i]["id"] {
			t.Fatalf("order changed between two reads at %d", i)
		}
	}
}

// O4: Okta OIN apps read the user, change it and PUT the whole resource
// back, read-only attributes included.
func testO4(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"o4@example.com","name":{"givenName":"Old","familyName":"Name"},"title":"Engineer","active":true}`)
	r := h.get("/Users/" + str(u["id"]))
	mustStatus(t, r, http.StatusOK)
	cur := r.obj(t)
	cur["name"] = map[string]any{"givenName": "New", "familyName": "Name"}
	delete(cur, "title")
	cur["id"] = "client-chosen-id"
	cur["meta"] = map[string]any{"created": "1999-01-01T00:00:00Z"}
	body, _ := json.Marshal(cur)
	put := h.do(request{method: "PUT", path: "/Users/" + str(u["id"]), body: string(body)})
	mustStatus(t, put, http.StatusOK)
	got := put.obj(t)
	if got["id"] != u["id"] {
		t.Errorf("PUT changed the id to %v", got["id"])
	}
	if name := got["name"].(map[string]any); name["givenName"] != "New" {
		t.Errorf("name = %v", name)
	}
	if _, ok := got["title"]; ok {
		t.Error("title survived a PUT that left it out")
	}
	if got["meta"].(map[string]any)["created"] != u["meta"].(map[string]any)["created"] {
		t.Error("PUT changed meta.created")
	}
	if got["meta"].(map[string]any)["version"] == u["meta"].(map[string]any)["version"] {
		t.Error("a real change kept the version")
	}
}

// O6: Okta AIW apps deactivate with a PUT carrying active false.
func testO6(t *testing.T, h *harness) {
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"o6@example.com","active":true}`)
	put := h.do(request{method: "PUT", path: "/Users/" + str(u["id"]),
		body: `{"schemas":[` + userSchema + `],"userName":"o6@example.com","active":false}`})
	mustStatus(t, put, http.StatusOK)
	if got := h.get("/Users/" + str(u["id"])).obj(t); got["active"] != false {
		t.Errorf("active = %v after PUT active:false", got["active"])
	}
	lr := h.list("/Users?filter=" + url.QueryEscape("active eq false"))
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != u["id"] {
		t.Errorf("active eq false returned %v", res)
	}
}

// O7: Okta creates groups with an empty members list.
func testO7(t *testing.T, h *harness) {
	r := h.do(request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `],"displayName":"Okta Group","members":[]}`})
	mustStatus(t, r, http.StatusCreated)
	if bytes.Contains(r.body, []byte("null")) {
		t.Errorf("response holds null: %s", r.body)
	}
}

// O11: Okta AIW apps PUT the whole group, members included.
func testO11(t *testing.T, h *harness) {
	a := h.createUser(simpleUser("o11-a"))
	b := h.createUser(simpleUser("o11-b"))
	c := h.createUser(simpleUser("o11-c"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"O11","members":[{"value":"` + str(a["id"]) + `"},{"value":"` + str(b["id"]) + `"}]}`)
	put := h.do(request{method: "PUT", path: "/Groups/" + str(g["id"]),
		body: `{"schemas":[` + groupSchema + `],"id":"` + str(g["id"]) + `","displayName":"O11 renamed","members":[{"value":"` + str(b["id"]) + `","display":"o11-b"},{"value":"` + str(c["id"]) + `"}]}`})
	mustStatus(t, put, http.StatusOK)
	got := h.get("/Groups/" + str(g["id"])).obj(t)
	ids := map[string]bool{}
	for _, m := range got["members"].([]any) {
		ids[str(m.(map[string]any)["value"])] = true
	}
	if got["displayName"] != "O11 renamed" || len(ids) != 2 || !ids[str(b["id"])] || !ids[str(c["id"])] {
		t.Errorf("group after PUT = %v", got)
	}
	// The user side agrees.
	if ua := h.get("/Users/" + str(a["id"])).obj(t); ua["groups"] != nil {
		t.Errorf("removed member still lists groups %v", ua["groups"])
	}
	uc := h.get("/Users/" + str(c["id"])).obj(t)
	groups, _ := uc["groups"].([]any)
	if len(groups) != 1 || groups[0].(map[string]any)["value"] != g["id"] || groups[0].(map[string]any)["display"] != "O11 renamed" {
		t.Errorf("added member's groups = %v", uc["groups"])
	}
}

// O12: Okta deletes groups.
func testO12(t *testing.T, h *harness) {
	u := h.createUser(simpleUser("o12"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"O12","members":[{"value":"` + str(u["id"]) + `"}]}`)
	mustStatus(t, h.do(request{method: "DELETE", path: "/Groups/" + str(g["id"])}), http.StatusNoContent)
	if got := h.get("/Users/" + str(u["id"])).obj(t); got["groups"] != nil {
		t.Errorf("user still in deleted group: %v", got["groups"])
	}
}

// O13: Okta's spec test sends a non-token Authorization header.
func testO13(t *testing.T, h *harness) {
	bad := "non-token"
	r := h.do(request{method: "GET", path: `/Users?filter=` + url.QueryEscape(`userName eq "x"`), token: &bad})
	scimError(t, r, http.StatusUnauthorized, "")
	r = h.do(request{method: "GET", path: "/Users", header: map[string]string{"Authorization": "non-token"}})
	scimError(t, r, http.StatusUnauthorized, "")
}

// O14: Okta's spec test fetches an id that does not exist.
func testO14(t *testing.T, h *harness) {
	d := scimError(t, h.get("/Users/00919288221112222"), http.StatusNotFound, "")
	if !strings.Contains(d, "00919288221112222") {
		t.Errorf("detail %q does not name the id", d)
	}
}

// G2: requests sent as application/json are accepted; answers are always
// application/scim+json.
func testG2(t *testing.T, h *harness) {
	r := h.do(request{method: "POST", path: "/Users", body: simpleUser("g2"), header: map[string]string{"Content-Type": "application/json"}})
	mustStatus(t, r, http.StatusCreated)
	for _, got := range []response{r, h.get("/Users"), h.get("/ServiceProviderConfig"), h.get("/Users/nope")} {
		if ct := got.header.Get("Content-Type"); ct != "application/scim+json" {
			t.Errorf("Content-Type %q", ct)
		}
	}
}

// O15: Okta's spec test lists the groups (its time limit is measured by
// make bench over 10,000 groups).
func testO15(t *testing.T, h *harness) {
	g, _ := h.groupWith("O15", []string{"a", "b"}, 2)
	lr := h.list("/Groups")
	res := resources(t, lr)
	if len(res) != 1 || res[0]["id"] != g || len(res[0]["members"].([]any)) != 2 {
		t.Errorf("GET /Groups = %v", res)
	}
}
