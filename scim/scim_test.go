package scim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store"
)

func TestAuthentication(t *testing.T) {
	h := newHarness(t, "acme", "other")
	u := h.createUser(simpleUser("secret-user@acme.example"))
	ctx := context.Background()
	revoked, tok, err := scim.IssueToken(ctx, h.db, "acme", "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.db.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, tok.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	acme := h.tokens["acme"]
	wrongSecret := acme[:len(acme)-4] + "AAAA"
	if wrongSecret == acme {
		wrongSecret = acme[:len(acme)-4] + "BBBB"
	}
	empty := ""
	other := h.tokens["other"]
	cases := []struct {
		name   string
		req    request
		header map[string]string
	}{
		{"no header", request{token: &empty}, nil},
		{"wrong scheme", request{token: &empty}, map[string]string{"Authorization": "Basic " + acme}},
		{"malformed token", request{token: strPtr("sbt_short")}, nil},
		{"wrong secret", request{token: &wrongSecret}, nil},
		{"revoked token", request{token: &revoked}, nil},
		{"token of another app", request{token: &other}, nil},
		{"unknown app", request{app: "nosuchapp", token: &acme}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, method := range []string{"GET", "DELETE"} {
				req := c.req
				req.method = method
				req.path = "/Users/" + str(u["id"])
				req.header = c.header
				r := h.do(req)
				scimError(t, r, http.StatusUnauthorized, "")
				if r.header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if bytes.Contains(r.body, []byte("secret-user")) {
					t.Error("401 leaked the user")
				}
			}
		})
	}
	// The user survived every DELETE above.
	mustStatus(t, h.get("/Users/"+str(u["id"])), http.StatusOK)
	// The other app's token sees its own, empty directory.
	lr := h.do(request{method: "GET", path: "/Users", app: "other"})
	mustStatus(t, lr, http.StatusOK)
	if res := resources(t, lr.obj(t)); len(res) != 0 {
		t.Errorf("app other sees %d users of acme", len(res))
	}
	scimError(t, h.do(request{method: "GET", path: "/Users/" + str(u["id"]), app: "other"}), http.StatusNotFound, "")
	// The scheme name is case-insensitive (RFC 7235).
	r := h.do(request{method: "GET", path: "/Users", token: &empty, header: map[string]string{"Authorization": "bearer " + acme}})
	mustStatus(t, r, http.StatusOK)
	// Failures are logged with a reason and never with the token.
	logs := h.logs.String()
	if !strings.Contains(logs, `"reason":"wrong secret"`) || !strings.Contains(logs, `"reason":"token of another app"`) {
		t.Errorf("authentication failures not logged with reasons:\n%s", logs)
	}
	for _, secret := range []string{acme, wrongSecret, revoked, other} {
		if strings.Contains(logs, secret) {
			t.Error("a token reached the log")
		}
	}
}

func strPtr(s string) *string { return &s }

