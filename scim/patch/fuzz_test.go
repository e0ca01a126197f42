package patch

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
)

// fuzzUser and fuzzGroup are the documents the fuzzed PATCHes apply to.
// They hold read-only attributes, which no PATCH may change, and satisfy
// the one-primary rule.
const (
	fuzzUser = `{
		"id": "u1", "meta": {"resourceType": "User", "version": "W/\"1\""},
		"userName": "alex@example.com", "active": true, "title": "Engineer",
		"name": {"givenName": "Alex", "familyName": "Doe"},
		"emails": [{"value": "alex@work.example", "type": "work", "primary": true}, {"value": "alex@home.example", "type": "home"}],
		"roles": [{"value": "r1", "primary": true}, {"value": "r2"}],
		"addresses": [{"type": "home", "locality": "Paris"}],
		"groups": [{"value": "g1", "display": "Sales"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "1", "manager": {"value": "m1", "displayName": "Boss"}},
		"urn:scimbridge:params:scim:schemas:extension:2.0:User": {"provisioningState": "active", "pendingActions": 0}
	}`
	fuzzGroup = `{"id": "g1", "meta": {"resourceType": "Group"}, "displayName": "Sales", "externalId": "ext-sales"}`
)

var scimTypes = []string{"invalidSyntax", "invalidPath", "invalidFilter", "invalidValue", "mutability", "noTarget"}

