package scim_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/scim/compat"
)

// TestOktaLifecycle replays what an Okta OIN provisioning connector sends
// over a user's and a pushed group's life and checks the exact change
// events the adapters will see.
func TestOktaLifecycle(t *testing.T) {
	h := newHarness(t)
	okta := map[string]string{"User-Agent": "Okta SCIM Client 1.0.0"}
	send := func(method, path, body string, status int) map[string]any {
		t.Helper()
		r := h.do(request{method: method, path: path, body: body, header: okta})
		mustStatus(t, r, status)
		if len(r.body) == 0 {
			return nil
		}
		return r.obj(t)
	}

	// Import/match: the user does not exist yet.
	lr := send("GET", "/Users?filter="+url.QueryEscape(`userName eq "jane.doe@example.com"`)+"&startIndex=1&count=100", "", http.StatusOK)
	if lr["totalResults"] != float64(0) {
		t.Fatalf("match found %v", lr)
	}
	jane := str(send("POST", "/Users", `{"schemas":[`+userSchema+`],"userName":"jane.doe@example.com",
		"name":{"givenName":"Jane","familyName":"Doe"},"emails":[{"primary":true,"value":"jane.doe@example.com","type":"work"}],
		"displayName":"Jane Doe","locale":"en-US","externalId":"00u1abcd","groups":[],"password":"Secret#1","active":true}`, http.StatusCreated)["id"])
	john := str(send("POST", "/Users", simpleUser("john.roe@example.com"), http.StatusCreated)["id"])

	// Profile push: GET then PUT of the whole resource, once changed and
	// once unchanged (Okta pushes on every sync).
	cur := send("GET", "/Users/"+jane, "", http.StatusOK)
	cur["title"] = "Engineer"
	body, _ := json.Marshal(cur)
	send("PUT", "/Users/"+jane, string(body), http.StatusOK)
	send("PUT", "/Users/"+jane, string(body), http.StatusOK)

	// Group push: create, then membership with the unchanged name
	// repeated, a rename, a removal, and the group's deletion.
	g := str(send("POST", "/Groups", `{"schemas":[`+groupSchema+`],"displayName":"Engineering","members":[]}`, http.StatusCreated)["id"])
	same := `{"op":"replace","value":{"id":"` + g + `","displayName":"Engineering"}}`
	send("PATCH", "/Groups/"+g, `{"schemas":[`+patchSchema+`],"Operations":[`+same+`,
		{"op":"add","path":"members","value":[{"value":"`+jane+`","display":"jane.doe@example.com"},{"value":"`+john+`","display":"john.roe@example.com"}]}]}`, http.StatusNoContent)
	send("PATCH", "/Groups/"+g, `{"schemas":[`+patchSchema+`],"Operations":[`+same+`]}`, http.StatusNoContent)
	send("PATCH", "/Groups/"+g, `{"schemas":[`+patchSchema+`],"Operations":[{"op":"replace","value":{"id":"`+g+`","displayName":"Engineering EU"}}]}`, http.StatusNoContent)
	send("PATCH", "/Groups/"+g, `{"schemas":[`+patchSchema+`],"Operations":[
		{"op":"replace","value":{"id":"`+g+`","displayName":"Engineering EU"}},
		{"op":"remove","path":"members[value eq \"`+jane+`\"]"}]}`, http.StatusNoContent)

	// Deactivation without a path, a repeat, and reactivation.
	deactivate := `{"schemas":[` + patchSchema + `],"Operations":[{"op":"replace","value":{"active":false}}]}`
	send("PATCH", "/Users/"+jane, deactivate, http.StatusOK)
	send("PATCH", "/Users/"+jane, deactivate, http.StatusOK)
	send("PATCH", "/Users/"+jane, `{"schemas":[`+patchSchema+`],"Operations":[{"op":"replace","value":{"active":true}}]}`, http.StatusOK)
	send("DELETE", "/Groups/"+g, "", http.StatusNoContent)

	wantEvents(t, h, 0, map[string]string{jane: "jane", john: "john", g: "eng"},
		"user.created jane",
		"user.created john",
		"user.updated jane [title]",
		"group.created eng",
		"group.member_added eng jane",
		"group.member_added eng john",
		"group.renamed eng",
		"group.member_removed eng jane",
		"user.deactivated jane",
		"user.reactivated jane",
		"group.member_removed eng john",
		"group.deleted eng",
	)
}