func TestBadRequests(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(simpleUser("bad-requests"))
	uid := str(u["id"])
	big := `{"schemas":[` + userSchema + `],"userName":"big","title":"` + strings.Repeat("x", 70<<10) + `"}`
	cases := []struct {
		name     string
		req      request
		status   int
		scimType string
		detail   string // a part the detail must contain
	}{
		{"body over the limit", request{method: "POST", path: "/Users", body: big}, 413, "", "larger than"},
		{"malformed JSON", request{method: "POST", path: "/Users", body: `{"userName": "x",`}, 400, "invalidSyntax", "not valid JSON"},
		{"JSON array body", request{method: "POST", path: "/Users", body: `[1,2]`}, 400, "invalidSyntax", "JSON object"},
		{"two JSON values", request{method: "POST", path: "/Users", body: `{} {}`}, 400, "invalidSyntax", "more than one"},
		{"empty body", request{method: "PUT", path: "/Users/" + uid, body: " "}, 400, "invalidSyntax", "empty"},
		{"no schemas", request{method: "POST", path: "/Users", body: `{"userName":"x"}`}, 400, "invalidSyntax", "schemas"},
		{"wrong schema", request{method: "POST", path: "/Users", body: `{"schemas":[` + groupSchema + `],"userName":"x"}`}, 400, "invalidSyntax", "schemas must include"},
		{"no userName", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"displayName":"x"}`}, 400, "invalidValue", "userName is required"},
		{"blank userName", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"userName":"  "}`}, 400, "invalidValue", "userName"},
		{"boolean typo", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"userName":"x","active":"yes"}`}, 400, "invalidValue", "active must be true or false"},
		{"number for a string", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"userName":"x","title":5}`}, 400, "invalidValue", "title must be a string"},
		{"duplicate key by case", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"userName":"x","USERNAME":"y"}`}, 400, "invalidSyntax", "given twice"},
		{"two primaries", request{method: "POST", path: "/Users", body: `{"schemas":[` + userSchema + `],"userName":"x","emails":[{"value":"a@x","primary":true},{"value":"b@x","primary":true}]}`}, 400, "invalidValue", "primary"},
		{"no group name", request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `]}`}, 400, "invalidValue", "displayName is required"},
		{"unknown member", request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `],"displayName":"g","members":[{"value":"no-such-id"}]}`}, 400, "invalidValue", "no-such-id"},
		{"member without value", request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `],"displayName":"g","members":[{"display":"x"}]}`}, 400, "invalidValue", "needs a value"},
		{"bad count", request{method: "GET", path: "/Users?count=ten"}, 400, "invalidValue", "count"},
		{"bad startIndex", request{method: "GET", path: "/Users?startIndex=1.5"}, 400, "invalidValue", "startIndex"},
		{"unknown attribute in attributes", request{method: "GET", path: "/Users?attributes=userNme"}, 400, "invalidValue", "userNme"},
		{"unknown sortBy", request{method: "GET", path: "/Users?sortBy=shoeSize"}, 400, "invalidValue", "shoeSize"},
		{"bad sortOrder", request{method: "GET", path: "/Users?sortBy=userName&sortOrder=up"}, 400, "invalidValue", "ascending"},
		{"unknown filter attribute", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`shoeSize eq "9"`)}, 400, "invalidFilter", "shoeSize"},
		{"filter syntax", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`userName eq`)}, 400, "invalidFilter", "cannot parse"},
		{"filter value type", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`active eq "yes"`)}, 400, "invalidFilter", "boolean"},
		{"filter on password", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`password eq "x"`)}, 400, "invalidFilter", "password"},
		{"filter gt on boolean", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`active gt true`)}, 400, "invalidFilter", "gt"},
		{"unsupported meta filter", request{method: "GET", path: "/Users?filter=" + url.QueryEscape(`meta.version eq "x"`)}, 400, "invalidFilter", "meta.version"},
		{"unknown endpoint", request{method: "GET", path: "/Devices"}, 404, "", "no such endpoint"},
		{"method not allowed", request{method: "DELETE", path: "/Users"}, 405, "", "GET POST"},
		{"PATCH of the id", request{method: "PATCH", path: "/Users/" + uid, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"userName","value":"changed"},{"op":"replace","path":"id","value":"x"}]}`}, 400, "mutability", "id"},
		{"PATCH without operations", request{method: "PATCH", path: "/Users/" + uid, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]}`}, 400, "invalidSyntax", "Operations"},
		{"PATCH with an unknown op", request{method: "PATCH", path: "/Users/" + uid, body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"merge","path":"userName","value":"changed"}]}`}, 400, "invalidSyntax", "merge"},
		{"search without schema", request{method: "POST", path: "/Users/.search", body: `{"filter":"userName eq \"x\""}`}, 400, "invalidValue", "SearchRequest"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := scimError(t, h.do(c.req), c.status, c.scimType)
			if !strings.Contains(d, c.detail) {
				t.Errorf("detail %q lacks %q", d, c.detail)
			}
		})
	}
	// Nothing above changed the user or created anything.
	got := h.get("/Users/" + uid).obj(t)
	if got["userName"] != "bad-requests" || got["meta"].(map[string]any)["version"] != u["meta"].(map[string]any)["version"] {
		t.Errorf("user changed by bad requests: %v", got)
	}
	if lr := h.list("/Users"); lr["totalResults"] != float64(1) {
		t.Errorf("%v users after bad requests, want 1", lr["totalResults"])
	}
	if lr := h.list("/Groups"); lr["totalResults"] != float64(0) {
		t.Errorf("%v groups after bad requests, want 0", lr["totalResults"])
	}
}

