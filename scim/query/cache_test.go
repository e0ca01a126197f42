package query_test

import (
	"fmt"
	"testing"

	"github.com/scimbridge/scimbridge/scim/query"
)

// TestFiltersFillEachShapeWithItsOwnValues parses filters of one shape
// with different values, in and out of brackets, through one cache.
func TestFiltersFillEachShapeWithItsOwnValues(t *testing.T) {
	cache := query.NewFilters(2) // small: shapes get evicted too
	for i := range 5 {
		cases := []struct{ filter, want string }{
			{fmt.Sprintf(`userName eq "u%d"`, i), fmt.Sprintf(`eq(userName,"u%d")`, i)},
			{fmt.Sprintf(`emails[type eq "t%d"].value eq "v%d" and title co "x\"%d"`, i, i, i),
				fmt.Sprintf(`and(any(emails,and(eq(emails.type,"t%d"),eq(emails.value,"v%d"))),co(title,"x\"%d"))`, i, i, i)},
			{fmt.Sprintf(`meta.created gt "2026-01-0%dT00:00:00Z" or active eq true`, i+1),
				fmt.Sprintf(`or(gt(meta.created,2026-01-0%dT00:00:00Z),eq(active,bool:true))`, i+1)},
		}
		for _, c := range cases {
			got, err := cache.Parse(cat.User, c.filter)
			if err != nil {
				t.Fatalf("%s: %v", c.filter, err)
			}
			if s := show(got); s != c.want {
				t.Errorf("%s:\ngot  %s\nwant %s", c.filter, s, c.want)
			}
		}
	}
	// A shape seen before with a good value still rejects a bad one.
	if _, err := cache.Parse(cat.User, `meta.created gt "yesterday"`); err == nil {
		t.Error("a bad dateTime in a known shape was accepted")
	}
}
