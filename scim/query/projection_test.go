package query_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

// userDoc is a user's attributes as the SCIM layer keeps them.
func userDoc() map[string]any {
	return parseJSON(`{
		"id": "u1",
		"externalId": "EXT-1",
		"userName": "alice",
		"name": {"givenName": "Alice", "familyName": "Liddell"},
		"displayName": "Alice L",
		"password": "secret",
		"emails": [
			{"value": "a@x.com", "type": "work", "primary": true},
			{"value": "b@x.com", "type": "home"}
		],
		"groups": [{"value": "g1", "display": "Admins"}],
		"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
			"employeeNumber": "42",
			"manager": {"value": "m1", "displayName": "Boss"}
		},
		"notInTheSchema": "x"
	}`)
}

func parseJSON(s string) map[string]any {
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		panic(err)
	}
	return m
}

func TestProjectionApply(t *testing.T) {
	const ext = `"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
	cases := []struct {
		name                 string
		attributes, excluded string
		want                 string
	}{
		{"default", "", "", `{
			"id": "u1", "externalId": "EXT-1", "userName": "alice",
			"name": {"givenName": "Alice", "familyName": "Liddell"},
			"displayName": "Alice L",
			"emails": [{"value": "a@x.com", "type": "work", "primary": true}, {"value": "b@x.com", "type": "home"}],
			"groups": [{"value": "g1", "display": "Admins"}],
			` + ext + `: {"employeeNumber": "42", "manager": {"value": "m1", "displayName": "Boss"}}}`},
		{"one attribute, and id always", "userName", "", `{"id": "u1", "userName": "alice"}`},
		{"case-insensitive, spaces", " USERNAME , displayname ", "", `{"id": "u1", "userName": "alice", "displayName": "Alice L"}`},
		{"core URN prefix", "urn:ietf:params:scim:schemas:core:2.0:User:userName", "", `{"id": "u1", "userName": "alice"}`},
		{"whole complex", "name", "", `{"id": "u1", "name": {"givenName": "Alice", "familyName": "Liddell"}}`},
		{"sub-attribute", "name.givenName", "", `{"id": "u1", "name": {"givenName": "Alice"}}`},
		{"multi-valued sub-attribute", "emails.value", "", `{"id": "u1", "emails": [{"value": "a@x.com"}, {"value": "b@x.com"}]}`},
		{"two sub-attributes", "emails.value,emails.type", "", `{"id": "u1", "emails": [{"value": "a@x.com", "type": "work"}, {"value": "b@x.com", "type": "home"}]}`},
		{"sub-attribute and whole", "name.givenName,name", "", `{"id": "u1", "name": {"givenName": "Alice", "familyName": "Liddell"}}`},
		{"extension attribute", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "", `{"id": "u1", ` + ext + `: {"employeeNumber": "42"}}`},
		{"unqualified extension attribute", "employeeNumber", "", `{"id": "u1", ` + ext + `: {"employeeNumber": "42"}}`},
		{"extension sub-attribute", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "", `{"id": "u1", ` + ext + `: {"manager": {"value": "m1"}}}`},
		{"whole extension", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "", `{"id": "u1", ` + ext + `: {"employeeNumber": "42", "manager": {"value": "m1", "displayName": "Boss"}}}`},
		{"extension attribute absent from the document", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter", "", `{"id": "u1"}`},
		{"never returned", "password,userName", "", `{"id": "u1", "userName": "alice"}`},

		{"exclude one", "", "emails", `{
			"id": "u1", "externalId": "EXT-1", "userName": "alice",
			"name": {"givenName": "Alice", "familyName": "Liddell"},
			"displayName": "Alice L",
			"groups": [{"value": "g1", "display": "Admins"}],
			` + ext + `: {"employeeNumber": "42", "manager": {"value": "m1", "displayName": "Boss"}}}`},
		{"exclude id, which is always returned", "", "id,externalId,name,displayName,emails,groups," + ext[1:len(ext)-1], `{"id": "u1", "userName": "alice"}`},
		{"exclude a sub-attribute", "", "name.givenName,emails.type,emails.primary,groups,externalId,displayName," + ext[1:len(ext)-1], `{
			"id": "u1", "userName": "alice",
			"name": {"familyName": "Liddell"},
			"emails": [{"value": "a@x.com"}, {"value": "b@x.com"}]}`},
		{"exclude every sub-attribute", "", "name.givenName,name.familyName,emails,groups,externalId,displayName,userName," + ext[1:len(ext)-1], `{"id": "u1"}`},
		{"exclude an extension attribute", "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber,name,emails,groups,externalId,displayName", `{
			"id": "u1", "userName": "alice", ` + ext + `: {"manager": {"value": "m1", "displayName": "Boss"}}}`},
		{"exclude an extension sub-attribute", "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName,name,emails,groups,externalId,displayName", `{
			"id": "u1", "userName": "alice", ` + ext + `: {"employeeNumber": "42", "manager": {"value": "m1"}}}`},
		{"exclude the whole extension", "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User,name,emails,groups,externalId,displayName", `{"id": "u1", "userName": "alice"}`},
		{"include the extension, exclude one of it", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "employeeNumber", `{"id": "u1", ` + ext + `: {"manager": {"value": "m1", "displayName": "Boss"}}}`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := query.ParseProjection(cat.User, c.attributes, c.excluded)
			if err != nil {
				t.Fatal(err)
			}
			in := userDoc()
			got := p.Apply(cat.User, in)
			if want := parseJSON(c.want); !reflect.DeepEqual(got, want) {
				g, _ := json.Marshal(got)
				w, _ := json.Marshal(want)
				t.Errorf("got  %s\nwant %s", g, w)
			}
			if !reflect.DeepEqual(in, userDoc()) {
				t.Errorf("Apply changed its input")
			}
		})
	}
}

func TestProjectionReturns(t *testing.T) {
	attr := func(res *catalog.Resource, path string) *catalog.Attribute {
		a, ok := res.LookupPath(path)
		if !ok {
			t.Fatalf("no attribute %s", path)
		}
		return a
	}
	cases := []struct {
		res                  *catalog.Resource
		attributes, excluded string
		attr                 string
		want                 bool
	}{
		{cat.Group, "", "", "members", true},
		{cat.Group, "", "members", "members", false},
		{cat.Group, "", "MEMBERS", "members", false},
		{cat.Group, "displayName", "", "members", false},
		{cat.Group, "displayName,members", "", "members", true},
		{cat.Group, "members.value", "", "members", true},
		{cat.Group, "", "members.display", "members", true},
		{cat.Group, "", "members", "displayName", true},
		{cat.Group, "members", "", "id", true},
		{cat.Group, "", "id", "id", true},
		{cat.User, "", "", "groups", true},
		{cat.User, "userName", "", "groups", false},
		{cat.User, "groups.display", "", "groups", true},
		{cat.User, "", "groups", "groups", false},
		{cat.User, "", "", "password", false},
		{cat.User, "password", "", "password", false},
		{cat.User, "", "", "externalId", true},
		{cat.User, "userName", "", "externalId", false},
		{cat.User, "externalId", "", "externalId", true},
		{cat.User, "", "externalId", "externalId", false},
		{cat.User, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "", "employeeNumber", true},
		{cat.User, "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "", "userName", false},
		{cat.User, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "employeeNumber", false},
		{cat.User, "", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "userName", true},
		{cat.User, "", "urn:scimbridge:params:scim:schemas:extension:2.0:User", "urn:scimbridge:params:scim:schemas:extension:2.0:User:provisioningState", false},
		{cat.User, "", "", "urn:scimbridge:params:scim:schemas:extension:2.0:User:provisioningState", true},
	}
	for _, c := range cases {
		t.Run(c.res.Name+" attributes="+c.attributes+" excluded="+c.excluded+" "+c.attr, func(t *testing.T) {
			p, err := query.ParseProjection(c.res, c.attributes, c.excluded)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Returns(attr(c.res, c.attr)); got != c.want {
				t.Errorf("Returns(%s) = %v, want %v", c.attr, got, c.want)
			}
			if c.attr == "externalId" {
				if got := p.ReturnsExternalID(c.res); got != c.want {
					t.Errorf("ReturnsExternalID = %v, want %v", got, c.want)
				}
			}
		})
	}
}

func TestParseProjectionErrors(t *testing.T) {
	cases := []struct {
		attributes, excluded, param string
	}{
		{"foo", "", "attributes"},
		{"userName,foo", "", "attributes"},
		{"", "foo", "excludedAttributes"},
		{"name.foo", "", "attributes"},
		{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:foo", "", "attributes"},
		{"", "urn:example:unknown:Schema", "excludedAttributes"},
	}
	for _, c := range cases {
		t.Run(c.attributes+"|"+c.excluded, func(t *testing.T) {
			_, err := query.ParseProjection(cat.User, c.attributes, c.excluded)
			var qe *query.Error
			if !errors.As(err, &qe) {
				t.Fatalf("error %v, want a *query.Error", err)
			}
			if qe.Param != c.param || qe.Msg == "" {
				t.Errorf("error %+v, want Param %q and a message", qe, c.param)
			}
		})
	}
	// Empty names between commas are ignored.
	if _, err := query.ParseProjection(cat.User, "userName,,", " , "); err != nil {
		t.Errorf("empty names: %v", err)
	}
}