func TestInternalErrorsHideDetails(t *testing.T) {
	h := newHarness(t)
	h.createUser(simpleUser("before-close"))
	if err := h.db.Close(); err != nil {
		t.Fatal(err)
	}
	for _, req := range []request{
		{method: "GET", path: "/Users"},
		{method: "POST", path: "/Users", body: simpleUser("after-close")},
	} {
		r := h.do(req)
		if r.status < 500 {
			// With the store gone even authentication fails inside.
			t.Fatalf("%s %s: status %d, want a 5xx: %s", req.method, req.path, r.status, r.body)
		}
		d := scimError(t, r, r.status, "")
		low := strings.ToLower(d)
		for _, leak := range []string{"sql", "database", "closed", ".go", "goroutine"} {
			if strings.Contains(low, leak) {
				t.Errorf("%s %s: detail %q leaks %q", req.method, req.path, d, leak)
			}
		}
		rid := r.header.Get("X-Request-Id")
		if rid == "" || !strings.Contains(d, rid) {
			t.Errorf("detail %q does not give the request id %q", d, rid)
		}
		if !strings.Contains(h.logs.String(), rid) {
			t.Errorf("request %s not in the log", rid)
		}
	}
}

func TestPanicsAreRecovered(t *testing.T) {
	var logs syncBuffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	srv := httptest.NewServer(scim.AccessLog(log, http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		panic("handler bug with internal detail")
	})))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/apps/acme/scim/v2/Users")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	r := response{status: res.StatusCode, header: res.Header, body: body}
	d := scimError(t, r, http.StatusInternalServerError, "")
	if strings.Contains(d, "internal detail") {
		t.Errorf("panic text reached the client: %q", d)
	}
	if !strings.Contains(logs.String(), "handler bug with internal detail") || !strings.Contains(logs.String(), `"status":500`) {
		t.Errorf("panic not logged:\n%s", logs.String())
	}
}

func TestUniquenessAndIgnoredFields(t *testing.T) {
	h := newHarness(t)
	a := h.createUser(`{"schemas":[` + userSchema + `],"userName":"Émile@Example.com","id":"chosen-by-client","meta":{"version":"W/\"99\""}}`)
	if a["id"] == "chosen-by-client" || a["meta"].(map[string]any)["version"] != `W/"1"` {
		t.Errorf("client id or meta kept: %v", a)
	}
	scimError(t, h.do(request{method: "POST", path: "/Users", body: simpleUser("ÉMILE@EXAMPLE.COM")}), http.StatusConflict, "uniqueness")
	b := h.createUser(simpleUser("bob@example.com"))
	d := scimError(t, h.do(request{method: "PUT", path: "/Users/" + str(b["id"]), body: simpleUser("émile@example.com")}), http.StatusConflict, "uniqueness")
	if !strings.Contains(d, "userName") {
		t.Errorf("detail %q does not name userName", d)
	}
	if got := h.get("/Users/" + str(b["id"])).obj(t); got["userName"] != "bob@example.com" {
		t.Errorf("failed PUT changed the user: %v", got)
	}
	// The same names are free in another app.
	h2 := newHarness(t, "acme", "beta")
	h2.createUser(simpleUser("same@example.com"))
	r := h2.do(request{method: "POST", path: "/Users", app: "beta", body: simpleUser("same@example.com")})
	mustStatus(t, r, http.StatusCreated)
}

