package patch

import (
	"fmt"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/compat"
)

// TestLimits checks the bounds on one PATCH: at the bound it is read, one
// over it is refused as invalidValue, with the bound in the message.
func TestLimits(t *testing.T) {
	ops := func(n int, op string) string {
		return "[" + strings.Repeat(op+",", n-1) + op + "]"
	}
	members := func(n int) string {
		ids := make([]string, n)
		for i := range ids {
			ids[i] = fmt.Sprintf(`{"value":"u%d"}`, i)
		}
		return "[" + strings.Join(ids, ",") + "]"
	}
	rename := `{"op":"replace","path":"displayName","value":"G"}`
	cases := []struct {
		name string
		ops  string
		want string // "" to accept
	}{
		{"operations at the bound", ops(MaxOperations, rename), ""},
		{"one operation too many", ops(MaxOperations+1, rename), "at most 1000 are accepted"},
		{"members at the bound", `[{"op":"add","path":"members","value":` + members(MaxMembers) + `}]`, ""},
		{"one member too many in one add", `[{"op":"add","path":"members","value":` + members(MaxMembers+1) + `}]`, "name 10001 members; at most 10000"},
		{"too many over several operations", `[{"op":"add","path":"members","value":` + members(MaxMembers/2+1) + `},` +
			`{"op":"remove","path":"members","value":` + members(MaxMembers/2) + `}]`, "name 10001 members"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(cat.Group, patchBody(c.ops), compat.Set{})
			if c.want == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			pe, ok := err.(*Error)
			if !ok || pe.ScimType != "invalidValue" || !strings.Contains(pe.Detail, c.want) {
				t.Fatalf("error %v, want invalidValue with %q", err, c.want)
			}
		})
	}
}
