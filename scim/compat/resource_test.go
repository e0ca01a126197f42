package compat

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

func TestResource(t *testing.T) {
	user, group := cat.User, cat.Group
	core := `"schemas":["` + catalog.UserSchema + `"]`
	cases := []struct {
		name    string
		res     *catalog.Resource
		body    string
		off     []Rule
		want    string
		errType string
	}{
		{"E5 Entra create", user, `{"schemas":["` + catalog.UserSchema + `","` + enterprise + `"],
			"externalId":"e-1","userName":"a@b","active":"True",
			"emails":[{"primary":"true","type":"work","value":"a@b"}],
			"name":{"formatted":"A B","familyName":"B","givenName":"A"},
			"meta":{"resourceType":"User"},"roles":[],
			"` + enterprise + `":{"employeeNumber":"7","manager":"271"}}`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"a@b"}],"externalId":"e-1","name":{"familyName":"B","formatted":"A B","givenName":"A"},"schemas":["` + catalog.UserSchema + `","` + enterprise + `"],"` + enterprise + `":{"employeeNumber":"7","manager":{"value":"271"}},"userName":"a@b"}`, ""},
		{"O2 Okta create", user, `{` + core + `,"userName":"a@b","password":"s3cret","groups":[],"locale":"en-US","externalId":"00u1",
			"name":{"givenName":"A","familyName":"B"},"emails":[{"primary":true,"value":"a@b","type":"work"}],"active":true}`, nil,
			`{"active":true,"emails":[{"primary":true,"type":"work","value":"a@b"}],"externalId":"00u1","locale":"en-US","name":{"familyName":"B","givenName":"A"},"password":"s3cret","schemas":["` + catalog.UserSchema + `"],"userName":"a@b"}`, ""},
		{"E12 Entra group with a Microsoft schema", group,
			`{"schemas":["` + catalog.GroupSchema + `","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"],"externalId":"g-1","displayName":"Sales"}`, nil,
			`{"displayName":"Sales","externalId":"g-1","schemas":["` + catalog.GroupSchema + `","http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"]}`, ""},
		{"O7 Okta group with no members", group, `{"schemas":["` + catalog.GroupSchema + `"],"displayName":"Sales","members":[]}`, nil,
			`{"displayName":"Sales","schemas":["` + catalog.GroupSchema + `"]}`, ""},
		{"server attributes are dropped", user, `{` + core + `,"id":"x","Meta":{"version":"1"},"userName":"a","groups":[{"value":"g"}],
			"` + bridge + `":{"provisioningState":"active"}}`, nil,
			`{"schemas":["` + catalog.UserSchema + `"],"userName":"a"}`, ""},
		{"attribute names become canonical", user, `{"SCHEMAS":["` + catalog.UserSchema + `"],"USERNAME":"a","Name":{"GIVENNAME":"A"}}`, nil,
			`{"name":{"givenName":"A"},"schemas":["` + catalog.UserSchema + `"],"userName":"a"}`, ""},
		{"unknown attributes are left for the validator", user, `{` + core + `,"userName":"a","shoeSize":9}`, nil,
			`{"schemas":["` + catalog.UserSchema + `"],"shoeSize":9,"userName":"a"}`, ""},
		{"null extension is dropped", user, `{` + core + `,"userName":"a","` + enterprise + `":null}`, nil,
			`{"schemas":["` + catalog.UserSchema + `"],"userName":"a"}`, ""},
		{"empty extension is dropped", user, `{` + core + `,"userName":"a","` + enterprise + `":{"manager":""}}`, nil,
			`{"schemas":["` + catalog.UserSchema + `"],"userName":"a"}`, ""},
		{"extension block in another case", user, `{"schemas":["` + strings.ToUpper(catalog.UserSchema) + `","` + strings.ToLower(enterprise) + `"],"userName":"a","` + strings.ToLower(enterprise) + `":{"department":"Ops"}}`, nil,
			`{"schemas":["` + catalog.UserSchema + `","` + enterprise + `"],"` + enterprise + `":{"department":"Ops"},"userName":"a"}`, ""},
		{"missing schemas", user, `{"userName":"a"}`, nil, ``, "invalidSyntax"},
		{"schemas not a list", user, `{"schemas":"` + catalog.UserSchema + `","userName":"a"}`, nil, ``, "invalidSyntax"},
		{"schemas without the core schema", user, `{"schemas":["` + enterprise + `"],"userName":"a"}`, nil, ``, "invalidSyntax"},
		{"schemas of another resource type", group, `{` + core + `,"displayName":"a"}`, nil, ``, "invalidSyntax"},
		{"schema that is no string", user, `{"schemas":["` + catalog.UserSchema + `",1],"userName":"a"}`, nil, ``, "invalidSyntax"},
		{"attribute given twice", user, `{` + core + `,"userName":"a","USERNAME":"b"}`, nil, ``, "invalidSyntax"},
		{"extension attribute given twice", user, `{` + core + `,"userName":"a","` + enterprise + `":{"employeeNumber":"1","EMPLOYEENUMBER":"2"}}`, nil, ``, "invalidSyntax"},
		{"extension that is no object", user, `{` + core + `,"userName":"a","` + enterprise + `":"x"}`, nil, ``, "invalidSyntax"},
		{"value of the wrong type", user, `{` + core + `,"userName":"a","active":"maybe"}`, nil, ``, "invalidValue"},
		{"extension value of the wrong type", user, `{` + core + `,"userName":"a","` + enterprise + `":{"employeeNumber":7}}`, nil, ``, "invalidValue"},
		{"missing userName", user, `{` + core + `,"displayName":"a"}`, nil, ``, "invalidValue"},
		{"blank userName", user, `{` + core + `,"userName":"  "}`, nil, ``, "invalidValue"},
		{"null userName", user, `{` + core + `,"userName":null}`, nil, ``, "invalidValue"},
		{"missing displayName of a group", group, `{"schemas":["` + catalog.GroupSchema + `"],"members":[]}`, nil, ``, "invalidValue"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			body := decodeJSON(t, c.body).(map[string]any)
			err := Resource(c.res, body, off(t, c.off...))
			if c.errType != "" {
				if err == nil {
					t.Fatalf("accepted as %s, want a %s error", encode(t, body), c.errType)
				}
				if err.ScimType != c.errType || err.Detail == "" {
					t.Errorf("error %+v, want scimType %s with a detail", err, c.errType)
				}
				return
			}
			if err != nil {
				t.Fatalf("Resource: %v", err)
			}
			if got := encode(t, body); got != encode(t, decodeJSON(t, c.want)) {
				t.Errorf("body:\n got  %s\n want %s", got, c.want)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	cases := []struct {
		name string
		res  *catalog.Resource
		doc  string
		ok   bool
	}{
		{"user with a userName", cat.User, `{"userName":"a"}`, true},
		{"userName in another case", cat.User, `{"USERNAME":"a"}`, true},
		{"user without a userName", cat.User, `{"displayName":"a"}`, false},
		{"blank userName", cat.User, `{"userName":" \t"}`, false},
		{"null userName", cat.User, `{"userName":null}`, false},
		{"group with a displayName", cat.Group, `{"displayName":"a"}`, true},
		{"group without a displayName", cat.Group, `{"externalId":"a"}`, false},
		{"id is the server's to supply", cat.Group, `{"displayName":"a"}`, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := Required(c.res, decodeJSON(t, c.doc).(map[string]any))
			if c.ok != (err == nil) {
				t.Fatalf("Required = %v, want ok=%v", err, c.ok)
			}
			if err != nil && (err.ScimType != "invalidValue" || !strings.Contains(err.Detail, "required")) {
				t.Errorf("error %+v", err)
			}
		})
	}
}