func TestVersionsAndETags(t *testing.T) {
	h := newHarness(t)
	body := `{"schemas":[` + userSchema + `],"userName":"v@example.com","title":"A"}`
	u := h.createUser(body)
	id := str(u["id"])
	get := h.get("/Users/" + id)
	if et := get.header.Get("ETag"); et != `W/"1"` {
		t.Errorf("ETag %q, want W/\"1\"", et)
	}
	// An identical PUT (Okta re-sends unchanged resources) keeps the version.
	same := h.do(request{method: "PUT", path: "/Users/" + id, body: body})
	mustStatus(t, same, http.StatusOK)
	if v := same.obj(t)["meta"].(map[string]any)["version"]; v != `W/"1"` {
		t.Errorf("unchanged PUT moved the version to %v", v)
	}
	changed := h.do(request{method: "PUT", path: "/Users/" + id, body: strings.Replace(body, `"A"`, `"B"`, 1)})
	if v := changed.obj(t)["meta"].(map[string]any)["version"]; v != `W/"2"` {
		t.Errorf("changed PUT gave version %v, want W/\"2\"", v)
	}
	if et := changed.header.Get("ETag"); et != `W/"2"` {
		t.Errorf("ETag after change %q", et)
	}
}

// TestListMatchesGet holds scimbridge's own list rendering to the
// library's rendering of the same resource.
func TestListMatchesGet(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(`{"schemas":[` + userSchema + `,` + entSchema + `],"userName":"same@example.com","externalId":"ext-1",
		"name":{"givenName":"S"},"emails":[{"value":"same@example.com","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"manager":"mgr-1"}}`)
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"Same","externalId":"g-ext","members":[{"value":"` + str(u["id"]) + `"}]}`)
	for _, c := range []struct{ get, list string }{
		{"/Users/" + str(u["id"]), "/Users?filter=" + url.QueryEscape(`userName eq "same@example.com"`)},
		{"/Groups/" + str(g["id"]), "/Groups?filter=" + url.QueryEscape(`displayName eq "Same"`)},
		{"/Users/" + str(u["id"]) + "?attributes=userName,emails.value", "/Users?attributes=userName,emails.value"},
	} {
		one := h.get(c.get).obj(t)
		res := resources(t, h.list(c.list))
		if len(res) != 1 || !reflect.DeepEqual(one, res[0]) {
			t.Errorf("GET %s and list %s differ:\n%v\n%v", c.get, c.list, one, res)
		}
	}
	mgr := h.get("/Users/" + str(u["id"])).obj(t)["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]
	if !reflect.DeepEqual(mgr, map[string]any{"manager": map[string]any{"value": "mgr-1"}}) {
		t.Errorf("bare-string manager stored as %v", mgr)
	}
}

func TestProjection(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(`{"schemas":[` + userSchema + `,` + entSchema + `],"userName":"p@example.com","externalId":"p-ext","title":"T",
		"name":{"givenName":"G","familyName":"F"},"emails":[{"value":"p@example.com","type":"work","primary":true}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","department":"D"}}`)
	id := str(u["id"])
	cases := []struct {
		query      string
		want, gone []string // top-level keys
		check      func(t *testing.T, r map[string]any)
	}{
		{"attributes=userName", []string{"id", "userName", "schemas", "meta"}, []string{"title", "name", "emails", "externalId"}, nil},
		{"attributes=name.givenName", []string{"name"}, []string{"userName"}, func(t *testing.T, r map[string]any) {
			if !reflect.DeepEqual(r["name"], map[string]any{"givenName": "G"}) {
				t.Errorf("name = %v", r["name"])
			}
		}},
		{"attributes=emails.value", []string{"emails"}, nil, func(t *testing.T, r map[string]any) {
			if !reflect.DeepEqual(r["emails"], []any{map[string]any{"value": "p@example.com"}}) {
				t.Errorf("emails = %v", r["emails"])
			}
		}},
		{"attributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, []string{"title"}, func(t *testing.T, r map[string]any) {
			if !reflect.DeepEqual(r["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"], map[string]any{"department": "D"}) {
				t.Errorf("extension = %v", r["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"])
			}
		}},
		{"excludedAttributes=emails,title,externalId", []string{"userName", "name", "id"}, []string{"emails", "title", "externalId"}, nil},
		{"excludedAttributes=id", []string{"id"}, nil, nil}, // id is returned always
		{"excludedAttributes=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", []string{"userName"}, []string{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"}, nil},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			for _, path := range []string{"/Users/" + id + "?" + c.query, "/Users?" + c.query} {
				r := h.get(path)
				mustStatus(t, r, http.StatusOK)
				obj := r.obj(t)
				if strings.HasPrefix(path, "/Users?") {
					obj = resources(t, obj)[0]
				}
				for _, k := range c.want {
					if _, ok := obj[k]; !ok {
						t.Errorf("%s: %s missing from %v", path, k, obj)
					}
				}
				for _, k := range c.gone {
					if _, ok := obj[k]; ok {
						t.Errorf("%s: %s present in %v", path, k, obj)
					}
				}
				if c.check != nil {
					c.check(t, obj)
				}
			}
		})
	}
}

