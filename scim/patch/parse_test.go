package patch

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
)

func TestParse(t *testing.T) {
	user, group := cat.User, cat.Group
	cases := []struct {
		name string
		res  *catalog.Resource
		ops  string // the Operations list
		off  []compat.Rule
		want []string
	}{
		{"E6 capitalised Replace of a filtered email value", user,
			`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"new@example.com"}]`, nil,
			[]string{`replace emails[type eq "work"].value "new@example.com"`}},
		{"E7 Replace active with the string False", user,
			`[{"op":"Replace","path":"active","value":"False"}]`, nil,
			[]string{`replace active false`}},
		{"O5 replace without a path deactivates", user,
			`[{"op":"replace","value":{"active":false}}]`, nil,
			[]string{`replace active false`}},
		{"E8 dotted and URN-prefixed keys without a path", user,
			`[{"op":"replace","value":{"displayName":"Alex D","name.givenName":"Alex","` + enterprise + `:employeeNumber":"701984"}}]`, nil,
			[]string{
				`replace displayName "Alex D"`,
				`replace name.givenName "Alex"`,
				`replace ` + enterprise + `:employeeNumber "701984"`,
			}},
		{"E9 Add manager as a bare string", user,
			`[{"op":"Add","path":"` + enterprise + `:manager","value":"271"}]`, nil,
			[]string{`add ` + enterprise + `:manager {"value":"271"}`}},
		{"E9 Replace manager as an object", user,
			`[{"op":"Replace","path":"` + enterprise + `:manager","value":{"value":"272"}}]`, nil,
			[]string{`replace ` + enterprise + `:manager {"value":"272"}`}},
		{"E9 Remove manager", user,
			`[{"op":"Remove","path":"` + enterprise + `:manager"}]`, nil,
			[]string{`remove ` + enterprise + `:manager`}},
		{"E9 manager value sub-attribute", user,
			`[{"op":"replace","path":"` + enterprise + `:manager.value","value":"273"}]`, nil,
			[]string{`replace ` + enterprise + `:manager.value "273"`}},
		{"E11 Add JSON-stringified roles", user,
			`[{"op":"Add","path":"roles","value":[{"primary":"False","value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin role\"}"}]}]`, nil,
			[]string{`add roles [{"display":"Admin role","primary":false,"value":"Admin"}]`}},
		{"E14 Add members with a null $ref", group,
			`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]`, nil,
			[]string{`add members [{"value":"u1"}]`}},
		{"E14 Add one member object, not a list", group,
			`[{"op":"add","path":"members","value":{"value":"u1"}}]`, nil,
			[]string{`add members [{"value":"u1"}]`}},
		{"E15 Remove members listed by value", group,
			`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"},{"value":"u2"}]}]`, nil,
			[]string{`remove members ids=["u1" "u2"]`}},
		{"E15 Remove members with a single member object", group,
			`[{"op":"Remove","path":"members","value":{"value":"u1"}}]`, nil,
			[]string{`remove members ids=["u1"]`}},
		{"E15 Remove members with an empty list removes nobody", group,
			`[{"op":"Remove","path":"members","value":[]}]`, nil,
			[]string{`remove members ids=[]`}},
		{"E16 value-path remove of a member", group,
			`[{"op":"remove","path":"members[value eq \"u1\"]"}]`, nil,
			[]string{`remove members[value eq "u1"]`}},
		{"E17 Replace displayName", group,
			`[{"op":"Replace","path":"displayName","value":"Sales"}]`, nil,
			[]string{`replace displayName "Sales"`}},
		{"E17 replace externalId without a path", group,
			`[{"op":"replace","value":{"externalId":"ext-1"}}]`, nil,
			[]string{`replace externalId "ext-1"`}},
		{"O8 rename with the group id in the value", group,
			`[{"op":"replace","value":{"id":"g1","displayName":"Sales"}}]`, nil,
			[]string{`replace displayName "Sales"`}},
		{"O9 remove then add, in order", group,
			`[{"op":"remove","path":"members[value eq \"a\"]"},{"op":"add","path":"members","value":[{"value":"b","display":"Bea"}]}]`, nil,
			[]string{`remove members[value eq "a"]`, `add members [{"display":"Bea","value":"b"}]`}},
		{"O10 replace all members", group,
			`[{"op":"replace","path":"members","value":[{"value":"a"},{"value":"b"}]}]`, nil,
			[]string{`replace members [{"value":"a"},{"value":"b"}]`}},
		{"G1 empty Operations is a no-op", user, `[]`, nil, []string{}},
		{"path naming a whole extension", user,
			`[{"op":"add","path":"` + enterprise + `","value":{"employeeNumber":"7","department":"Ops"}}]`, nil,
			[]string{
				`add ` + enterprise + `:department "Ops"`,
				`add ` + enterprise + `:employeeNumber "7"`,
			}},
		{"extension block in a value without a path", user,
			`[{"op":"replace","value":{"schemas":["` + enterprise + `"],"` + enterprise + `":{"costCenter":"42"}}}]`, nil,
			[]string{`replace ` + enterprise + `:costCenter "42"`}},
		{"extension attribute without its URN", user,
			`[{"op":"replace","path":"employeeNumber","value":"8"}]`, nil,
			[]string{`replace ` + enterprise + `:employeeNumber "8"`}},
		{"core attribute with its schema URN", user,
			`[{"op":"replace","path":"urn:ietf:params:scim:schemas:core:2.0:User:userName","value":"b"}]`, nil,
			[]string{`replace userName "b"`}},
		{"attribute names in any case", user,
			`[{"op":"replace","path":"NAME.GIVENNAME","value":"A"},{"op":"replace","path":"Emails[Type eq \"work\"].Value","value":"w@x"}]`, nil,
			[]string{`replace name.givenName "A"`, `replace Emails[Type eq "work"].Value "w@x"`}},
		{"member keys in any case", user,
			`[{"OP":"replace","PATH":"title","VALUE":"Boss"}]`, nil,
			[]string{`replace title "Boss"`}},
		{"replace with null removes", user,
			`[{"op":"replace","path":"title","value":null}]`, nil,
			[]string{`remove title`}},
		{"replace with an empty list removes", user,
			`[{"op":"replace","path":"emails","value":[]}]`, nil,
			[]string{`remove emails`}},
		{"add of null adds nothing", user,
			`[{"op":"add","path":"title","value":null}]`, nil,
			[]string{}},
		{"filter on a string boolean", user,
			`[{"op":"replace","path":"roles[primary eq \"True\"].display","value":"Main"}]`, nil,
			[]string{`replace roles[primary eq "True"].display "Main"`}},
		{"filtered replace of a whole element", user,
			`[{"op":"replace","path":"addresses[type eq \"work\"]","value":{"locality":"Lyon","primary":"true"}}]`, nil,
			[]string{`replace addresses[type eq "work"] {"locality":"Lyon","primary":true}`}},
		{"password is accepted", user,
			`[{"op":"replace","path":"password","value":"s3cret"}]`, nil,
			[]string{`replace password "s3cret"`}},
		{"unknown sub-attributes of a complex value are dropped", user,
			`[{"op":"replace","path":"name","value":{"givenName":"A","nickname":"x"}}]`, nil,
			[]string{`replace name {"givenName":"A"}`}},
		{"readOnly sub-attributes of a writable value are dropped", user,
			`[{"op":"replace","path":"` + enterprise + `:manager","value":{"value":"9","displayName":"Boss"}}]`, nil,
			[]string{`replace ` + enterprise + `:manager {"value":"9"}`}},
		{"integer and decimal numbers survive", group,
			`[{"op":"replace","path":"displayName","value":"1e3"}]`, nil,
			[]string{`replace displayName "1e3"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ops, err := Parse(c.res, patchBody(c.ops), rulesOff(t, c.off...))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := describe(ops); !slices.Equal(got, c.want) {
				t.Errorf("ops:\n got  %q\n want %q", got, c.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	user, group := cat.User, cat.Group
	schemas := `"schemas":["` + PatchOpSchema + `"]`
	ops := func(list string) string { return string(patchBody(list)) }
	cases := []struct {
		name     string
		res      *catalog.Resource
		body     string
		scimType string
		detail   string // a part of the message
	}{
		{"bad JSON", user, `{"schemas":`, "invalidSyntax", "JSON object"},
		{"body is a list", user, `[]`, "invalidSyntax", "JSON object"},
		{"body is null", user, `null`, "invalidSyntax", "JSON object"},
		{"trailing data after the body", user, `{` + schemas + `,"Operations":[]} {"x":1}`, "invalidSyntax", "JSON object"},
		{"missing schemas", user, `{"Operations":[{"op":"add","path":"title","value":"x"}]}`, "invalidSyntax", "schemas"},
		{"wrong schema", user, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"Operations":[]}`, "invalidSyntax", "schemas"},
		{"schemas not a list", user, `{"schemas":"` + PatchOpSchema + `","Operations":[]}`, "invalidSyntax", "schemas"},
		{"missing Operations", user, `{` + schemas + `}`, "invalidSyntax", "Operations"},
		{"Operations not a list", user, `{` + schemas + `,"Operations":{"op":"add"}}`, "invalidSyntax", "Operations"},
		{"Operations null", user, `{` + schemas + `,"Operations":null}`, "invalidSyntax", "Operations"},
		{"operation not an object", user, ops(`[{"op":"add","path":"title","value":"x"},"remove"]`), "invalidSyntax", "operation 2"},
		{"unknown op", user, ops(`[{"op":"merge","path":"title","value":"x"}]`), "invalidSyntax", "merge"},
		{"missing op", user, ops(`[{"path":"title","value":"x"}]`), "invalidSyntax", "add, replace or remove"},
		{"op not a string", user, ops(`[{"op":1,"path":"title","value":"x"}]`), "invalidSyntax", "add, replace or remove"},
		{"path not a string", user, ops(`[{"op":"add","path":["title"],"value":"x"}]`), "invalidPath", "string"},
		{"unknown attribute", user, ops(`[{"op":"add","path":"shoeSize","value":"9"}]`), "invalidPath", "shoeSize"},
		{"unknown sub-attribute", user, ops(`[{"op":"add","path":"name.shoeSize","value":"9"}]`), "invalidPath", "name.shoeSize"},
		{"path with a trailing dot", user, ops(`[{"op":"add","path":"name.","value":{"givenName":"x"}}]`), "invalidPath", "name."},
		{"three-level path", user, ops(`[{"op":"add","path":"name.givenName.first","value":"x"}]`), "invalidPath", "name.givenName.first"},
		{"sub-attribute of a multi-valued attribute without a filter", user, ops(`[{"op":"replace","path":"emails.value","value":"x"}]`), "invalidPath", "filter"},
		{"filter on a single-valued complex attribute", user, ops(`[{"op":"replace","path":"name[givenName eq \"a\"].familyName","value":"x"}]`), "invalidPath", "multi-valued"},
		{"filter on a simple attribute", user, ops(`[{"op":"replace","path":"userName[value eq \"a\"]","value":"x"}]`), "invalidPath", "multi-valued"},
		{"filter on a sub-attribute", user, ops(`[{"op":"replace","path":"name.givenName[value eq \"a\"]","value":"x"}]`), "invalidPath", "multi-valued"},
		{"filter on an unknown attribute", user, ops(`[{"op":"replace","path":"pets[type eq \"cat\"].value","value":"x"}]`), "invalidPath", "pets"},
		{"unclosed filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"","value":"x"}]`), "invalidPath", "never closed"},
		{"unclosed string in a filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work].value","value":"x"}]`), "invalidPath", "never closed"},
		{"nested filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work\" and x[y eq \"z\"]].value","value":"x"}]`), "invalidPath", "nested"},
		{"text after a filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"]value","value":"x"}]`), "invalidPath", "after ]"},
		{"unknown sub-attribute after a filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"].shoeSize","value":"x"}]`), "invalidPath", "shoeSize"},
		{"second filter after a filter", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"][primary eq true]","value":{}}]`), "invalidPath", "after ]"},
		{"empty filter", user, ops(`[{"op":"replace","path":"emails[].value","value":"x"}]`), "invalidFilter", "needs a filter"},
		{"filter syntax", user, ops(`[{"op":"replace","path":"emails[type eq].value","value":"x"}]`), "invalidFilter", ""},
		{"filter on an unknown sub-attribute", user, ops(`[{"op":"remove","path":"emails[shoeSize eq \"9\"]"}]`), "invalidFilter", "shoeSize"},
		{"filter value of the wrong type", user, ops(`[{"op":"remove","path":"emails[primary eq \"yes\"]"}]`), "invalidFilter", ""},
		{"replace id", user, ops(`[{"op":"replace","path":"id","value":"x"}]`), "mutability", "id"},
		{"replace meta", user, ops(`[{"op":"replace","path":"meta","value":{"resourceType":"User"}}]`), "mutability", "meta"},
		{"replace meta.created", user, ops(`[{"op":"replace","path":"meta.created","value":"2020-01-01T00:00:00Z"}]`), "mutability", "meta"},
		{"remove meta", user, ops(`[{"op":"remove","path":"meta"}]`), "mutability", "meta"},
		{"add groups", user, ops(`[{"op":"add","path":"groups","value":[{"value":"g1"}]}]`), "mutability", "groups"},
		{"remove a group of a user", user, ops(`[{"op":"remove","path":"groups[value eq \"g1\"]"}]`), "mutability", "groups"},
		{"replace groups without a path", user, ops(`[{"op":"replace","value":{"groups":[]}}]`), "mutability", "groups"},
		{"meta without a path", group, ops(`[{"op":"replace","value":{"displayName":"x","meta":{"version":"1"}}}]`), "mutability", "meta"},
		{"read-only extension attribute", user, ops(`[{"op":"replace","path":"` + bridge + `:provisioningState","value":"active"}]`), "mutability", "provisioningState"},
		{"read-only extension block", user, ops(`[{"op":"add","value":{"` + bridge + `":{"pendingActions":0}}}]`), "mutability", "pendingActions"},
		{"read-only manager displayName", user, ops(`[{"op":"replace","path":"` + enterprise + `:manager.displayName","value":"Boss"}]`), "mutability", "displayName"},
		{"member in place", group, ops(`[{"op":"replace","path":"members[value eq \"u1\"].display","value":"x"}]`), "mutability", "members.display"},
		{"remove userName", user, ops(`[{"op":"remove","path":"userName"}]`), "invalidValue", "required"},
		{"remove displayName of a group", group, ops(`[{"op":"Remove","path":"displayName"}]`), "invalidValue", "required"},
		{"replace userName with null", user, ops(`[{"op":"replace","path":"userName","value":null}]`), "invalidValue", "required"},
		{"replace userName with null without a path", user, ops(`[{"op":"replace","value":{"userName":null}}]`), "invalidValue", "required"},
		{"remove without a path", user, ops(`[{"op":"remove"}]`), "noTarget", "path"},
		{"remove with an empty path", group, ops(`[{"op":"remove","path":" ","value":[{"value":"u1"}]}]`), "noTarget", "path"},
		{"add without a value", user, ops(`[{"op":"add","path":"title"}]`), "invalidValue", "value"},
		{"replace without a path or value", user, ops(`[{"op":"replace"}]`), "invalidValue", "value"},
		{"whole extension without a value", user, ops(`[{"op":"add","path":"` + enterprise + `"}]`), "invalidValue", "value"},
		{"value without a path is not an object", user, ops(`[{"op":"replace","value":"x"}]`), "invalidValue", "object"},
		{"filter in a key without a path", user, ops(`[{"op":"replace","value":{"emails[type eq \"work\"].value":"x"}}]`), "invalidPath", "filter"},
		{"unknown key without a path", user, ops(`[{"op":"replace","value":{"shoeSize":"9"}}]`), "invalidPath", "shoeSize"},
		{"extension block not an object", user, ops(`[{"op":"replace","value":{"` + enterprise + `":"x"}}]`), "invalidValue", enterprise},
		{"unknown attribute in an extension block", user, ops(`[{"op":"replace","value":{"` + enterprise + `":{"shoeSize":"9"}}}]`), "invalidPath", "shoeSize"},
		{"boolean of the wrong type", user, ops(`[{"op":"replace","path":"active","value":1}]`), "invalidValue", "active"},
		{"string boolean that is no boolean", user, ops(`[{"op":"replace","path":"active","value":"yes"}]`), "invalidValue", "active"},
		{"string of the wrong type", user, ops(`[{"op":"replace","path":"userName","value":true}]`), "invalidValue", "userName"},
		{"complex attribute given a string", user, ops(`[{"op":"replace","path":"name","value":"Alex"}]`), "invalidValue", "name"},
		{"element given a string", user, ops(`[{"op":"add","path":"emails","value":"a@b"}]`), "invalidValue", "emails"},
		{"element given a list", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"]","value":[{"value":"a@b"}]}]`), "invalidValue", "emails"},
		{"nested value under a sub-attribute", user, ops(`[{"op":"replace","path":"name","value":{"givenName":{"first":"A"}}}]`), "invalidValue", "name.givenName"},
		{"nested value in an element", user, ops(`[{"op":"add","path":"emails","value":[{"value":{"address":"a@b"}}]}]`), "invalidValue", "emails.value"},
		{"sub-attribute given twice", user, ops(`[{"op":"replace","path":"name","value":{"givenName":"a","GIVENNAME":"b"}}]`), "invalidSyntax", "twice"},
		{"boolean sub-attribute of the wrong type", user, ops(`[{"op":"replace","path":"emails[type eq \"work\"].primary","value":"maybe"}]`), "invalidValue", "emails.primary"},
		{"remove with a value outside members", user, ops(`[{"op":"remove","path":"emails","value":[{"value":"a@b"}]}]`), "invalidValue", "filter"},
		{"remove of a member filter with a value", group, ops(`[{"op":"remove","path":"members[value eq \"u1\"]","value":[{"value":"u1"}]}]`), "invalidValue", "no value"},
		{"remove by value without ids", group, ops(`[{"op":"remove","path":"members","value":[{"display":"Bea"}]}]`), "invalidValue", "id of a user"},
		{"remove by value with a blank id", group, ops(`[{"op":"remove","path":"members","value":[{"value":"  "}]}]`), "invalidValue", "id of a user"},
		{"remove by value of a string", group, ops(`[{"op":"remove","path":"members","value":["u1"]}]`), "invalidValue", "id of a user"},
		{"second operation fails", group, ops(`[{"op":"add","path":"displayName","value":"x"},{"op":"add","path":"nope","value":"x"}]`), "invalidPath", "operation 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(c.res, []byte(c.body), compat.Set{})
			if err == nil {
				t.Fatalf("Parse accepted it: %q", describe(got))
			}
			if got := scimType(err); got != c.scimType {
				t.Errorf("scimType %q, want %q (%v)", got, c.scimType, err)
			}
			if !strings.Contains(err.Error(), c.detail) {
				t.Errorf("error %q does not mention %q", err, c.detail)
			}
			if got != nil {
				t.Errorf("ops returned with the error: %q", describe(got))
			}
		})
	}
}

