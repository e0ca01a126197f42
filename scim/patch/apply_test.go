package patch

import (
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
)

// alex is a user document as the store holds it: core attributes by
// canonical name, extension attributes under their URI.
const alex = `{
	"userName": "alex@example.com",
	"active": true,
	"title": "Engineer",
	"name": {"givenName": "Alex", "familyName": "Doe"},
	"emails": [
		{"value": "alex@work.example", "type": "work", "primary": true},
		{"value": "alex@home.example", "type": "home"}
	],
	"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "manager": {"value": "m1"}}
}`

// sales is a group document; its members live outside it.
const sales = `{"displayName": "Sales", "externalId": "ext-sales"}`

func TestApply(t *testing.T) {
	user, group := cat.User, cat.Group
	cases := []struct {
		name    string
		res     *catalog.Resource
		doc     string
		ops     string
		off     []compat.Rule
		want    string   // the document afterwards; empty when unchanged
		members []string // the member operations
	}{
		// Users.
		{"E6 filtered replace updates the work email and keeps the home one", user, alex,
			`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@work.example"}]`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"new@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"E6 filtered replace creates missing work email", user,
			`{"userName":"a","emails":[{"value":"a@home.example","type":"home"}]}`,
			`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"a@work.example"}]`, nil,
			`{"emails":[{"type":"home","value":"a@home.example"},{"type":"work","value":"a@work.example"}],"userName":"a"}`, nil},
		{"E6 filtered replace creates the first email", user, `{"userName":"a"}`,
			`[{"op":"replace","path":"emails[type eq \"work\"].value","value":"a@work.example"}]`, nil,
			`{"emails":[{"type":"work","value":"a@work.example"}],"userName":"a"}`, nil},
		{"E6 filter matches case-insensitively", user, alex,
			`[{"op":"replace","path":"emails[type eq \"WORK\"].display","value":"Work"}]`, nil,
			`{"active":true,"emails":[{"display":"Work","primary":true,"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"E7 Replace active False deactivates", user, `{"userName":"a","active":true}`,
			`[{"op":"Replace","path":"active","value":"False"}]`, nil,
			`{"active":false,"userName":"a"}`, nil},
		{"O5 replace without a path deactivates", user, `{"userName":"a","active":true}`,
			`[{"op":"replace","value":{"active":false}}]`, nil,
			`{"active":false,"userName":"a"}`, nil},
		{"E8 dotted and URN-prefixed keys without a path", user, alex,
			`[{"op":"replace","value":{"displayName":"Alex D","name.givenName":"Alexandra","` + enterprise + `:employeeNumber":"701984"}}]`, nil,
			`{"active":true,"displayName":"Alex D","emails":[{"primary":true,"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alexandra"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"701984","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"E8 URN-prefixed key creates the extension", user, `{"userName":"a"}`,
			`[{"op":"replace","value":{"` + enterprise + `:department":"Ops","name.familyName":"Doe"}}]`, nil,
			`{"name":{"familyName":"Doe"},"userName":"a","` + enterprise + `":{"department":"Ops"}}`, nil},
		{"E9 a new manager drops the old one's displayName", user, `{"userName":"a","` + enterprise + `":{"manager":{"value":"m1","displayName":"Old Boss"}}}`,
			`[{"op":"replace","path":"` + enterprise + `:manager","value":{"value":"m2"}}]`, nil,
			`{"userName":"a","` + enterprise + `":{"manager":{"value":"m2"}}}`, nil},
		{"E9 the same manager keeps its displayName", user, `{"userName":"a","` + enterprise + `":{"manager":{"value":"m1","displayName":"Old Boss"}}}`,
			`[{"op":"replace","path":"` + enterprise + `:manager","value":{"value":"m1"}}]`, nil,
			"", nil},
		{"E9 Add bare-string manager", user, `{"userName":"a"}`,
			`[{"op":"Add","path":"` + enterprise + `:manager","value":"271"}]`, nil,
			`{"userName":"a","` + enterprise + `":{"manager":{"value":"271"}}}`, nil},
		{"E9 Replace manager keeps other enterprise attributes", user, alex,
			`[{"op":"Replace","path":"` + enterprise + `:manager","value":{"value":"272"}}]`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"272"}},"userName":"alex@example.com"}`,
			nil},
		{"E9 Remove manager", user, `{"userName":"a","` + enterprise + `":{"department":"Ops","manager":{"value":"271"}}}`,
			`[{"op":"Remove","path":"` + enterprise + `:manager"}]`, nil,
			`{"userName":"a","` + enterprise + `":{"department":"Ops"}}`, nil},
		{"E9 Remove the last enterprise attribute drops the extension", user, `{"userName":"a","` + enterprise + `":{"manager":{"value":"271"}}}`,
			`[{"op":"Remove","path":"` + enterprise + `:manager"}]`, nil,
			`{"userName":"a"}`, nil},
		{"E9 Remove manager of a user without the extension", user, `{"userName":"a"}`,
			`[{"op":"Remove","path":"` + enterprise + `:manager"}]`, nil,
			``, nil},
		{"E10 repeated filtered adds merge into one address", user,
			`{"userName":"a","addresses":[{"type":"home","locality":"Paris"}]}`,
			`[{"op":"add","path":"addresses[type eq \"work\"].streetAddress","value":"1 Main St"},
			  {"op":"add","path":"addresses[type eq \"work\"].locality","value":"Lyon"},
			  {"op":"add","path":"addresses[type eq \"work\"].postalCode","value":"69001"}]`, nil,
			`{"addresses":[{"locality":"Paris","type":"home"},{"locality":"Lyon","postalCode":"69001","streetAddress":"1 Main St","type":"work"}],"userName":"a"}`, nil},
		{"E11 Add JSON-stringified roles", user, `{"userName":"a"}`,
			`[{"op":"Add","path":"roles","value":[{"primary":"False","value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}]`, nil,
			`{"roles":[{"display":"Admin","primary":false,"value":"Admin"}],"userName":"a"}`, nil},
		{"name replace keeps sub-attributes not given", user, alex,
			`[{"op":"replace","path":"name","value":{"givenName":"Al","middleName":"J"}}]`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Al","middleName":"J"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"remove a sub-attribute keeps the others", user, `{"userName":"a","name":{"givenName":"A","familyName":"D"}}`,
			`[{"op":"remove","path":"name.givenName"}]`, nil,
			`{"name":{"familyName":"D"},"userName":"a"}`, nil},
		{"remove the last sub-attribute drops the attribute", user, `{"userName":"a","name":{"givenName":"A"}}`,
			`[{"op":"remove","path":"name.givenName"}]`, nil,
			`{"userName":"a"}`, nil},
		{"add to a multi-valued attribute keeps the elements there", user, `{"userName":"a","emails":[{"value":"a@x","type":"work"}]}`,
			`[{"op":"add","path":"emails","value":[{"value":"a@y","type":"home"}]}]`, nil,
			`{"emails":[{"type":"work","value":"a@x"},{"type":"home","value":"a@y"}],"userName":"a"}`, nil},
		{"add of an element already there adds nothing", user, `{"userName":"a","emails":[{"value":"a@x","type":"work"}]}`,
			`[{"op":"add","path":"emails","value":[{"type":"work","value":"a@x"}]}]`, nil,
			``, nil},
		{"add of a primary element takes primary from the others", user, alex,
			`[{"op":"add","path":"emails","value":[{"value":"alex@new.example","type":"other","primary":true}]}]`, nil,
			`{"active":true,"emails":[{"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"},{"primary":true,"type":"other","value":"alex@new.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered primary true moves primary", user, alex,
			`[{"op":"replace","path":"emails[type eq \"home\"].primary","value":"True"}]`, nil,
			`{"active":true,"emails":[{"type":"work","value":"alex@work.example"},{"primary":true,"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"created element with primary takes primary from the others", user, alex,
			`[{"op":"add","path":"emails[type eq \"other\" and primary eq true].value","value":"o@x"}]`, nil,
			`{"active":true,"emails":[{"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"},{"primary":true,"type":"other","value":"o@x"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered replace of a whole element keeps what the filter selects", user, alex,
			`[{"op":"replace","path":"emails[type eq \"work\"]","value":{"value":"w@x","display":"W"}}]`, nil,
			`{"active":true,"emails":[{"display":"W","type":"work","value":"w@x"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered add to a whole element merges", user, alex,
			`[{"op":"add","path":"emails[type eq \"home\"]","value":{"display":"Home"}}]`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"alex@work.example"},{"display":"Home","type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered remove keeps the siblings", user, alex,
			`[{"op":"remove","path":"emails[type eq \"work\"]"}]`, nil,
			`{"active":true,"emails":[{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered remove of a sub-attribute", user, alex,
			`[{"op":"remove","path":"emails[type eq \"work\"].primary"}]`, nil,
			`{"active":true,"emails":[{"type":"work","value":"alex@work.example"},{"type":"home","value":"alex@home.example"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"filtered remove of every element drops the attribute", user, `{"userName":"a","emails":[{"value":"a@x","type":"work"}]}`,
			`[{"op":"remove","path":"emails[type eq \"work\" or type eq \"home\"]"}]`, nil,
			`{"userName":"a"}`, nil},
		{"filtered remove that matches nothing changes nothing", user, alex,
			`[{"op":"remove","path":"emails[type eq \"other\"]"}]`, nil,
			``, nil},
		{"filtered remove by a string boolean", user, `{"userName":"a","roles":[{"value":"r1","primary":true},{"value":"r2"}]}`,
			`[{"op":"Remove","path":"roles[primary eq \"True\"]"}]`, nil,
			`{"roles":[{"value":"r2"}],"userName":"a"}`, nil},
		{"replace a multi-valued attribute as a whole", user, alex,
			`[{"op":"replace","path":"emails","value":[{"value":"only@x","primary":true}]}]`, nil,
			`{"active":true,"emails":[{"primary":true,"value":"only@x"}],"name":{"familyName":"Doe","givenName":"Alex"},"title":"Engineer","` + enterprise + `":{"employeeNumber":"1","manager":{"value":"m1"}},"userName":"alex@example.com"}`,
			nil},
		{"replace with null removes", user, `{"userName":"a","title":"T"}`,
			`[{"op":"replace","path":"title","value":null}]`, nil,
			`{"userName":"a"}`, nil},
		{"remove of an attribute not there changes nothing", user, `{"userName":"a"}`,
			`[{"op":"remove","path":"title"}]`, nil,
			``, nil},
		{"password is never kept", user, `{"userName":"a"}`,
			`[{"op":"replace","path":"password","value":"s3cret"},{"op":"replace","value":{"password":"other"}}]`, nil,
			``, nil},
		{"operations apply in order", user, `{"userName":"a"}`,
			`[{"op":"add","path":"emails","value":[{"value":"a@x","type":"work"}]},
			  {"op":"replace","path":"emails[value eq \"a@x\"].type","value":"home"},
			  {"op":"replace","path":"title","value":"T1"},
			  {"op":"replace","path":"title","value":"T2"}]`, nil,
			`{"emails":[{"type":"home","value":"a@x"}],"title":"T2","userName":"a"}`, nil},
		{"an existing second primary does not block other changes", user,
			`{"userName":"a","emails":[{"value":"a@x","primary":true},{"value":"a@y","primary":true}]}`,
			`[{"op":"replace","path":"active","value":false}]`, nil,
			`{"active":false,"emails":[{"primary":true,"value":"a@x"},{"primary":true,"value":"a@y"}],"userName":"a"}`, nil},
		{"G1 empty Operations", user, alex, `[]`, nil, ``, nil},

		// Groups.
		{"E14 Add members", group, sales,
			`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2","type":"User"}]}]`, nil,
			``, []string{`add ["u1" "u2"]`}},
		{"E15 Remove only the listed members", group, sales,
			`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]`, nil,
			``, []string{`remove ["u1"]`}},
		{"E15 Remove members with an empty list removes nobody", group, sales,
			`[{"op":"Remove","path":"members","value":[]}]`, nil,
			``, []string{}},
		{"E16 value-path remove of a member", group, sales,
			`[{"op":"remove","path":"members[value eq \"u1\"]"}]`, nil,
			``, []string{`remove ["u1"]`}},
		{"E16 value-path remove of several members", group, sales,
			`[{"op":"remove","path":"members[value eq \"u1\" or value eq \"u2\"]"}]`, nil,
			``, []string{`remove ["u1" "u2"]`}},
		{"value-path remove by another filter", group, sales,
			`[{"op":"remove","path":"members[display sw \"B\"]"}]`, nil,
			``, []string{`remove where filter`}},
		{"remove of members without a value clears them (RFC 7644)", group, sales,
			`[{"op":"remove","path":"members"}]`, nil,
			``, []string{`remove`}},
		{"E17 Replace displayName", group, sales,
			`[{"op":"Replace","path":"displayName","value":"Sales EMEA"}]`, nil,
			`{"displayName":"Sales EMEA","externalId":"ext-sales"}`, []string{}},
		{"E17 replace externalId without a path", group, sales,
			`[{"op":"replace","value":{"externalId":"ext-2"}}]`, nil,
			`{"displayName":"Sales","externalId":"ext-2"}`, []string{}},
		{"O8 rename with the group id is idempotent", group, sales,
			`[{"op":"replace","value":{"id":"g1","displayName":"Sales"}}]`, nil,
			``, []string{}},
		{"O9 remove then add, in order", group, sales,
			`[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"b","display":"Bea"}]}]`, nil,
			``, []string{`remove ["a"]`, `add ["b"]`}},
		{"O10 replace all members", group, sales,
			`[{"op":"replace","path":"members","value":[{"value":"a"},{"value":"b"}]}]`, nil,
			``, []string{`replace ["a" "b"]`}},
		{"replace members with [] clears them", group, sales,
			`[{"op":"replace","path":"members","value":[]}]`, nil,
			``, []string{`remove`}},
		{"members and attributes in one request", group, sales,
			`[{"op":"replace","value":{"displayName":"S2","members":[{"value":"a"}]}}]`, nil,
			`{"displayName":"S2","externalId":"ext-sales"}`, []string{`replace ["a"]`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops, err := Parse(c.res, patchBody(c.ops), rulesOff(t, c.off...))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			doc := decode(t, c.doc)
			before := canonical(t, doc)
			members, err := Apply(c.res, doc, ops)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			want := c.want
			if want == "" {
				want = before
			}
			if got := canonical(t, doc); got != canonical(t, decode(t, want)) {
				t.Errorf("document:\n got  %s\n want %s", got, want)
			}
			wantMembers := c.members
			if wantMembers == nil {
				wantMembers = []string{}
			}
			if got := describeMembers(members); !slices.Equal(got, wantMembers) {
				t.Errorf("member ops %q, want %q", got, wantMembers)
			}
		})
	}
}

// TestApplyErrors checks refusals that need the document, and that a
// refused PATCH leaves the document as it was, whichever operation fails.
func TestApplyErrors(t *testing.T) {
	user, group := cat.User, cat.Group
	cases := []struct {
		name     string
		res      *catalog.Resource
		doc      string
		ops      string
		scimType string
	}{
		{"filtered replace that describes no element", user, alex,
			`[{"op":"replace","path":"emails[type ne \"work\" and type ne \"home\"].value","value":"x"}]`, "noTarget"},
		{"filtered add with an or filter that matches nothing", user, alex,
			`[{"op":"add","path":"emails[type eq \"a\" or type eq \"b\"].value","value":"x"}]`, "noTarget"},
		{"filtered add with a pr filter", user, `{"userName":"a"}`,
			`[{"op":"add","path":"emails[display pr].value","value":"x"}]`, "noTarget"},
		{"earlier operations are undone", user, alex,
			`[{"op":"replace","path":"title","value":"CTO"},
			  {"op":"remove","path":"emails[type eq \"home\"]"},
			  {"op":"replace","path":"name.givenName","value":"Al"},
			  {"op":"replace","path":"` + enterprise + `:manager","value":"m2"},
			  {"op":"add","path":"emails[type eq \"a\" or type eq \"b\"].value","value":"x"}]`, "noTarget"},
		{"a new extension is undone", user, `{"userName":"a"}`,
			`[{"op":"add","path":"` + enterprise + `:department","value":"Ops"},
			  {"op":"add","path":"ims[type ne \"x\"].value","value":"x"}]`, "noTarget"},
		{"two primaries in a replaced list", user, alex,
			`[{"op":"replace","path":"emails","value":[{"value":"a@x","primary":true},{"value":"a@y","primary":true}]}]`, "invalidValue"},
		{"two primaries after earlier changes", user, alex,
			`[{"op":"replace","path":"title","value":"CTO"},
			  {"op":"replace","path":"phoneNumbers","value":[{"value":"1","primary":true},{"value":"2","primary":"True"}]}]`, "invalidValue"},
		{"member changed in place", group, sales,
			`[{"op":"replace","path":"displayName","value":"X"},{"op":"add","path":"members[value eq \"u1\"]","value":{"display":"x"}}]`, "mutability"},
		{"member without an id", group, sales,
			`[{"op":"add","path":"members","value":[{"display":"Bea"}]}]`, "invalidValue"},
		{"member that is a group", group, sales,
			`[{"op":"replace","value":{"displayName":"X"}},{"op":"add","path":"members","value":[{"value":"g2","type":"Group"}]}]`, "invalidValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops, err := Parse(c.res, patchBody(c.ops), compat.Set{})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			doc := decode(t, c.doc)
			before := canonical(t, doc)
			members, err := Apply(c.res, doc, ops)
			if err == nil {
				t.Fatalf("Apply accepted it: %s, members %q", canonical(t, doc), describeMembers(members))
			}
			if got := scimType(err); got != c.scimType {
				t.Errorf("scimType %q, want %q (%v)", got, c.scimType, err)
			}
			if members != nil {
				t.Errorf("member ops returned with the error: %q", describeMembers(members))
			}
			if got := canonical(t, doc); got != before {
				t.Errorf("document changed by a refused PATCH:\n got  %s\n was  %s", got, before)
			}
		})
	}
}

// TestApplyKeepsOps checks that Apply neither changes its operations nor
// shares their values with the document: the same operations applied to
// two documents give two independent results.
func TestApplyKeepsOps(t *testing.T) {
	ops, err := Parse(cat.User, patchBody(`[
		{"op":"add","path":"emails","value":[{"value":"a@x","type":"work","primary":true}]},
		{"op":"replace","path":"name","value":{"givenName":"A"}},
		{"op":"replace","path":"addresses","value":[{"locality":"Lyon","type":"work"}]},
		{"op":"add","path":"emails[type eq \"home\"]","value":{"value":"h@x","primary":true}},
		{"op":"replace","path":"addresses[type eq \"work\"].locality","value":"Paris"},
		{"op":"replace","path":"`+enterprise+`:manager","value":"m"}]`), compat.Set{})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := describe(ops)
	first := decode(t, `{"userName":"a"}`)
	if _, err := Apply(cat.User, first, ops); err != nil {
		t.Fatal(err)
	}
	if got := describe(ops); !slices.Equal(got, snapshot) {
		t.Errorf("Apply changed its operations:\n got  %q\n was  %q", got, snapshot)
	}
	want := canonical(t, first)
	second := decode(t, `{"userName":"a"}`)
	if _, err := Apply(cat.User, second, ops); err != nil {
		t.Fatal(err)
	}
	if got := canonical(t, second); got != want {
		t.Errorf("second application:\n got  %s\n want %s", got, want)
	}
	// Changing one result must not reach the other or the operations.
	first["emails"].([]any)[0].(map[string]any)["value"] = "changed"
	first["name"].(map[string]any)["givenName"] = "changed"
	first[enterprise].(map[string]any)["manager"].(map[string]any)["value"] = "changed"
	if got := canonical(t, second); got != want {
		t.Errorf("the results share values:\n got  %s\n want %s", got, want)
	}
	if got := describe(ops); !slices.Equal(got, snapshot) {
		t.Errorf("the operations share values with a result:\n got  %q\n was  %q", got, snapshot)
	}
}