func TestPagingAndSorting(t *testing.T) {
	h := newHarness(t)
	names := []string{"carol", "Alice", "bob", "dave", "Eve"}
	for i, n := range names {
		body := `{"schemas":[` + userSchema + `],"userName":"` + n + `"`
		if i%2 == 0 {
			body += `,"title":"T` + fmt.Sprint(len(names)-i) + `"`
		}
		h.createUser(body + `}`)
	}
	userNames := func(lr map[string]any) []string {
		var out []string
		for _, r := range resources(t, lr) {
			out = append(out, str(r["userName"]))
		}
		return out
	}
	cases := []struct {
		query        string
		want         []string
		total, items float64
	}{
		{"sortBy=userName", []string{"Alice", "bob", "carol", "dave", "Eve"}, 5, 5},
		{"sortBy=userName&sortOrder=descending", []string{"Eve", "dave", "carol", "bob", "Alice"}, 5, 5},
		{"sortBy=userName&startIndex=2&count=2", []string{"bob", "carol"}, 5, 2},
		// Titles: carol T5, bob T3, Eve T1; Alice and dave have none and
		// come last, in creation order.
		{"sortBy=title", []string{"Eve", "bob", "carol", "Alice", "dave"}, 5, 5},
		{"sortBy=title&sortOrder=descending", []string{"Alice", "dave", "carol", "bob", "Eve"}, 5, 5},
		{"count=0", nil, 5, 0},
		{"startIndex=50", nil, 5, 0},
		{"startIndex=0&count=2", []string{"carol", "Alice"}, 5, 2},
		{"count=-3", nil, 5, 0},
	}
	for _, c := range cases {
		t.Run(c.query, func(t *testing.T) {
			lr := h.list("/Users?" + c.query)
			if lr["totalResults"] != c.total || lr["itemsPerPage"] != c.items {
				t.Errorf("totalResults %v itemsPerPage %v, want %v %v", lr["totalResults"], lr["itemsPerPage"], c.total, c.items)
			}
			got := userNames(lr)
			if !reflect.DeepEqual(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
	// A count above the maximum is capped, not refused.
	if lr := h.list("/Users?count=100000"); lr["itemsPerPage"] != float64(5) {
		t.Errorf("huge count: itemsPerPage %v", lr["itemsPerPage"])
	}
}

func TestSearchEndpoint(t *testing.T) {
	h := newHarness(t)
	h.createUser(simpleUser("s1@example.com"))
	h.createUser(simpleUser("s2@example.com"))
	r := h.do(request{method: "POST", path: "/Users/.search", body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:SearchRequest"],
		"filter":"userName sw \"S\"","attributes":["userName"],"sortBy":"userName","sortOrder":"descending","startIndex":1,"count":1}`})
	mustStatus(t, r, http.StatusOK)
	lr := r.obj(t)
	res := resources(t, lr)
	if lr["totalResults"] != float64(2) || len(res) != 1 || res[0]["userName"] != "s2@example.com" || res[0]["active"] != nil {
		t.Errorf(".search returned %s", r.body)
	}
}

func TestGroupMembershipRules(t *testing.T) {
	h := newHarness(t, "acme", "other")
	u := h.createUser(simpleUser("member"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"Parent"}`)
	foreign := h.do(request{method: "POST", path: "/Users", app: "other", body: simpleUser("foreign")}).obj(t)
	cases := []struct {
		name, members, detail string
	}{
		{"nested group", `[{"value":"` + str(g["id"]) + `"}]`, "groups cannot be members"},
		{"group type", `[{"value":"` + str(u["id"]) + `","type":"Group"}]`, "only users"},
		{"user of another app", `[{"value":"` + str(foreign["id"]) + `"}]`, "not a user of this app"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `],"displayName":"G ` + c.name + `","members":` + c.members + `}`})
			if d := scimError(t, r, http.StatusBadRequest, "invalidValue"); !strings.Contains(d, c.detail) {
				t.Errorf("detail %q lacks %q", d, c.detail)
			}
		})
	}
	// Repeated member ids count once.
	r := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"Dup","members":[{"value":"` + str(u["id"]) + `"},{"value":"` + str(u["id"]) + `"}]}`)
	if m, _ := r["members"].([]any); len(m) != 1 {
		t.Errorf("members = %v", r["members"])
	}
	// Filters on membership from both sides.
	lr := h.list("/Groups?attributes=id&filter=" + url.QueryEscape(`id eq "`+str(r["id"])+`" and members eq "`+str(u["id"])+`"`))
	if res := resources(t, lr); len(res) != 1 {
		t.Errorf("Entra's membership check found %d groups", len(res))
	}
	lr = h.list("/Users?filter=" + url.QueryEscape(`groups.value eq "`+str(r["id"])+`"`))
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != u["id"] {
		t.Errorf("groups.value filter returned %v", res)
	}
}

func TestTrailingSlashAndRouting(t *testing.T) {
	h := newHarness(t)
	h.createUser(simpleUser("slash"))
	for _, path := range []string{"/Users/", "/ServiceProviderConfig/", "/Schemas/"} {
		mustStatus(t, h.get(path), http.StatusOK)
	}
	r, err := http.Get(h.srv.URL + "/apps/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	scimError(t, response{status: r.StatusCode, header: r.Header, body: body}, http.StatusNotFound, "")
}

func TestAccessLog(t *testing.T) {
	h := newHarness(t)
	u := h.createUser(`{"schemas":[` + userSchema + `],"userName":"private.person@example.com","displayName":"Private Person",
		"emails":[{"value":"private.person@example.com"}],"password":"hunter2-secret"}`)
	h.list("/Users?filter=" + url.QueryEscape(`userName eq "private.person@example.com"`))
	h.do(request{method: "PUT", path: "/Users/" + str(u["id"]), body: simpleUser("private.person@example.com")})
	h.do(request{method: "GET", path: "/Users", header: map[string]string{"X-Request-Id": "idp-req-42"}})
	var lines []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(h.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", line)
		}
		if m["msg"] == "request" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 4 {
		t.Fatalf("%d request lines, want 4", len(lines))
	}
	for _, m := range lines {
		for _, k := range []string{"method", "path", "app", "status", "duration_ms", "request_id"} {
			if _, ok := m[k]; !ok {
				t.Errorf("request line lacks %s: %v", k, m)
			}
		}
		if m["app"] != "acme" {
			t.Errorf("app = %v", m["app"])
		}
	}
	if lines[3]["request_id"] != "idp-req-42" {
		t.Errorf("the client's X-Request-Id was not used: %v", lines[3]["request_id"])
	}
	logs := h.logs.String()
	for _, pii := range []string{"private.person", "Private Person", "hunter2"} {
		if strings.Contains(logs, pii) {
			t.Errorf("%q is in the log", pii)
		}
	}
}

// TestRevocationTakesEffect revokes, as the CLI does from another process,
// a token the server has just used, and expects it refused within a
// moment (token records are trusted for a second).
func TestRevocationTakesEffect(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	tok, rec, err := scim.IssueToken(ctx, h.db, "acme", "short-lived")
	if err != nil {
		t.Fatal(err)
	}
	mustStatus(t, h.do(request{method: "GET", path: "/Users", token: &tok}), http.StatusOK)
	if err := h.db.Update(ctx, func(tx store.Tx) error { return tx.RevokeToken(ctx, rec.ID, time.Now()) }); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		r := h.do(request{method: "GET", path: "/Users", token: &tok})
		if r.status == http.StatusUnauthorized {
			break
		}
		mustStatus(t, r, http.StatusOK)
		if time.Now().After(deadline) {
			t.Fatal("a revoked token still works after 5 seconds")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The app's other token is unaffected.
	mustStatus(t, h.get("/Users"), http.StatusOK)
}

// memberLoads counts the reads that ask the store for group members.
type memberLoads struct {
	store.Store
	n atomic.Int32
}

func (s *memberLoads) GetGroup(ctx context.Context, app, id string, opts store.Load) (store.Group, error) {
	if opts.Members {
		s.n.Add(1)
	}
	return s.Store.GetGroup(ctx, app, id, opts)
}

func (s *memberLoads) ListGroups(ctx context.Context, app string, q store.List) (store.Page[store.Group], error) {
	if q.Load.Members {
		s.n.Add(1)
	}
	return s.Store.ListGroups(ctx, app, q)
}

// TestExcludedMembersAreNotRead checks that excludedAttributes=members, and
// attributes lists without members, keep members from being read at all:
// a group of thousands of members costs nothing then.
func TestExcludedMembersAreNotRead(t *testing.T) {
	h := newHarness(t)
	spy := &memberLoads{Store: h.db}
	s, err := scim.NewServer(scim.Config{Store: spy, Apps: []string{"acme"}, BaseURL: "https://scim.example.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	h.srv = srv
	u := h.createUser(simpleUser("member"))
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"G","members":[{"value":"` + str(u["id"]) + `"}]}`)
	spy.n.Store(0)
	for _, path := range []string{
		"/Groups?excludedAttributes=members",
		"/Groups/" + str(g["id"]) + "?excludedAttributes=members",
		"/Groups?attributes=displayName",
		"/Groups?excludedAttributes=members&filter=" + url.QueryEscape(`displayName eq "G"`),
	} {
		mustStatus(t, h.get(path), http.StatusOK)
	}
	if n := spy.n.Load(); n != 0 {
		t.Errorf("%d reads loaded members", n)
	}
	mustStatus(t, h.get("/Groups"), http.StatusOK)
	if n := spy.n.Load(); n != 1 {
		t.Errorf("a plain list loaded members %d times, want 1", n)
	}
}