// TestEntraLifecycle replays what a Microsoft Entra ID provisioning job
// sends, from Test Connection to deletion, and checks the exact change
// events.
func TestEntraLifecycle(t *testing.T) {
	h := newHarness(t)
	send := func(method, path, body string, status int) map[string]any {
		t.Helper()
		// Entra ID's Test Connection may come without a User-Agent.
		r := h.do(request{method: method, path: path, body: body, header: map[string]string{"User-Agent": ""}})
		mustStatus(t, r, status)
		if len(r.body) == 0 {
			return nil
		}
		return r.obj(t)
	}
	patchOps := func(ops string) string { return `{"schemas":[` + patchSchema + `],"Operations":` + ops + `}` }

	send("GET", "/Users?filter="+url.QueryEscape(`userName eq "0c8e1b8a-4c9a-4bde-9d7c-3c1b2f4a5e6d"`), "", http.StatusOK)
	send("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "6b1f0d3e"`), "", http.StatusOK)
	send("GET", "/Users?filter="+url.QueryEscape(`externalId eq "6f1b6b1e-1c9a-4c59-8d7e-2f0a0b8c9d10"`), "", http.StatusOK)

	mgr := str(send("POST", "/Users", simpleUser("boss@contoso.com"), http.StatusCreated)["id"])
	u := str(send("POST", "/Users", `{"schemas":[`+userSchema+`,`+entSchema+`],
		"externalId":"6f1b6b1e-1c9a-4c59-8d7e-2f0a0b8c9d10","userName":"alex@contoso.com","active":"True",
		"displayName":"Alex Wilber","emails":[{"primary":true,"type":"work","value":"alex@contoso.com"}],
		"name":{"formatted":"Alex Wilber","familyName":"Wilber","givenName":"Alex"},"roles":[],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"department":"Retail"}}`, http.StatusCreated)["id"])

	send("PATCH", "/Users/"+u, patchOps(`[
		{"op":"Replace","path":"emails[type eq \"work\"].value","value":"alex.wilber@contoso.com"},
		{"op":"Replace","path":"name.familyName","value":"Wilber-Smith"},
		{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"`+mgr+`"}]`), http.StatusOK)

	g := str(send("POST", "/Groups", `{"schemas":[`+groupSchema+`,"http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],
		"externalId":"2b1e5f3a-6c1d-4e2f-8a9b-0c1d2e3f4a5b","displayName":"Retail Managers"}`, http.StatusCreated)["id"])
	send("PATCH", "/Groups/"+g, patchOps(`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"`+u+`"},{"$ref":null,"value":"`+mgr+`"}]}]`), http.StatusNoContent)
	send("PATCH", "/Groups/"+g, patchOps(`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"`+mgr+`"}]}]`), http.StatusNoContent)
	if got := h.memberIDs(g); !slices.Equal(got, []string{u}) {
		t.Errorf("members after the removal by value = %v, want only %s", got, u)
	}

	send("PATCH", "/Users/"+u, patchOps(`[{"op":"Replace","path":"active","value":"False"}]`), http.StatusOK)
	send("DELETE", "/Users/"+u, "", http.StatusNoContent)
	send("DELETE", "/Users/"+u, "", http.StatusNotFound)
	send("DELETE", "/Users/"+mgr, "", http.StatusNoContent)
	send("DELETE", "/Groups/"+g, "", http.StatusNoContent)

	wantEvents(t, h, 0, map[string]string{u: "alex", mgr: "boss", g: "retail"},
		"user.created boss",
		"user.created alex",
		"user.updated alex [name emails urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager]",
		"group.created retail",
		"group.member_added retail alex",
		"group.member_added retail boss",
		"group.member_removed retail boss",
		"user.deactivated alex",
		"user.deleted alex",
		"user.deactivated boss",
		"user.deleted boss",
		"group.deleted retail",
	)
}

// TestConcurrentPatches sends 20 PATCHes at once that each add a different
// member to one group, and 20 that each add a different email to one
// user: every change is kept.
func TestConcurrentPatches(t *testing.T) {
	const n = 20
	h := newHarness(t)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("m%02d", i)
	}
	g, ids := h.groupWith("Concurrent", names, 0)
	u := str(h.createUser(simpleUser("concurrent@example.com"))["id"])
	seq := lastSeq(h)

	var wg sync.WaitGroup
	statuses := make([]int, 2*n)
	for i, name := range names {
		wg.Go(func() {
			statuses[i] = h.patch("/Groups/"+g, `[{"op":"add","path":"members","value":[{"value":"`+ids[name]+`"}]}]`).status
		})
		wg.Go(func() {
			statuses[n+i] = h.patch("/Users/"+u, fmt.Sprintf(`[{"op":"add","path":"emails","value":[{"value":"%s@example.com","type":"other"}]}]`, name)).status
		})
	}
	wg.Wait()
	for i, s := range statuses {
		if want := map[bool]int{true: http.StatusNoContent, false: http.StatusOK}[i < n]; s != want {
			t.Errorf("request %d: status %d, want %d", i, s, want)
		}
	}
	var all []string
	for _, id := range ids {
		all = append(all, id)
	}
	slices.Sort(all)
	if got := h.memberIDs(g); !slices.Equal(got, all) {
		t.Errorf("%d members after %d concurrent adds", len(got), n)
	}
	emails, _ := h.userAt(u)["emails"].([]any)
	if len(emails) != n {
		t.Errorf("%d emails after %d concurrent adds", len(emails), n)
	}
	got, _ := h.events(seq, nil)
	added, updated := 0, 0
	for _, e := range got {
		switch {
		case e[:len("group.member_added")] == "group.member_added":
			added++
		case e[:len("user.updated")] == "user.updated":
			updated++
		}
	}
	if added != n || updated != n || len(got) != 2*n {
		t.Errorf("events: %d member_added, %d user.updated of %d, want %d each", added, updated, len(got), n)
	}
	if v := h.userAt(u)["meta"].(map[string]any)["version"]; v != fmt.Sprintf(`W/"%d"`, n+1) {
		t.Errorf("user version %v after %d changes", v, n)
	}
}

