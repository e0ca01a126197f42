package compat_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/patch"
)

var cat = catalog.New()

const enterprise = catalog.EnterpriseUserSchema

func TestDisable(t *testing.T) {
	t.Run("zero Set has every rule on", func(t *testing.T) {
		var s compat.Set
		for _, r := range compat.All() {
			if !s.On(r) {
				t.Errorf("%s is off in the zero Set", r)
			}
		}
	})
	t.Run("Disable of nothing has every rule on", func(t *testing.T) {
		s, err := compat.Disable(nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range compat.All() {
			if !s.On(r) {
				t.Errorf("%s is off", r)
			}
		}
	})
	for _, rule := range compat.All() {
		t.Run("Disable "+string(rule)+" switches off it alone", func(t *testing.T) {
			s, err := compat.Disable([]string{" " + string(rule) + "\t"})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range compat.All() {
				if s.On(r) != (r != rule) {
					t.Errorf("On(%s) = %v", r, s.On(r))
				}
			}
		})
	}
	t.Run("Disable of every rule", func(t *testing.T) {
		var names []string
		for _, r := range compat.All() {
			names = append(names, string(r))
		}
		s, err := compat.Disable(names)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range compat.All() {
			if s.On(r) {
				t.Errorf("%s is on", r)
			}
		}
	})
	for _, name := range []string{"capitalized-ops", "Capitalised-Ops", "", "string-booleans,bare-manager"} {
		t.Run(fmt.Sprintf("unknown rule %q", name), func(t *testing.T) {
			s, err := compat.Disable([]string{string(compat.BareManager), name})
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), fmt.Sprintf("%q", name)) || !strings.Contains(err.Error(), string(compat.MissingUserAgent)) {
				t.Errorf("error %q should name the rule and list the known ones", err)
			}
			if !s.On(compat.BareManager) {
				t.Error("a failed Disable returned a Set with rules off")
			}
		})
	}
	t.Run("Sets are independent", func(t *testing.T) {
		a, _ := compat.Disable([]string{string(compat.EmptyValues)})
		b, _ := compat.Disable([]string{string(compat.TrailingSlash)})
		if !a.On(compat.TrailingSlash) || !b.On(compat.EmptyValues) {
			t.Error("disabling a rule in one Set changed another")
		}
	})
	t.Run("All lists each rule once", func(t *testing.T) {
		all := compat.All()
		seen := map[compat.Rule]bool{}
		for _, r := range all {
			if seen[r] || r == "" || strings.TrimSpace(string(r)) != string(r) {
				t.Errorf("rule %q listed twice or malformed", r)
			}
			seen[r] = true
		}
		if len(all) != 13 {
			t.Errorf("%d rules; update the rule tests when adding one", len(all))
		}
	})
}

// outcome is what a request comes to under a rule set: the normalised
// body or PATCH operations, or the scimType of the refusal.
type outcome func(t *testing.T, s compat.Set) string

// body normalises a POST or PUT body.
func body(res *catalog.Resource, b string) outcome {
	return func(t *testing.T, s compat.Set) string {
		dec := json.NewDecoder(strings.NewReader(b))
		dec.UseNumber()
		var doc map[string]any
		if err := dec.Decode(&doc); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		if err := compat.Resource(res, doc, s); err != nil {
			return "error " + err.ScimType
		}
		out, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		return string(out)
	}
}

// patchOps parses a PATCH with the given Operations list.
func patchOps(res *catalog.Resource, ops string) outcome {
	return func(t *testing.T, s compat.Set) string {
		parsed, err := patch.Parse(res, []byte(`{"schemas":["`+patch.PatchOpSchema+`"],"Operations":`+ops+`}`), s)
		if err != nil {
			var pe *patch.Error
			if !errors.As(err, &pe) {
				t.Fatalf("not a patch error: %v", err)
			}
			return "error " + pe.ScimType
		}
		out := []string{}
		for _, op := range parsed {
			v, _ := json.Marshal(op.Value)
			d := string(op.Kind) + " " + op.Path.Attr.Path() + " " + string(v)
			if op.MemberIDs != nil {
				d += fmt.Sprintf(" ids=%q", op.MemberIDs)
			}
			out = append(out, d)
		}
		return strings.Join(out, "; ")
	}
}

