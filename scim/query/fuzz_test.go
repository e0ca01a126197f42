package query_test

import (
	"errors"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

// FuzzParseFilter feeds arbitrary filters to both parsers: neither may
// panic, every failure is a filter *query.Error with a message (which the
// SCIM layer answers as invalidFilter), the shape cache agrees with the
// parser it stands in for, and what parses is a tree within the bounds,
// whose comparisons are typed as their attributes. The translation to SQL
// is fuzzed in the store's package (FuzzFilterSQL).
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`userName eq "alice"`,
		`emails[type eq "work"].value eq "a@b.com"`,
		`emails[type eq "work" and (value co "x" or value sw "y")]`,
		`not (title pr) or meta.lastModified gt "2026-01-15T00:00:00Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "1"`,
		`members[value eq "u1"] and displayName co "\u00e9\""`,
		`active eq true and urn:scimbridge:params:scim:schemas:extension:2.0:User:pendingActions ge 2`,
		`userName eq "x' OR '1'='1" or userName eq "\"); --"`,
	} {
		f.Add(seed)
	}
	cache := query.NewFilters(16)
	f.Fuzz(func(t *testing.T, filter string) {
		plain, err1 := query.ParseFilter(cat.User, filter)
		cached, err2 := cache.Parse(cat.User, filter)
		checkFilterError(t, filter, err1)
		checkFilterError(t, filter, err2)
		if (err1 == nil) != (err2 == nil) || show(plain) != show(cached) {
			t.Fatalf("%q: ParseFilter gave %s (%v), the cache %s (%v)", filter, show(plain), err1, show(cached), err2)
		}
		if err1 == nil {
			checkTree(t, filter, plain)
		}
		group, err := query.ParseFilter(cat.Group, filter)
		checkFilterError(t, filter, err)
		if err == nil {
			checkTree(t, filter, group)
		}
	})
}

func checkFilterError(t *testing.T, filter string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var qe *query.Error
	if !errors.As(err, &qe) || qe.Param != "filter" || qe.Msg == "" {
		t.Fatalf("%q: error %T %v is not a filter *query.Error", filter, err, err)
	}
}

// checkTree checks a parsed filter: at most MaxFilterTerms comparisons,
// and each comparison's value of its attribute's type.
func checkTree(t *testing.T, filter string, e query.Expr) {
	t.Helper()
	terms := 0
	var walk func(e query.Expr, inside *catalog.Attribute)
	walk = func(e query.Expr, inside *catalog.Attribute) {
		switch e := e.(type) {
		case nil:
		case *query.And:
			walk(e.Left, inside)
			walk(e.Right, inside)
		case *query.Or:
			walk(e.Left, inside)
			walk(e.Right, inside)
		case *query.Not:
			walk(e.X, inside)
		case *query.Any:
			if inside != nil {
				t.Fatalf("%q: value path %s inside %s", filter, e.Attr.Path(), inside.Path())
			}
			if !e.Attr.MultiValued {
				t.Fatalf("%q: value path on single-valued %s", filter, e.Attr.Path())
			}
			if e.Filter == nil {
				terms++ // "emails pr"
			}
			walk(e.Filter, e.Attr)
		case *query.Compare:
			terms++
			if inside != nil && e.Attr.Parent != inside {
				t.Fatalf("%q: %s compared inside %s", filter, e.Attr.Path(), inside.Path())
			}
			if e.Op == query.Pr {
				if e.Value != nil {
					t.Fatalf("%q: pr with a value %v", filter, e.Value)
				}
				return
			}
			if !typed(e.Attr.Type, e.Value) {
				t.Fatalf("%q: %s (%s) compared with %T %v", filter, e.Attr.Path(), e.Attr.Type, e.Value, e.Value)
			}
		default:
			t.Fatalf("%q: node %T", filter, e)
		}
	}
	walk(e, nil)
	if terms > query.MaxFilterTerms {
		t.Fatalf("%q: %d terms accepted", filter, terms)
	}
}

// typed reports whether v is what a comparison with an attribute of type
// typ holds (see query.Compare).
func typed(typ catalog.Type, v any) bool {
	switch v.(type) {
	case string:
		return typ == catalog.String || typ == catalog.Reference || typ == catalog.Binary
	case bool:
		return typ == catalog.Boolean
	case int64:
		return typ == catalog.Integer || typ == catalog.Decimal
	case float64:
		return typ == catalog.Decimal || typ == catalog.Integer
	case time.Time:
		return typ == catalog.DateTime
	}
	return false
}
