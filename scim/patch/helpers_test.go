package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
)

var cat = catalog.New()

const (
	enterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	bridge     = "urn:scimbridge:params:scim:schemas:extension:2.0:User"
)

// patchBody wraps operations, a JSON list, in a PatchOp message.
func patchBody(ops string) []byte {
	return []byte(`{"schemas":["` + PatchOpSchema + `"],"Operations":` + ops + `}`)
}

// rulesOff returns the rule set with the given rules switched off.
func rulesOff(t testing.TB, off ...compat.Rule) compat.Set {
	t.Helper()
	names := make([]string, len(off))
	for i, r := range off {
		names[i] = string(r)
	}
	s, err := compat.Disable(names)
	if err != nil {
		t.Fatalf("Disable(%q): %v", names, err)
	}
	return s
}

// decode reads a JSON object as the store does, with numbers kept as
// json.Number.
func decode(t testing.TB, s string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return m
}

// canonical encodes v with sorted keys, so that documents compare as text.
func canonical(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("encode %v: %v", v, err)
	}
	return string(b)
}

// scimType returns the scimType of a patch or compat error, or a note
// saying what else err is.
func scimType(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.ScimType
	}
	return fmt.Sprintf("not a SCIM error: %T %v", err, err)
}

// describe renders operations compactly for comparison:
// "kind path value", with the member ids of a remove by value.
func describe(ops []Op) []string {
	out := []string{}
	for _, op := range ops {
		path := op.Path.Attr.Path()
		if op.Path.Filter != nil {
			path = op.Path.Text
		}
		s := string(op.Kind) + " " + path
		if op.Value != nil {
			b, err := json.Marshal(op.Value)
			if err != nil {
				b = []byte(fmt.Sprintf("unencodable %v", op.Value))
			}
			s += " " + string(b)
		}
		if op.MemberIDs != nil {
			s += fmt.Sprintf(" ids=%q", op.MemberIDs)
		}
		out = append(out, s)
	}
	return out
}

// describeMembers renders member operations compactly.
func describeMembers(ops []MemberOp) []string {
	out := []string{}
	for _, op := range ops {
		s := string(op.Kind)
		if op.IDs != nil {
			s += fmt.Sprintf(" %q", op.IDs)
		}
		if op.Filter != nil {
			s += " where filter"
		}
		out = append(out, s)
	}
	return out
}

// deepCopy copies a decoded JSON value.
func deepCopy(v any) any {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		panic(err)
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		panic(err)
	}
	return out
}