// TestPreconditions covers ETag, If-Match on every write and If-None-Match
// on reads.
func TestPreconditions(t *testing.T) {
	h := newHarness(t)
	u := str(h.createUser(simpleUser("etag@example.com"))["id"])
	g, _ := h.groupWith("ETags", []string{"a"}, 1)
	title := func(v string) string { return `[{"op":"replace","path":"title","value":"` + v + `"}]` }
	withIfMatch := func(req request, tag string) request {
		req.header = map[string]string{"If-Match": tag}
		return req
	}
	patchReq := func(path, ops string) request {
		return request{method: "PATCH", path: path, body: `{"schemas":[` + patchSchema + `],"Operations":` + ops + `}`}
	}
	putUser := request{method: "PUT", path: "/Users/" + u, body: `{"schemas":[` + userSchema + `],"userName":"etag@example.com","title":"put"}`}

	steps := []struct {
		name   string
		req    request
		status int
		etag   string // the ETag header of the answer, if any
	}{
		{"GET gives the version", request{method: "GET", path: "/Users/" + u}, 200, `W/"1"`},
		{"If-None-Match current", request{method: "GET", path: "/Users/" + u, header: map[string]string{"If-None-Match": `W/"1"`}}, 304, `W/"1"`},
		{"If-None-Match strong form", request{method: "GET", path: "/Users/" + u, header: map[string]string{"If-None-Match": `"1"`}}, 304, `W/"1"`},
		{"If-None-Match old", request{method: "GET", path: "/Users/" + u, header: map[string]string{"If-None-Match": `W/"0"`}}, 200, `W/"1"`},
		{"PATCH If-Match current", withIfMatch(patchReq("/Users/"+u, title("a")), `W/"1"`), 200, `W/"2"`},
		{"PATCH If-Match stale", withIfMatch(patchReq("/Users/"+u, title("b")), `W/"1"`), 412, ""},
		{"PATCH If-Match one of a list", withIfMatch(patchReq("/Users/"+u, title("c")), `W/"1", W/"2"`), 200, `W/"3"`},
		{"PATCH If-Match any", withIfMatch(patchReq("/Users/"+u, title("d")), `*`), 200, `W/"4"`},
		{"PUT If-Match stale", withIfMatch(putUser, `W/"3"`), 412, ""},
		{"PUT If-Match current", withIfMatch(putUser, `W/"4"`), 200, `W/"5"`},
		{"group PATCH If-Match stale", withIfMatch(patchReq("/Groups/"+g, `[{"op":"replace","path":"displayName","value":"x"}]`), `W/"9"`), 412, ""},
		{"group PATCH If-Match current", withIfMatch(patchReq("/Groups/"+g, `[{"op":"replace","path":"displayName","value":"x"}]`), `W/"1"`), 204, `W/"2"`},
		{"group GET If-None-Match", request{method: "GET", path: "/Groups/" + g, header: map[string]string{"If-None-Match": `W/"2"`}}, 304, `W/"2"`},
		{"DELETE If-Match stale", withIfMatch(request{method: "DELETE", path: "/Users/" + u}, `W/"4"`), 412, ""},
		{"DELETE If-Match current", withIfMatch(request{method: "DELETE", path: "/Users/" + u}, `W/"5"`), 204, ""},
		{"If-None-Match on a missing resource", request{method: "GET", path: "/Users/" + u, header: map[string]string{"If-None-Match": `*`}}, 404, ""},
	}
	for _, st := range steps {
		r := h.do(st.req)
		if r.status != st.status {
			t.Fatalf("%s: status %d, want %d; body %s", st.name, r.status, st.status, r.body)
		}
		if st.status == 412 {
			scimError(t, r, 412, "")
		}
		if st.status == 304 && len(r.body) != 0 {
			t.Errorf("%s: 304 with a body", st.name)
		}
		if st.etag != "" && r.header.Get("ETag") != st.etag {
			t.Errorf("%s: ETag %q, want %q", st.name, r.header.Get("ETag"), st.etag)
		}
	}
}

