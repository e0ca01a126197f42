package patch

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Match reports whether element el of a multi-valued attribute satisfies
// e, a filter over its sub-attributes. It evaluates one element of one
// resource in memory; lists of resources are always filtered by the
// store.
func Match(e query.Expr, el map[string]any) bool {
	switch e := e.(type) {
	case *query.And:
		return Match(e.Left, el) && Match(e.Right, el)
	case *query.Or:
		return Match(e.Left, el) || Match(e.Right, el)
	case *query.Not:
		return !Match(e.X, el)
	case *query.Compare:
		return compare(e, el[e.Attr.Name])
	}
	return false
}

func compare(e *query.Compare, v any) bool {
	if e.Op == query.Pr {
		return present(v)
	}
	if v == nil {
		return e.Op == query.Ne
	}
	c, ok := order(e.Attr, v, e.Value)
	if !ok {
		return e.Op == query.Ne
	}
	switch e.Op {
	case query.Eq:
		return c == 0
	case query.Ne:
		return c != 0
	case query.Gt:
		return c > 0
	case query.Ge:
		return c >= 0
	case query.Lt:
		return c < 0
	case query.Le:
		return c <= 0
	}
	got, want, ok := strs(e.Attr, v, e.Value)
	if !ok {
		return false
	}
	switch e.Op {
	case query.Co:
		return strings.Contains(got, want)
	case query.Sw:
		return strings.HasPrefix(got, want)
	case query.Ew:
		return strings.HasSuffix(got, want)
	}
	return false
}

func present(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// strs returns both sides as strings, folded when a is not caseExact.
func strs(a *catalog.Attribute, v, want any) (string, string, bool) {
	got, ok1 := v.(string)
	w, ok2 := want.(string)
	if !ok1 || !ok2 {
		return "", "", false
	}
	if !a.CaseExact {
		return store.Fold(got), store.Fold(w), true
	}
	return got, w, true
}

// order compares a document value with a filter value: -1, 0 or 1.
func order(a *catalog.Attribute, v, want any) (int, bool) {
	switch w := want.(type) {
	case string:
		got, wantS, ok := strs(a, v, w)
		if !ok {
			return 0, false
		}
		return strings.Compare(got, wantS), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		if b == w {
			return 0, true
		}
		if !b {
			return -1, true
		}
		return 1, true
	case int64, float64:
		n, ok := v.(json.Number)
		if !ok {
			return 0, false
		}
		got, err := n.Float64()
		if err != nil {
			return 0, false
		}
		wf := toFloat(w)
		switch {
		case got < wf:
			return -1, true
		case got > wf:
			return 1, true
		}
		return 0, true
	case time.Time:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return 0, false
		}
		return t.Compare(w), true
	}
	return 0, false
}

func toFloat(v any) float64 {
	switch v := v.(type) {
	case int64:
		return float64(v)
	case float64:
		return v
	}
	return 0
}
