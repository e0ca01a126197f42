package compat

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

var cat = catalog.New()

const (
	enterprise = catalog.EnterpriseUserSchema
	bridge     = catalog.BridgeUserSchema
)

// off returns the rule set with the given rules switched off.
func off(t testing.TB, rules ...Rule) Set {
	t.Helper()
	names := make([]string, len(rules))
	for i, r := range rules {
		names[i] = string(r)
	}
	s, err := Disable(names)
	if err != nil {
		t.Fatalf("Disable(%q): %v", names, err)
	}
	return s
}

// decodeJSON reads a JSON value as request bodies are read, with numbers
// kept as json.Number.
func decodeJSON(t testing.TB, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

func encode(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return string(b)
}

func userAttr(t testing.TB, path string) *catalog.Attribute {
	t.Helper()
	a, ok := cat.User.LookupPath(path)
	if !ok {
		t.Fatalf("no user attribute %q", path)
	}
	return a
}

func TestValue(t *testing.T) {
	cases := []struct {
		name    string
		attr    string // a user attribute path
		value   string // JSON
		off     []Rule
		want    string // JSON of the result; "null" for nothing left
		errType string
	}{
		{"boolean", "active", `false`, nil, `false`, ""},
		{"E5 string boolean True", "active", `"True"`, nil, `true`, ""},
		{"E7 string boolean False", "active", `"False"`, nil, `false`, ""},
		{"string boolean in any case, with spaces", "active", `" tRuE "`, nil, `true`, ""},
		{"E7 string boolean with the rule off", "active", `"False"`, []Rule{StringBooleans}, ``, "invalidValue"},
		{"string that is no boolean", "active", `"yes"`, nil, ``, "invalidValue"},
		{"number for a boolean", "active", `0`, nil, ``, "invalidValue"},
		{"string", "userName", `"a@b"`, nil, `"a@b"`, ""},
		{"empty string is kept", "title", `""`, nil, `""`, ""},
		{"number for a string", "userName", `42`, nil, ``, "invalidValue"},
		{"object for a string", "title", `{"value":"x"}`, nil, ``, "invalidValue"},
		{"reference", "profileUrl", `"https://example.com/a"`, nil, `"https://example.com/a"`, ""},
		{"binary", "x509Certificates", `[{"value":"TUlJQw=="}]`, nil, `[{"value":"TUlJQw=="}]`, ""},
		{"date and time", bridge + ":lastLogin", `"2026-01-15T09:30:00Z"`, nil, `"2026-01-15T09:30:00Z"`, ""},
		{"date and time with a fraction and an offset", bridge + ":lastLogin", `"2026-01-15T09:30:00.5+02:00"`, nil, `"2026-01-15T09:30:00.5+02:00"`, ""},
		{"date without a time", bridge + ":lastLogin", `"2026-01-15"`, nil, ``, "invalidValue"},
		{"number for a date", bridge + ":lastLogin", `20260115`, nil, ``, "invalidValue"},
		{"integer", bridge + ":pendingActions", `3`, nil, `3`, ""},
		{"fraction for an integer", bridge + ":pendingActions", `3.5`, nil, ``, "invalidValue"},
		{"string for an integer", bridge + ":pendingActions", `"3"`, nil, ``, "invalidValue"},
		{"null", "title", `null`, nil, `null`, ""},
		{"null with empty-values off", "title", `null`, []Rule{EmptyValues}, ``, "invalidValue"},
		{"complex", "name", `{"givenName":"A","FamilyName":"D"}`, nil, `{"familyName":"D","givenName":"A"}`, ""},
		{"complex drops unknown sub-attributes", "name", `{"givenName":"A","shoeSize":9}`, nil, `{"givenName":"A"}`, ""},
		{"complex drops read-only sub-attributes", enterprise + ":manager", `{"value":"m","displayName":"Boss"}`, nil, `{"value":"m"}`, ""},
		{"complex with nothing left", "name", `{"shoeSize":9}`, nil, `null`, ""},
		{"complex with a null sub-attribute", "name", `{"givenName":null,"familyName":"D"}`, nil, `{"familyName":"D"}`, ""},
		{"complex with a null sub-attribute, empty-values off", "name", `{"givenName":null}`, []Rule{EmptyValues}, ``, "invalidValue"},
		{"complex given a string", "name", `"Alex"`, nil, ``, "invalidValue"},
		{"complex given a list", "name", `[{"givenName":"A"}]`, nil, ``, "invalidValue"},
		{"sub-attribute given twice", "name", `{"givenName":"a","GivenName":"b"}`, nil, ``, "invalidSyntax"},
		{"sub-attribute of the wrong type", "name", `{"givenName":1}`, nil, ``, "invalidValue"},
		{"a value with several faults always gets the same error", "name", `{"familyName":"a","FAMILYNAME":"b","givenName":1}`, nil, ``, "invalidSyntax"},
		{"multi-valued", "emails", `[{"value":"a@b","type":"work","primary":"True"}]`, nil, `[{"primary":true,"type":"work","value":"a@b"}]`, ""},
		{"multi-valued skips null and empty elements", "emails", `[null,{},{"value":"a@b"}]`, nil, `[{"value":"a@b"}]`, ""},
		{"multi-valued with nothing left", "emails", `[{},null]`, nil, `null`, ""},
		{"E5 empty list", "roles", `[]`, nil, `null`, ""},
		{"E5 empty list with empty-values off", "roles", `[]`, []Rule{EmptyValues}, ``, "invalidValue"},
		{"E14 single element for a list", "emails", `{"value":"a@b"}`, nil, `[{"value":"a@b"}]`, ""},
		{"E14 single element with single-value-list off", "emails", `{"value":"a@b"}`, []Rule{SingleValueList}, ``, "invalidValue"},
		{"element of the wrong type", "emails", `["a@b"]`, nil, ``, "invalidValue"},
		{"E9 bare manager", enterprise + ":manager", `"271"`, nil, `{"value":"271"}`, ""},
		{"E9 empty bare manager", enterprise + ":manager", `""`, nil, `null`, ""},
		{"E9 bare manager with the rule off", enterprise + ":manager", `"271"`, []Rule{BareManager}, ``, "invalidValue"},
		{"bare string for another complex attribute", "name", `"271"`, nil, ``, "invalidValue"},
		{"E11 stringified role value", "roles", `[{"value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin role\"}"}]`, nil, `[{"display":"Admin role","value":"Admin"}]`, ""},
		{"E11 stringified role keeps primary and type beside it", "roles", `[{"primary":"False","type":"app","value":"{\"value\":\"Admin\",\"displayName\":\"A\"}"}]`, nil, `[{"display":"A","primary":false,"type":"app","value":"Admin"}]`, ""},
		{"E11 stringified role fields win over those beside it", "roles", `[{"Primary":false,"Display":"x","value":"{\"value\":\"Admin\",\"display\":\"A\",\"primary\":true}"}]`, nil, `[{"display":"A","primary":true,"value":"Admin"}]`, ""},
		{"E11 stringified role under a capitalised key", "roles", `[{"Value":"{\"value\":\"Admin\"}"}]`, nil, `[{"value":"Admin"}]`, ""},
		{"E11 stringified role element", "roles", `["{\"value\":\"Admin\",\"type\":\"app\",\"primary\":\"True\"}"]`, nil, `[{"primary":true,"type":"app","value":"Admin"}]`, ""},
		{"E11 stringified role with display and displayName", "roles", `[{"value":"{\"value\":\"A\",\"display\":\"d1\",\"displayName\":\"d2\",\"Value\":\"B\"}"}]`, nil, `[{"display":"d2","value":"A"}]`, ""},
		{"E11 stringified role inside a stringified role", "roles", `[{"value":"{\"value\":\"{\\\"value\\\":\\\"Admin\\\"}\"}"}]`, nil, `[{"value":"Admin"}]`, ""},
		{"E11 stringified role with the rule off", "roles", `[{"value":"{\"value\":\"Admin\"}"}]`, []Rule{StringifiedRoles}, `[{"value":"{\"value\":\"Admin\"}"}]`, ""},
		{"E11 stringified role element with the rule off", "roles", `["{\"value\":\"Admin\"}"]`, []Rule{StringifiedRoles}, ``, "invalidValue"},
		{"role value that only looks like JSON", "roles", `[{"value":"{admin}"}]`, nil, `[{"value":"{admin}"}]`, ""},
		{"stringified role without a value", "roles", `[{"value":"{\"id\":\"8a\"}"}]`, nil, `[{"value":"{\"id\":\"8a\"}"}]`, ""},
		{"stringified text for another attribute", "emails", `[{"value":"{\"value\":\"a@b\"}"}]`, nil, `[{"value":"{\"value\":\"a@b\"}"}]`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a := userAttr(t, c.attr)
			got, err := Value(a, decodeJSON(t, c.value), off(t, c.off...))
			if c.errType != "" {
				if err == nil {
					t.Fatalf("accepted as %s, want a %s error", encode(t, got), c.errType)
				}
				if err.ScimType != c.errType || err.Detail == "" {
					t.Errorf("error %+v, want scimType %s with a detail", err, c.errType)
				}
				if !strings.Contains(err.Detail, a.Path()) {
					t.Errorf("error %q does not name %s", err.Detail, a.Path())
				}
				return
			}
			if err != nil {
				t.Fatalf("Value: %v", err)
			}
			if s := encode(t, got); s != c.want {
				t.Errorf("got %s, want %s", s, c.want)
			}
			// Normalising the result again changes nothing.
			if c.want != "null" {
				again, err := Value(a, got, off(t, c.off...))
				if err != nil || encode(t, again) != c.want {
					t.Errorf("second normalisation: %s, %v", encode(t, again), err)
				}
			}
		})
	}
}