// TestRulesSwitchedOff checks that each normalisation rule, switched off
// for an app, gives the strict result there while the app with every rule
// on accepts the IdP's shape.
func TestRulesSwitchedOff(t *testing.T) {
	var names []string
	for _, r := range compat.All() {
		names = append(names, string(r))
	}
	strict, err := compat.Disable(names)
	if err != nil {
		t.Fatal(err)
	}
	h := newHarnessRules(t, map[string]compat.Set{"strict": strict}, "acme", "strict")
	setup := func(app string) (user, group, member string) {
		create := func(path, body string) string {
			r := h.do(request{method: "POST", path: path, body: body, app: app})
			mustStatus(t, r, http.StatusCreated)
			return str(r.obj(t)["id"])
		}
		user = create("/Users", simpleUser("rules@example.com"))
		member = create("/Users", simpleUser("member@example.com"))
		group = create("/Groups", `{"schemas":[`+groupSchema+`],"displayName":"Rules","members":[{"value":"`+member+`"}]}`)
		return user, group, member
	}
	type ids struct{ user, group, member string }
	apps := map[string]ids{}
	for _, app := range []string{"acme", "strict"} {
		u, g, m := setup(app)
		apps[app] = ids{u, g, m}
	}
	patchBody := func(ops string) string { return `{"schemas":[` + patchSchema + `],"Operations":` + ops + `}` }
	cases := []struct {
		rule         compat.Rule
		req          func(ids) request
		on           int
		off          int
		offScimType  string
		offAftermath func(t *testing.T, app ids) // checks the strict app after the request
	}{
		{compat.CapitalisedOps, func(x ids) request {
			return request{method: "PATCH", path: "/Users/" + x.user, body: patchBody(`[{"op":"Replace","path":"title","value":"x"}]`)}
		}, 200, 400, "invalidSyntax", nil},
		{compat.StringBooleans, func(x ids) request {
			return request{method: "PATCH", path: "/Users/" + x.user, body: patchBody(`[{"op":"replace","path":"active","value":"False"}]`)}
		}, 200, 400, "invalidValue", nil},
		{compat.BareManager, func(x ids) request {
			return request{method: "PATCH", path: "/Users/" + x.user, body: patchBody(`[{"op":"add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}]`)}
		}, 200, 400, "invalidValue", nil},
		{compat.MemberRemoveByValue, func(x ids) request {
			return request{method: "PATCH", path: "/Groups/" + x.group, body: patchBody(`[{"op":"remove","path":"members","value":[{"value":"` + x.member + `"}]}]`)}
		}, 204, 400, "invalidValue", func(t *testing.T, x ids) {
			if got := h.do(request{method: "GET", path: "/Groups/" + x.group, app: "strict"}).obj(t)["members"]; got == nil {
				t.Error("the refused removal cleared the group")
			}
		}},
		{compat.PathlessDottedKeys, func(x ids) request {
			return request{method: "PATCH", path: "/Users/" + x.user, body: patchBody(`[{"op":"replace","value":{"name.givenName":"X"}}]`)}
		}, 200, 400, "invalidPath", nil},
		{compat.IDInPatchValue, func(x ids) request {
			return request{method: "PATCH", path: "/Groups/" + x.group, body: patchBody(`[{"op":"replace","value":{"id":"` + x.group + `","displayName":"Rules"}}]`)}
		}, 204, 400, "mutability", nil},
		{compat.EmptyOperations, func(x ids) request {
			return request{method: "PATCH", path: "/Users/" + x.user, body: patchBody(`[]`)}
		}, 200, 400, "invalidValue", nil},
		{compat.SingleValueList, func(x ids) request {
			return request{method: "PATCH", path: "/Groups/" + x.group, body: patchBody(`[{"op":"add","path":"members","value":{"value":"` + x.user + `"}}]`)}
		}, 204, 400, "invalidValue", nil},
		{compat.TrailingSlash, func(x ids) request {
			return request{method: "GET", path: "/Users/" + x.user + "/"}
		}, 200, 404, "", nil},
		{compat.MissingUserAgent, func(x ids) request {
			return request{method: "GET", path: "/Users/" + x.user, header: map[string]string{"User-Agent": ""}}
		}, 200, 400, "", nil},
	}
	for _, c := range cases {
		t.Run(string(c.rule), func(t *testing.T) {
			on := c.req(apps["acme"])
			if r := h.do(on); r.status != c.on {
				t.Errorf("rule on: status %d, want %d; body %s", r.status, c.on, r.body)
			}
			off := c.req(apps["strict"])
			off.app = "strict"
			d := scimError(t, h.do(off), c.off, c.offScimType)
			t.Logf("rule off: %s", d)
			if c.offAftermath != nil {
				c.offAftermath(t, apps["strict"])
			}
		})
	}
}
