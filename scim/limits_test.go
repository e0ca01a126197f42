package scim_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/patch"
)

// TestRequestLimits checks the bounds on what one request may hold: its
// nesting, its PATCH operations and the members it names. Each refusal
// is an RFC 7644 error that says what the bound is.
func TestRequestLimits(t *testing.T) {
	h := newHarnessWith(t, func(c *scim.Config) { c.MaxBodyBytes = 1 << 20 })
	g := h.createGroup(`{"schemas":[` + groupSchema + `],"displayName":"Sales"}`)
	groupPath := "/Groups/" + str(g["id"])
	nested := func(depth int) string {
		// depth levels: the body object, then depth-1 lists around a name.
		return `{"schemas":[` + userSchema + `],"userName":"deep","title":` +
			strings.Repeat("[", depth-1) + `"x"` + strings.Repeat("]", depth-1) + `}`
	}
	members := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = fmt.Sprintf(`{"value":"u%d"}`, i)
		}
		return "[" + strings.Join(list, ",") + "]"
	}
	rename := `{"op":"replace","path":"displayName","value":"Sales"}`
	patchOf := func(ops string) string { return `{"schemas":[` + patchSchema + `],"Operations":` + ops + `}` }
	cases := []struct {
		name     string
		req      request
		status   int
		scimType string
		detail   string
	}{
		{"nesting one over the bound", request{method: "POST", path: "/Users", body: nested(scim.MaxJSONDepth + 1)},
			400, "invalidSyntax", "nests objects and lists deeper than 32 levels"},
		{"nesting at the bound is read (and refused for its type)", request{method: "POST", path: "/Users", body: nested(scim.MaxJSONDepth)},
			400, "invalidValue", "title must be a string"},
		{"brackets inside strings do not count", request{method: "POST", path: "/Users",
			body: `{"schemas":[` + userSchema + `],"userName":"brackets","title":"` + strings.Repeat(`[{\"`, 40) + `"}`}, 201, "", ""},
		{"deep PATCH", request{method: "PATCH", path: groupPath,
			body: patchOf(`[{"op":"add","path":"members","value":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}]`)},
			400, "invalidSyntax", "deeper than 32 levels"},
		{"too many PATCH operations", request{method: "PATCH", path: groupPath,
			body: patchOf("[" + strings.Repeat(rename+",", patch.MaxOperations) + rename + "]")},
			400, "invalidValue", "Operations holds 1001 operations; at most 1000 are accepted in one PATCH"},
		{"too many members in a PATCH", request{method: "PATCH", path: groupPath,
			body: patchOf(`[{"op":"add","path":"members","value":` + members(patch.MaxMembers+1) + `}]`)},
			400, "invalidValue", "the operations name 10001 members; at most 10000"},
		{"too many members in a POST", request{method: "POST", path: "/Groups",
			body: `{"schemas":[` + groupSchema + `],"displayName":"Big","members":` + members(patch.MaxMembers+1) + `}`},
			400, "invalidValue", "members lists 10001 users; at most 10000 are accepted in one request"},
		{"too many members in a PUT", request{method: "PUT", path: groupPath,
			body: `{"schemas":[` + groupSchema + `],"displayName":"Sales","members":` + members(patch.MaxMembers+1) + `}`},
			400, "invalidValue", "at most 10000"},
		{"a body over the size bound", request{method: "POST", path: "/Users",
			body: `{"schemas":[` + userSchema + `],"userName":"big","title":"` + strings.Repeat("x", 1<<20) + `"}`},
			http.StatusRequestEntityTooLarge, "", "larger than 1048576 bytes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := h.do(c.req)
			if c.status < 300 {
				mustStatus(t, r, c.status)
				return
			}
			if detail := scimError(t, r, c.status, c.scimType); !strings.Contains(detail, c.detail) {
				t.Errorf("detail %q lacks %q", detail, c.detail)
			}
		})
	}
}
