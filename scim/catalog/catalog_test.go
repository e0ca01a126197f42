package catalog

import (
	"strings"
	"testing"

	"github.com/elimity-com/scim/schema"
)

func TestLookupPath(t *testing.T) {
	c := New()
	cases := []struct {
		res       *Resource
		path      string
		wantPath  string // empty: not found
		schema    string
		extension bool
	}{
		{c.User, "userName", "userName", UserSchema, false},
		{c.User, "USERNAME", "userName", UserSchema, false},
		{c.User, "name.givenName", "name.givenName", UserSchema, false},
		{c.User, "Name.GIVENNAME", "name.givenName", UserSchema, false},
		{c.User, "emails.value", "emails.value", UserSchema, false},
		{c.User, "id", "id", UserSchema, false},
		{c.User, "externalId", "externalId", UserSchema, false},
		{c.User, "meta.lastModified", "meta.lastModified", UserSchema, false},
		{c.User, UserSchema + ":userName", "userName", UserSchema, false},
		{c.User, strings.ToLower(UserSchema) + ":name.familyName", "name.familyName", UserSchema, false},
		{c.User, EnterpriseUserSchema + ":employeeNumber", EnterpriseUserSchema + ":employeeNumber", EnterpriseUserSchema, true},
		{c.User, strings.ToUpper(EnterpriseUserSchema) + ":EMPLOYEENUMBER", EnterpriseUserSchema + ":employeeNumber", EnterpriseUserSchema, true},
		{c.User, "employeeNumber", EnterpriseUserSchema + ":employeeNumber", EnterpriseUserSchema, true},
		{c.User, EnterpriseUserSchema + ":manager.value", EnterpriseUserSchema + ":manager.value", EnterpriseUserSchema, true},
		{c.User, "manager.displayName", EnterpriseUserSchema + ":manager.displayName", EnterpriseUserSchema, true},
		{c.User, BridgeUserSchema + ":provisioningState", BridgeUserSchema + ":provisioningState", BridgeUserSchema, true},
		{c.Group, "displayName", "displayName", GroupSchema, false},
		{c.Group, "members.value", "members.value", GroupSchema, false},
		{c.Group, GroupSchema + ":members", "members", GroupSchema, false},

		{c.User, "", "", "", false},
		{c.User, "foo", "", "", false},
		{c.User, "name.foo", "", "", false},
		{c.User, "name.givenName.x", "", "", false},
		{c.User, ".givenName", "", "", false},
		{c.User, "schemas", "", "", false},
		{c.User, EnterpriseUserSchema, "", "", false},
		{c.User, EnterpriseUserSchema + ":userName", "", "", false},
		{c.User, UserSchema + ":employeeNumber", "", "", false},
		{c.User, GroupSchema + ":userName", "", "", false},
		{c.Group, "userName", "", "", false},
		{c.Group, "employeeNumber", "", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.res.Name+" "+tc.path, func(t *testing.T) {
			a, ok := tc.res.LookupPath(tc.path)
			if tc.wantPath == "" {
				if ok {
					t.Fatalf("found %s, want nothing", a.Path())
				}
				return
			}
			if !ok {
				t.Fatal("not found")
			}
			if a.Path() != tc.wantPath || a.Schema != tc.schema || a.Extension() != tc.extension {
				t.Errorf("got %s (schema %s, extension %v), want %s (%s, %v)", a.Path(), a.Schema, a.Extension(), tc.wantPath, tc.schema, tc.extension)
			}
		})
	}
}

// Every attribute and sub-attribute is found again by its own path.
func TestPathRoundTrip(t *testing.T) {
	c := New()
	for _, res := range []*Resource{c.User, c.Group} {
		seen := map[string]bool{}
		var check func(a *Attribute)
		check = func(a *Attribute) {
			if seen[a.Path()] {
				t.Errorf("%s: %s listed twice", res.Name, a.Path())
			}
			seen[a.Path()] = true
			got, ok := res.LookupPath(a.Path())
			if !ok || got != a {
				t.Errorf("%s: LookupPath(%s) = %v, %v; want the attribute itself", res.Name, a.Path(), got, ok)
			}
			for _, s := range a.Sub {
				if s.Parent != a || s.Top() != a || s.Schema != a.Schema {
					t.Errorf("%s: sub-attribute %s has parent %v, top %v, schema %s", res.Name, s.Path(), s.Parent, s.Top(), s.Schema)
				}
				if sa, ok := a.SubAttribute(strings.ToUpper(s.Name)); !ok || sa != s {
					t.Errorf("%s: SubAttribute(%s) is not case-insensitive", res.Name, strings.ToUpper(s.Name))
				}
				check(s)
			}
		}
		for _, a := range res.Attributes() {
			if a == nil {
				t.Fatalf("%s: Attributes() has a nil entry", res.Name)
			}
			if a.Parent != nil || a.Top() != a {
				t.Errorf("%s: top-level %s has a parent", res.Name, a.Path())
			}
			check(a)
		}
		for _, name := range []string{"id", "externalId", "meta"} {
			if !seen[name] {
				t.Errorf("%s: Attributes() lacks the common attribute %s", res.Name, name)
			}
		}
		if seen["schemas"] {
			t.Errorf("%s: Attributes() lists schemas", res.Name)
		}
	}
}