// TestBridgeExtension checks the read-only scimbridge extension: the IdP
// cannot write it, the adapters' state shows in it, and it can be filtered.
func TestBridgeExtension(t *testing.T) {
	h := newHarness(t)
	const ext = "urn:scimbridge:params:scim:schemas:extension:2.0:User"
	u := h.createUser(`{"schemas":[` + userSchema + `,"` + ext + `"],"userName":"bridge@example.com",
		"` + ext + `":{"provisioningState":"active","pendingActions":7}}`)
	if _, ok := u[ext]; ok {
		t.Fatalf("the IdP wrote the read-only extension: %v", u[ext])
	}
	ctx := context.Background()
	login := time.Date(2026, 11, 2, 9, 30, 0, 0, time.UTC)
	err := h.db.Update(ctx, func(tx store.Tx) error {
		return tx.SetUserState(ctx, "acme", str(u["id"]), store.UserState{ProvisioningState: "pending", PendingActions: 2, LastLogin: &login})
	})
	if err != nil {
		t.Fatal(err)
	}
	got := h.get("/Users/" + str(u["id"])).obj(t)
	want := map[string]any{"provisioningState": "pending", "pendingActions": float64(2), "lastLogin": "2026-11-02T09:30:00Z"}
	if !reflect.DeepEqual(got[ext], want) {
		t.Errorf("extension = %v, want %v", got[ext], want)
	}
	lr := h.list("/Users?filter=" + url.QueryEscape(ext+`:provisioningState eq "pending" and `+ext+`:pendingActions ge 1`))
	if res := resources(t, lr); len(res) != 1 || res[0]["id"] != u["id"] {
		t.Errorf("filter on the extension returned %v", res)
	}
	if got := h.get("/Users/" + str(u["id"]) + "?excludedAttributes=" + ext).obj(t); got[ext] != nil {
		t.Errorf("excluded extension returned: %v", got[ext])
	}
}