func TestElement(t *testing.T) {
	cases := []struct {
		name, attr, value, want, errType string
	}{
		{"one element of a multi-valued attribute", "emails", `{"value":"a@b","primary":"false"}`, `{"primary":false,"value":"a@b"}`, ""},
		{"a list is not an element", "emails", `[{"value":"a@b"}]`, ``, "invalidValue"},
		{"an empty element is nothing", "emails", `{}`, `null`, ""},
		{"single-valued attribute", "displayName", `"A"`, `"A"`, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Element(userAttr(t, c.attr), decodeJSON(t, c.value), Set{})
			switch {
			case c.errType != "":
				if err == nil || err.ScimType != c.errType {
					t.Errorf("got %s, %v; want a %s error", encode(t, got), err, c.errType)
				}
			case err != nil:
				t.Errorf("Element: %v", err)
			case encode(t, got) != c.want:
				t.Errorf("got %s, want %s", encode(t, got), c.want)
			}
		})
	}
}

func TestParseBool(t *testing.T) {
	cases := []struct {
		in        string
		value, ok bool
	}{
		{"true", true, true},
		{"True", true, true},
		{"TRUE", true, true},
		{" false\t", false, true},
		{"False", false, true},
		{"", false, false},
		{"yes", false, false},
		{"1", false, false},
		{"truee", false, false},
	}
	for _, c := range cases {
		if v, ok := ParseBool(c.in); v != c.value || ok != c.ok {
			t.Errorf("ParseBool(%q) = %v, %v; want %v, %v", c.in, v, ok, c.value, c.ok)
		}
	}
}

// TestValueDeterministic normalises values whose outcome once depended
// on map order many times over: each must always come out the same.
func TestValueDeterministic(t *testing.T) {
	cases := []struct{ name, attr, value string }{
		{"several faults in one value", "name", `{"familyName":"a","FAMILYNAME":"b","givenName":1,"middleName":true}`},
		{"E11 role with display and displayName", "roles", `[{"value":"{\"value\":\"A\",\"display\":\"d1\",\"displayName\":\"d2\",\"Value\":\"B\",\"VALUE\":\"C\"}"}]`},
		{"E11 role with primary in two cases", "roles", `["{\"value\":\"A\",\"primary\":true,\"Primary\":false,\"PRIMARY\":\"x\"}"]`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			outcomes := map[string]bool{}
			for range 50 {
				v, err := Value(userAttr(t, c.attr), decodeJSON(t, c.value), Set{})
				outcomes[fmt.Sprintf("%s %v", encode(t, v), err)] = true
			}
			if len(outcomes) != 1 {
				t.Errorf("%d different outcomes: %v", len(outcomes), outcomes)
			}
		})
	}
}