// canonical re-encodes a JSON object with sorted keys, as the outcomes
// are; other outcomes are returned as they are.
func canonical(t *testing.T, s string) string {
	if !strings.HasPrefix(s, "{") {
		return s
	}
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// switched reports whether the rule is on; the HTTP layer acts on it.
func switched(r compat.Rule) outcome {
	return func(t *testing.T, s compat.Set) string { return fmt.Sprint(s.On(r)) }
}

func TestRules(t *testing.T) {
	user, group := cat.User, cat.Group
	userBody := func(attrs string) string {
		return `{"schemas":["` + catalog.UserSchema + `","` + enterprise + `"],"userName":"a@b"` + attrs + `}`
	}
	const userOut = `"schemas":["` + catalog.UserSchema + `","` + enterprise + `"],"userName":"a@b"`
	cases := []struct {
		name    string
		rule    compat.Rule
		request outcome
		on, off string
	}{
		{"E6 Replace with a capitalised op", compat.CapitalisedOps,
			patchOps(user, `[{"op":"Replace","path":"emails[type eq \"work\"].value","value":"x@y"}]`),
			`replace emails "x@y"`, `error invalidSyntax`},
		{"E7 Replace of active with a capitalised op", compat.CapitalisedOps,
			patchOps(user, `[{"op":"Replace","path":"active","value":false}]`),
			`replace active false`, `error invalidSyntax`},
		{"E5 create with active True", compat.StringBooleans,
			body(user, userBody(`,"active":"True"`)),
			`{"active":true,` + userOut + `}`, `error invalidValue`},
		{"E5 create with a primary email true", compat.StringBooleans,
			body(user, userBody(`,"emails":[{"value":"a@b","primary":"true"}]`)),
			`{"emails":[{"primary":true,"value":"a@b"}],` + userOut + `}`, `error invalidValue`},
		{"E7 Replace active False", compat.StringBooleans,
			patchOps(user, `[{"op":"Replace","path":"active","value":"False"}]`),
			`replace active false`, `error invalidValue`},
		{"E7 roles[primary eq \"True\"] path filter", compat.StringBooleans,
			patchOps(user, `[{"op":"replace","path":"roles[primary eq \"True\"].display","value":"Main"}]`),
			`replace roles "Main"`, `error invalidFilter`},
		{"E9 create with a bare-string manager", compat.BareManager,
			body(user, userBody(`,"`+enterprise+`":{"manager":"271"}`)),
			`{` + userOut + `,"` + enterprise + `":{"manager":{"value":"271"}}}`, `error invalidValue`},
		{"E9 Add manager as a bare string", compat.BareManager,
			patchOps(user, `[{"op":"Add","path":"`+enterprise+`:manager","value":"271"}]`),
			`add ` + enterprise + `:manager {"value":"271"}`, `error invalidValue`},
		{"E11 create with JSON-stringified roles", compat.StringifiedRoles,
			body(user, userBody(`,"roles":[{"primary":false,"value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]`)),
			`{"roles":[{"display":"Admin","primary":false,"value":"Admin"}],` + userOut + `}`,
			`{"roles":[{"primary":false,"value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}],` + userOut + `}`},
		{"E11 Add JSON-stringified roles", compat.StringifiedRoles,
			patchOps(user, `[{"op":"Add","path":"roles","value":[{"value":"{\"value\":\"Admin\"}"}]}]`),
			`add roles [{"value":"Admin"}]`, `add roles [{"value":"{\"value\":\"Admin\"}"}]`},
		{"E15 Remove members listed by value", compat.MemberRemoveByValue,
			patchOps(group, `[{"op":"Remove","path":"members","value":[{"$ref":null,"value":"u1"}]}]`),
			`remove members null ids=["u1"]`, `error invalidValue`},
		{"E8 dotted key without a path", compat.PathlessDottedKeys,
			patchOps(user, `[{"op":"replace","value":{"name.givenName":"A"}}]`),
			`replace name.givenName "A"`, `error invalidPath`},
		{"E8 URN-prefixed key without a path", compat.PathlessDottedKeys,
			patchOps(user, `[{"op":"replace","value":{"`+enterprise+`:employeeNumber":"7"}}]`),
			`replace ` + enterprise + `:employeeNumber "7"`, `error invalidPath`},
		{"O8 group id in a rename", compat.IDInPatchValue,
			patchOps(group, `[{"op":"replace","value":{"id":"g1","displayName":"Sales"}}]`),
			`replace displayName "Sales"`, `error mutability`},
		{"G1 empty Operations", compat.EmptyOperations,
			patchOps(user, `[]`),
			``, `error invalidValue`},
		{"E14 Add one member object, not a list", compat.SingleValueList,
			patchOps(group, `[{"op":"Add","path":"members","value":{"value":"u1"}}]`),
			`add members [{"value":"u1"}]`, `error invalidValue`},
		{"E14 create with one email object", compat.SingleValueList,
			body(user, userBody(`,"emails":{"value":"a@b"}`)),
			`{"emails":[{"value":"a@b"}],` + userOut + `}`, `error invalidValue`},
		{"E5 create with roles []", compat.EmptyValues,
			body(user, userBody(`,"roles":[]`)),
			`{` + userOut + `}`, `error invalidValue`},
		{"E14 Add members with a null $ref", compat.EmptyValues,
			patchOps(group, `[{"op":"Add","path":"members","value":[{"$ref":null,"value":"u1"}]}]`),
			`add members [{"value":"u1"}]`, `error invalidValue`},
		// Okta's groups:[] is read-only, dropped before the rule is asked.
		{"O2 create with groups []", compat.EmptyValues,
			body(user, userBody(`,"groups":[]`)),
			`{` + userOut + `}`, `{` + userOut + `}`},
		{"create with an extension block in another case", compat.ExtensionCase,
			body(user, `{"schemas":["`+catalog.UserSchema+`"],"userName":"a@b","`+strings.ToLower(enterprise)+`":{"department":"Ops"}}`),
			`{"schemas":["` + catalog.UserSchema + `"],"userName":"a@b","` + enterprise + `":{"department":"Ops"}}`,
			`error invalidSyntax`},
		{"create with the core schema in another case", compat.ExtensionCase,
			body(user, `{"schemas":["`+strings.ToLower(catalog.UserSchema)+`"],"userName":"a@b"}`),
			`{"schemas":["` + catalog.UserSchema + `"],"userName":"a@b"}`, `error invalidSyntax`},
		{"PATCH of an extension block in another case", compat.ExtensionCase,
			patchOps(user, `[{"op":"replace","value":{"`+strings.ToUpper(enterprise)+`":{"department":"Ops"}}}]`),
			`replace ` + enterprise + `:department "Ops"`, `error invalidPath`},
		{"trailing slash (enforced by the HTTP layer)", compat.TrailingSlash,
			switched(compat.TrailingSlash), `true`, `false`},
		{"E1 missing User-Agent (enforced by the HTTP layer)", compat.MissingUserAgent,
			switched(compat.MissingUserAgent), `true`, `false`},
	}
	for _, c := range cases {
		t.Run(c.name+" ("+string(c.rule)+")", func(t *testing.T) {
			if got, want := c.request(t, compat.Set{}), canonical(t, c.on); got != want {
				t.Errorf("rule on:\n got  %s\n want %s", got, want)
			}
			s, err := compat.Disable([]string{string(c.rule)})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := c.request(t, s), canonical(t, c.off); got != want {
				t.Errorf("rule off:\n got  %s\n want %s", got, want)
			}
		})
	}

	// Every rule has a case, and at least one whose outcome it changes.
	for _, r := range compat.All() {
		if !slices.ContainsFunc(cases, func(c struct {
			name    string
			rule    compat.Rule
			request outcome
			on, off string
		}) bool {
			return c.rule == r && c.on != c.off
		}) {
			t.Errorf("no case shows what rule %s changes", r)
		}
	}
}
