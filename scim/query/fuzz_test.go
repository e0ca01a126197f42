package query_test

import (
	"errors"
	"testing"

	"github.com/scimbridge/scimbridge/scim/query"
)

// FuzzParseFilter feeds arbitrary filters to both parsers: neither may
// panic, every failure is a *query.Error, and the shape cache agrees with
// the parser it stands in for.
func FuzzParseFilter(f *testing.F) {
	for _, seed := range []string{
		`userName eq "alice"`,
		`emails[type eq "work"].value eq "a@b.com"`,
		`emails[type eq "work" and (value co "x" or value sw "y")]`,
		`not (title pr) or meta.lastModified gt "2026-01-15T00:00:00Z"`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "1"`,
		`members[value eq "u1"] and displayName co "\u00e9\""`,
		`active eq true and urn:scimbridge:params:scim:schemas:extension:2.0:User:pendingActions ge 2`,
	} {
		f.Add(seed)
	}
	cache := query.NewFilters(16)
	f.Fuzz(func(t *testing.T, filter string) {
		plain, err1 := query.ParseFilter(cat.User, filter)
		cached, err2 := cache.Parse(cat.User, filter)
		for _, err := range []error{err1, err2} {
			var qe *query.Error
			if err != nil && !errors.As(err, &qe) {
				t.Fatalf("%q: error %v is not a *query.Error", filter, err)
			}
		}
		if (err1 == nil) != (err2 == nil) || show(plain) != show(cached) {
			t.Fatalf("%q: ParseFilter gave %s (%v), the cache %s (%v)", filter, show(plain), err1, show(cached), err2)
		}
		if _, err := query.ParseFilter(cat.Group, filter); err != nil {
			var qe *query.Error
			if !errors.As(err, &qe) {
				t.Fatalf("%q: group filter error %v is not a *query.Error", filter, err)
			}
		}
	})
}