// FuzzParseApply feeds arbitrary PATCH bodies, under arbitrary rule sets,
// to Parse and Apply. Neither may panic; refusals must be RFC 7644 errors
// that leave the document as it was; and what is accepted must leave a
// document that encodes, has at most one primary element per attribute,
// keeps its read-only attributes and no password, is the same when the
// operations are applied again, and clears a group's members only when
// asked to without a value.
func FuzzParseApply(f *testing.F) {
	for _, ops := range []string{
		`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@work.example"}]`,
		`[{"op":"Replace","path":"active","value":"False"}]`,
		`[{"op":"replace","value":{"displayName":"Alex D","name.givenName":"Al","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber":"701984"}}]`,
		`[{"op":"Add","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager","value":"271"}]`,
		`[{"op":"Remove","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"}]`,
		`[{"op":"add","path":"addresses[type eq \"work\"].locality","value":"Lyon"},{"op":"add","path":"addresses[type eq \"work\"].postalCode","value":"69001"}]`,
		`[{"op":"Add","path":"roles","value":[{"primary":"True","value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}]`,
		`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u2"}]}]`,
		`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u2"}]}]`,
		`[{"op":"Remove","path":"members","value":[]}]`,
		`[{"op":"remove","path":"members[value eq \"u2\"]"}]`,
		`[{"op":"Replace","path":"displayName","value":"Sales EMEA"}]`,
		`[{"op":"replace","value":{"id":"g1","displayName":"Sales"}}]`,
		`[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"b","display":"Bea"}]}]`,
		`[{"op":"replace","path":"members","value":[{"value":"a"},{"value":"b"}]}]`,
		`[{"op":"replace","value":{"active":false}}]`,
		`[]`,
		`[{"op":"replace","path":"emails[type eq \"home\"].primary","value":true},{"op":"remove","path":"roles[primary eq \"True\"]"}]`,
		`[{"op":"replace","path":"title","value":"CTO"},{"op":"add","path":"emails[type ne \"x\"].value","value":"x"}]`,
		`[{"op":"replace","path":"phoneNumbers","value":[{"value":"1","primary":true},{"value":"2","primary":true}]}]`,
	} {
		body := []byte(`{"schemas":["` + PatchOpSchema + `"],"Operations":` + ops + `}`)
		f.Add(body, false, uint16(0))
		f.Add(body, true, uint16(0))
		f.Add(body, false, uint16(0xffff))
	}
	f.Add([]byte(`{"schemas":["`+PatchOpSchema+`"],"Operations":[{"op":"Remove","path":"members","value":[{"value":"u2"}]}]}`), true, uint16(1)<<4)
	f.Fuzz(func(t *testing.T, body []byte, group bool, off uint16) {
		res, base := cat.User, fuzzUser
		if group {
			res, base = cat.Group, fuzzGroup
		}
		var names []string
		for i, r := range compat.All() {
			if off&(1<<i) != 0 {
				names = append(names, string(r))
			}
		}
		rules, err := compat.Disable(names)
		if err != nil {
			t.Fatal(err)
		}
		ops, err := Parse(res, body, rules)
		if err != nil {
			checkError(t, err)
			if ops != nil {
				t.Fatalf("Parse returned operations with its error %v", err)
			}
			return
		}
		doc := decode(t, base)
		before := canonical(t, doc)
		members, err := Apply(res, doc, ops)
		if err != nil {
			checkError(t, err)
			if got := canonical(t, doc); got != before {
				t.Fatalf("refused PATCH changed the document:\n%s\n%s", before, got)
			}
			if members != nil {
				t.Fatalf("Apply returned member operations with its error %v", err)
			}
			return
		}
		after := canonical(t, doc) // also checks that it encodes
		checkInvariants(t, res, decode(t, base), doc)
		checkMemberOps(t, ops, members)

		again := decode(t, base)
		members2, err := Apply(res, again, ops)
		if err != nil {
			t.Fatalf("second application failed: %v", err)
		}
		if got := canonical(t, again); got != after {
			t.Fatalf("second application differs:\n%s\n%s", after, got)
		}
		if a, b := describeMembers(members), describeMembers(members2); !slices.Equal(a, b) {
			t.Fatalf("second application gave member ops %q, first %q", b, a)
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var pe *Error
	if !errors.As(err, &pe) {
		t.Fatalf("error %T %v is not a patch.Error", err, err)
	}
	if !slices.Contains(scimTypes, pe.ScimType) || pe.Detail == "" {
		t.Fatalf("error %+v", pe)
	}
}

// checkInvariants checks doc, which PATCH operations made of base.
func checkInvariants(t *testing.T, res *catalog.Resource, base, doc map[string]any) {
	t.Helper()
	if _, ok := doc["password"]; ok {
		t.Fatalf("password kept: %v", doc)
	}
	for _, a := range res.Attributes() {
		c := container(doc, a, false)
		bc := container(base, a, false)
		if a.Mutability == "readOnly" && canonical(t, c[a.Name]) != canonical(t, bc[a.Name]) {
			t.Fatalf("read-only %s changed from %v to %v", a.Path(), bc[a.Name], c[a.Name])
		}
		if a.MultiValued && a.Type == catalog.Complex {
			list, _ := c[a.Name].([]any)
			n := 0
			for _, el := range list {
				if m, ok := el.(map[string]any); ok && m["primary"] == true {
					n++
				}
			}
			if n > 1 {
				t.Fatalf("%s has %d primary elements: %v", a.Path(), n, list)
			}
		}
	}
	for _, ext := range res.Extensions {
		if v, ok := doc[ext.ID]; ok {
			if m, isMap := v.(map[string]any); !isMap || len(m) == 0 {
				t.Fatalf("extension %s left as %v", ext.ID, v)
			}
		}
	}
	// The manager's name is the server's: kept or removed with the
	// manager, never set by the client.
	ext, _ := doc[enterprise].(map[string]any)
	if m, ok := ext["manager"].(map[string]any); ok {
		if name, ok := m["displayName"]; ok && name != "Boss" {
			t.Fatalf("manager.displayName set to %v", name)
		}
	}
}

// checkMemberOps checks that a member operation that clears the group
// comes only from an operation that asks for it: a remove of members
// without a value or filter, which a replace with nothing becomes.
func checkMemberOps(t *testing.T, ops []Op, members []MemberOp) {
	t.Helper()
	clears, asked := 0, 0
	for _, m := range members {
		switch {
		case m.Kind == Remove && m.IDs == nil && m.Filter == nil:
			clears++
		case m.Kind == Remove && m.IDs != nil && len(m.IDs) == 0:
			t.Fatalf("member remove of an empty list: %+v", m)
		case m.Kind == Add && len(m.IDs) == 0:
			t.Fatalf("member add of nobody: %+v", m)
		}
		for _, id := range m.IDs {
			if id == "" {
				t.Fatalf("blank member id in %+v", m)
			}
		}
	}
	for _, op := range ops {
		if op.Path.Attr.Is("members") && op.Kind == Remove && op.Path.Filter == nil && op.MemberIDs == nil {
			asked++
		}
	}
	if clears > asked {
		t.Fatalf("%d member ops clear the group, %d operations ask for it: %s", clears, asked, fmt.Sprint(describe(ops)))
	}
}