func TestAttributes(t *testing.T) {
	c := New()
	attrs := c.User.Attributes()
	if attrs[0].Path() != "userName" {
		t.Errorf("first User attribute is %s, want userName (core schema order)", attrs[0].Path())
	}
	var order []string
	for _, a := range attrs {
		if len(order) == 0 || order[len(order)-1] != a.Schema {
			order = append(order, a.Schema)
		}
	}
	if want := []string{UserSchema, EnterpriseUserSchema, BridgeUserSchema}; strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("schema order %v, want %v", order, want)
	}
	if len(c.Group.Extensions) != 0 {
		t.Errorf("Group has extensions %v", c.Group.Extensions)
	}
	if c.User.Name != "User" || c.User.Endpoint != "/Users" || c.Group.Name != "Group" || c.Group.Endpoint != "/Groups" {
		t.Errorf("names/endpoints: %s %s %s %s", c.User.Name, c.User.Endpoint, c.Group.Name, c.Group.Endpoint)
	}
}

func TestCharacteristics(t *testing.T) {
	c := New()
	cases := []struct {
		res        *Resource
		path       string
		typ        Type
		multi      bool
		caseExact  bool
		mutability string
		returned   string
	}{
		{c.User, "userName", String, false, false, "readWrite", "default"},
		{c.User, "id", String, false, true, "readOnly", "always"},
		{c.User, "externalId", String, false, true, "readWrite", "default"},
		{c.User, "password", String, false, false, "writeOnly", "never"},
		{c.User, "active", Boolean, false, false, "readWrite", "default"},
		{c.User, "emails", Complex, true, false, "readWrite", "default"},
		{c.User, "groups", Complex, true, false, "readOnly", "default"},
		{c.User, "groups.value", String, false, false, "readOnly", "default"},
		{c.User, "meta.created", DateTime, false, false, "readOnly", "default"},
		{c.User, BridgeUserSchema + ":pendingActions", Integer, false, false, "readOnly", "default"},
		{c.User, BridgeUserSchema + ":lastLogin", DateTime, false, false, "readOnly", "default"},
		{c.User, BridgeUserSchema + ":provisioningState", String, false, true, "readOnly", "default"},
		{c.Group, "members", Complex, true, false, "readWrite", "default"},
		{c.Group, "meta.version", String, false, true, "readOnly", "default"},
	}
	for _, tc := range cases {
		t.Run(tc.res.Name+" "+tc.path, func(t *testing.T) {
			a, ok := tc.res.LookupPath(tc.path)
			if !ok {
				t.Fatal("not found")
			}
			if a.Type != tc.typ || a.MultiValued != tc.multi || a.CaseExact != tc.caseExact || a.Mutability != tc.mutability || a.Returned != tc.returned {
				t.Errorf("got %s multi=%v caseExact=%v %s %s; want %s %v %v %s %s", a.Type, a.MultiValued, a.CaseExact, a.Mutability, a.Returned,
					tc.typ, tc.multi, tc.caseExact, tc.mutability, tc.returned)
			}
		})
	}
}

func TestIs(t *testing.T) {
	c := New()
	cases := []struct {
		path, name string
		want       bool
	}{
		{"id", "id", true},
		{"emails", "emails", true},
		{"emails.value", "value", false},
		{"name.givenName", "givenName", false},
		{"employeeNumber", "employeeNumber", false},
		{"userName", "username", false},
	}
	for _, tc := range cases {
		a, _ := c.User.LookupPath(tc.path)
		if got := a.Is(tc.name); got != tc.want {
			t.Errorf("%s.Is(%q) = %v, want %v", tc.path, tc.name, got, tc.want)
		}
	}
}

func TestExtensionURI(t *testing.T) {
	c := New()
	cases := []struct {
		res    *Resource
		uri    string
		want   string
		wantOK bool
	}{
		{c.User, EnterpriseUserSchema, EnterpriseUserSchema, true},
		{c.User, strings.ToLower(EnterpriseUserSchema), EnterpriseUserSchema, true},
		{c.User, BridgeUserSchema, BridgeUserSchema, true},
		{c.User, UserSchema, "", false},
		{c.User, "urn:example:unknown", "", false},
		{c.User, EnterpriseUserSchema + ":employeeNumber", "", false},
		{c.Group, EnterpriseUserSchema, "", false},
		{c.Group, GroupSchema, "", false},
	}
	for _, tc := range cases {
		got, ok := tc.res.ExtensionURI(tc.uri)
		if got != tc.want || ok != tc.wantOK {
			t.Errorf("%s.ExtensionURI(%s) = %q, %v; want %q, %v", tc.res.Name, tc.uri, got, ok, tc.want, tc.wantOK)
		}
	}
}

// An unqualified name that two extensions define is ambiguous.
func TestAmbiguousExtensionName(t *testing.T) {
	ext := func(id string) schema.Schema {
		return schema.Schema{ID: id, Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{Name: "code"})),
		}}
	}
	r := newResource("User", "/Users", schema.CoreUserSchema(), ext("urn:example:a:User"), ext("urn:example:b:User"))
	if a, ok := r.Lookup("", "code", ""); ok {
		t.Errorf("unqualified code resolved to %s", a.Path())
	}
	for _, uri := range []string{"urn:example:a:User", "urn:example:b:User"} {
		a, ok := r.LookupPath(uri + ":code")
		if !ok || a.Schema != uri {
			t.Errorf("LookupPath(%s:code) = %v, %v", uri, a, ok)
		}
	}
}