// TestParseRules checks each PATCH dialect rule of package compat both
// ways: on, the IdP's shape is read; off, the strict RFC 7644 reading or
// a clear error.
func TestParseRules(t *testing.T) {
	user, group := cat.User, cat.Group
	cases := []struct {
		name    string
		rule    compat.Rule
		res     *catalog.Resource
		ops     string
		on      []string // ops with the rule on
		off     []string // ops with the rule off, when it still parses
		offType string   // else the scimType of the error with the rule off
	}{
		{"E6 capitalised Replace", compat.CapitalisedOps, user,
			`[{"op":"Replace","path":"title","value":"x"}]`,
			[]string{`replace title "x"`}, nil, "invalidSyntax"},
		{"E15 capitalised Remove", compat.CapitalisedOps, user,
			`[{"op":"REMOVE","path":"title"}]`,
			[]string{`remove title`}, nil, "invalidSyntax"},
		{"E7 active False", compat.StringBooleans, user,
			`[{"op":"replace","path":"active","value":"False"}]`,
			[]string{`replace active false`}, nil, "invalidValue"},
		{"E7 active True without a path", compat.StringBooleans, user,
			`[{"op":"replace","value":{"active":"True"}}]`,
			[]string{`replace active true`}, nil, "invalidValue"},
		{"E5 primary True inside an element", compat.StringBooleans, user,
			`[{"op":"add","path":"emails","value":[{"value":"a@b","primary":"True"}]}]`,
			[]string{`add emails [{"primary":true,"value":"a@b"}]`}, nil, "invalidValue"},
		{"E11 roles[primary eq \"True\"] filter", compat.StringBooleans, user,
			`[{"op":"remove","path":"roles[primary eq \"True\"]"}]`,
			[]string{`remove roles[primary eq "True"]`}, nil, "invalidFilter"},
		{"E9 bare-string manager", compat.BareManager, user,
			`[{"op":"Add","path":"` + enterprise + `:manager","value":"271"}]`,
			[]string{`add ` + enterprise + `:manager {"value":"271"}`}, nil, "invalidValue"},
		{"E9 bare-string manager in an extension block", compat.BareManager, user,
			`[{"op":"replace","value":{"` + enterprise + `":{"manager":"271"}}}]`,
			[]string{`replace ` + enterprise + `:manager {"value":"271"}`}, nil, "invalidValue"},
		{"E9 empty bare-string manager removes it", compat.BareManager, user,
			`[{"op":"replace","path":"` + enterprise + `:manager","value":""}]`,
			[]string{`remove ` + enterprise + `:manager`}, nil, "invalidValue"},
		{"E11 JSON-stringified role value", compat.StringifiedRoles, user,
			`[{"op":"Add","path":"roles","value":[{"value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}]`,
			[]string{`add roles [{"display":"Admin","value":"Admin"}]`},
			[]string{`add roles [{"value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]`}, ""},
		{"E11 JSON-stringified role element", compat.StringifiedRoles, user,
			`[{"op":"Add","path":"roles","value":["{\"value\":\"Admin\",\"primary\":\"True\"}"]}]`,
			[]string{`add roles [{"primary":true,"value":"Admin"}]`}, nil, "invalidValue"},
		{"E15 Remove members by value", compat.MemberRemoveByValue, group,
			`[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]`,
			[]string{`remove members ids=["u1"]`}, nil, "invalidValue"},
		{"E8 dotted key without a path", compat.PathlessDottedKeys, user,
			`[{"op":"replace","value":{"name.givenName":"A"}}]`,
			[]string{`replace name.givenName "A"`}, nil, "invalidPath"},
		{"E8 URN-prefixed key without a path", compat.PathlessDottedKeys, user,
			`[{"op":"replace","value":{"` + enterprise + `:employeeNumber":"1"}}]`,
			[]string{`replace ` + enterprise + `:employeeNumber "1"`}, nil, "invalidPath"},
		{"E8 dotted key inside an extension block", compat.PathlessDottedKeys, user,
			`[{"op":"replace","value":{"` + enterprise + `":{"manager.value":"m"}}}]`,
			[]string{`replace ` + enterprise + `:manager.value "m"`}, nil, "invalidPath"},
		{"E8 dotted path is RFC 7644 either way", compat.PathlessDottedKeys, user,
			`[{"op":"replace","path":"name.givenName","value":"A"}]`,
			[]string{`replace name.givenName "A"`}, []string{`replace name.givenName "A"`}, ""},
		{"O8 id in the value", compat.IDInPatchValue, group,
			`[{"op":"replace","value":{"id":"g1","displayName":"Sales"}}]`,
			[]string{`replace displayName "Sales"`}, nil, "mutability"},
		{"G1 empty Operations", compat.EmptyOperations, user,
			`[]`, []string{}, nil, "invalidValue"},
		{"E14 one member object", compat.SingleValueList, group,
			`[{"op":"Add","path":"members","value":{"value":"u1"}}]`,
			[]string{`add members [{"value":"u1"}]`}, nil, "invalidValue"},
		{"E14 null $ref", compat.EmptyValues, group,
			`[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]`,
			[]string{`add members [{"value":"u1"}]`}, nil, "invalidValue"},
		{"E5 replace roles with []", compat.EmptyValues, user,
			`[{"op":"replace","path":"roles","value":[]}]`,
			[]string{`remove roles`}, nil, "invalidValue"},
		{"extension block in another case", compat.ExtensionCase, user,
			`[{"op":"replace","value":{"` + strings.ToLower(enterprise) + `":{"department":"Ops"}}}]`,
			[]string{`replace ` + enterprise + `:department "Ops"`}, nil, "invalidPath"},
		{"extension path in another case", compat.ExtensionCase, user,
			`[{"op":"add","path":"` + strings.ToLower(enterprise) + `","value":{"department":"Ops"}}]`,
			[]string{`add ` + enterprise + `:department "Ops"`}, nil, "invalidPath"},
		{"extension attribute path in another case", compat.ExtensionCase, user,
			`[{"op":"replace","path":"` + strings.ToUpper(enterprise) + `:department","value":"Ops"}]`,
			[]string{`replace ` + enterprise + `:department "Ops"`}, nil, "invalidPath"},
	}
	for _, c := range cases {
		t.Run(c.name+" ("+string(c.rule)+")", func(t *testing.T) {
			ops, err := Parse(c.res, patchBody(c.ops), compat.Set{})
			if err != nil {
				t.Fatalf("rule on: %v", err)
			}
			if got := describe(ops); !slices.Equal(got, c.on) {
				t.Errorf("rule on:\n got  %q\n want %q", got, c.on)
			}
			ops, err = Parse(c.res, patchBody(c.ops), rulesOff(t, c.rule))
			switch {
			case c.offType == "":
				if err != nil {
					t.Fatalf("rule off: %v", err)
				}
				if got := describe(ops); !slices.Equal(got, c.off) {
					t.Errorf("rule off:\n got  %q\n want %q", got, c.off)
				}
			case err == nil:
				t.Errorf("rule off: accepted as %q, want a %s error", describe(ops), c.offType)
			case scimType(err) != c.offType:
				t.Errorf("rule off: scimType %q, want %q (%v)", scimType(err), c.offType, err)
			}
		})
	}
}

// TestParseOtherRulesOff checks that switching off rules a request does
// not depend on leaves its reading alone.
func TestParseOtherRulesOff(t *testing.T) {
	var others []compat.Rule
	for _, r := range compat.All() {
		if r != compat.CapitalisedOps {
			others = append(others, r)
		}
	}
	body := patchBody(`[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x"}]`)
	ops, err := Parse(cat.User, body, rulesOff(t, others...))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	want := []string{`replace emails[type eq "work"].value "x"`}
	if got := describe(ops); !slices.Equal(got, want) {
		t.Errorf("ops %q, want %q", got, want)
	}
}
