package query_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

var cat = catalog.New()

const (
	ent = catalog.EnterpriseUserSchema
	brg = catalog.BridgeUserSchema
)

// show renders a filter tree compactly: and(eq(userName,"a"),any(emails)).
func show(e query.Expr) string {
	switch e := e.(type) {
	case nil:
		return "nil"
	case *query.And:
		return "and(" + show(e.Left) + "," + show(e.Right) + ")"
	case *query.Or:
		return "or(" + show(e.Left) + "," + show(e.Right) + ")"
	case *query.Not:
		return "not(" + show(e.X) + ")"
	case *query.Any:
		if e.Filter == nil {
			return "any(" + e.Attr.Path() + ")"
		}
		return "any(" + e.Attr.Path() + "," + show(e.Filter) + ")"
	case *query.Compare:
		if e.Op == query.Pr {
			if e.Value != nil {
				return fmt.Sprintf("pr(%s,%v!)", e.Attr.Path(), e.Value)
			}
			return "pr(" + e.Attr.Path() + ")"
		}
		return fmt.Sprintf("%s(%s,%s)", e.Op, e.Attr.Path(), showValue(e.Value))
	}
	return fmt.Sprintf("%T", e)
}

func showValue(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case time.Time:
		if v.Location() != time.UTC {
			return "non-UTC " + v.String()
		}
		return v.Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%T:%v", v, v)
}

// parsers are the two ways to parse a filter: each call from scratch, and
// through a shape cache, where the second filter of a shape reuses the
// first one's structure. Both must give the same trees and errors.
func parsers() map[string]func(*catalog.Resource, string) (query.Expr, error) {
	cache := query.NewFilters(64)
	return map[string]func(*catalog.Resource, string) (query.Expr, error){
		"ParseFilter": query.ParseFilter,
		"Filters": func(res *catalog.Resource, f string) (query.Expr, error) {
			first, err1 := cache.Parse(res, f)
			again, err2 := cache.Parse(res, f)
			if show(first) != show(again) || fmt.Sprint(err1) != fmt.Sprint(err2) {
				return nil, fmt.Errorf("cached parse differs: %s (%v) then %s (%v)", show(first), err1, show(again), err2)
			}
			return again, err2
		},
	}
}

func TestParseFilter(t *testing.T) {
	cases := []struct {
		res    *catalog.Resource
		filter string
		want   string
	}{
		{cat.User, ``, `nil`},
		{cat.User, `   `, `nil`},
		{cat.User, `userName eq "alice"`, `eq(userName,"alice")`},
		{cat.User, `  USERNAME Eq "alice"  `, `eq(userName,"alice")`},
		{cat.User, `urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a"`, `eq(userName,"a")`},
		{cat.User, `title pr`, `pr(title)`},
		{cat.User, `title ne "x"`, `ne(title,"x")`},
		{cat.User, `title co "x"`, `co(title,"x")`},
		{cat.User, `title sw ""`, `sw(title,"")`},
		{cat.User, `title ew "x"`, `ew(title,"x")`},
		{cat.User, `title gt "x"`, `gt(title,"x")`},
		{cat.User, `title ge "x"`, `ge(title,"x")`},
		{cat.User, `title lt "x"`, `lt(title,"x")`},
		{cat.User, `title le "x"`, `le(title,"x")`},
		{cat.User, `name.givenName eq "A"`, `eq(name.givenName,"A")`},
		{cat.User, `name pr`, `pr(name)`},
		{cat.User, `not (title pr)`, `not(pr(title))`},
		{cat.User, `not(title pr)`, `not(pr(title))`},
		{cat.User, `title pr and userType pr or nickName pr`, `or(and(pr(title),pr(userType)),pr(nickName))`},
		{cat.User, `title pr or userType pr and nickName pr`, `or(pr(title),and(pr(userType),pr(nickName)))`},
		{cat.User, `(title pr or userType pr) and nickName pr`, `and(or(pr(title),pr(userType)),pr(nickName))`},
		{cat.User, `title pr and userType pr and nickName pr`, `and(and(pr(title),pr(userType)),pr(nickName))`},

		// Typed values.
		{cat.User, `active eq true`, `eq(active,bool:true)`},
		{cat.User, `active ne false`, `ne(active,bool:false)`},
		{cat.User, brg + `:pendingActions gt 3`, `gt(` + brg + `:pendingActions,int64:3)`},
		{cat.User, brg + `:pendingActions le -1`, `le(` + brg + `:pendingActions,int64:-1)`},
		{cat.User, `meta.created gt "2026-01-15T09:30:00+01:00"`, `gt(meta.created,2026-01-15T08:30:00Z)`},
		{cat.User, `meta.lastModified le "2026-01-15T09:30:00.123456789Z"`, `le(meta.lastModified,2026-01-15T09:30:00.123456789Z)`},

		// Escapes are decoded.
		{cat.User, `userName eq "a\"b\\c"`, `eq(userName,"a\"b\\c")`},
		{cat.User, `userName eq "50%_off"`, `eq(userName,"50%_off")`},
		{cat.User, `userName eq "\u00C9"`, `eq(userName,"É")`},
		{cat.User, `userName eq "\u00e9"`, `eq(userName,"é")`},
		{cat.User, `userName eq "\\u00e9"`, `eq(userName,"\\u00e9")`},
		{cat.User, `userName eq "a\/b\tc"`, `eq(userName,"a/b\tc")`},
		{cat.User, `userName eq "[x]"`, `eq(userName,"[x]")`},
		{cat.User, `userName eq "]" or userName eq "["`, `or(eq(userName,"]"),eq(userName,"["))`},

		// Multi-valued attributes.
		{cat.User, `emails pr`, `any(emails)`},
		{cat.User, `emails eq "a@x.com"`, `any(emails,eq(emails.value,"a@x.com"))`},
		{cat.User, `emails.value ew ".net"`, `any(emails,ew(emails.value,".net"))`},
		{cat.User, `emails.value pr`, `any(emails,pr(emails.value))`},
		{cat.User, `emails[type eq "work"]`, `any(emails,eq(emails.type,"work"))`},
		{cat.User, `emails[type eq "work" and value co "example"]`, `any(emails,and(eq(emails.type,"work"),co(emails.value,"example")))`},
		{cat.User, `emails[value eq "a" or value eq "b" or value eq "c"]`, `any(emails,or(or(eq(emails.value,"a"),eq(emails.value,"b")),eq(emails.value,"c")))`},
		{cat.User, `emails[not (type eq "work")]`, `any(emails,not(eq(emails.type,"work")))`},
		{cat.User, `emails[type eq "work"].value eq "x"`, `any(emails,and(eq(emails.type,"work"),eq(emails.value,"x")))`},
		{cat.User, `emails[type eq "work"].primary eq true`, `any(emails,and(eq(emails.type,"work"),eq(emails.primary,bool:true)))`},
		{cat.User, `emails[type eq "work"].value pr`, `any(emails,and(eq(emails.type,"work"),pr(emails.value)))`},
		{cat.User, `emails[TYPE eq "work"].VALUE EQ "x"`, `any(emails,and(eq(emails.type,"work"),eq(emails.value,"x")))`},
		{cat.User, `emails[type eq "work"].value eq "x" or userName pr`, `or(any(emails,and(eq(emails.type,"work"),eq(emails.value,"x"))),pr(userName))`},
		{cat.User, `(emails[type eq "work"].value eq "x")`, `any(emails,and(eq(emails.type,"work"),eq(emails.value,"x")))`},
		{cat.User, `emails[value eq "]"]`, `any(emails,eq(emails.value,"]"))`},
		{cat.User, `(emails[type eq "work"].primary eq true)`, `any(emails,and(eq(emails.type,"work"),eq(emails.primary,bool:true)))`},
		{cat.User, `urn:ietf:params:scim:schemas:core:2.0:User:emails[type eq "work"]`, `any(emails,eq(emails.type,"work"))`},
		{cat.User, `not (emails[type eq "work"]) and emails[type eq "home"]`, `and(not(any(emails,eq(emails.type,"work"))),any(emails,eq(emails.type,"home")))`},
		{cat.User, `phoneNumbers[type eq "mobile"]`, `any(phoneNumbers,eq(phoneNumbers.type,"mobile"))`},
		{cat.User, `addresses[locality eq "X"]`, `any(addresses,eq(addresses.locality,"X"))`},
		{cat.User, `groups.value eq "g1"`, `any(groups,eq(groups.value,"g1"))`},
		{cat.User, `groups.$ref pr`, `any(groups,pr(groups.$ref))`},

		// Extensions.
		{cat.User, ent + `:employeeNumber eq "42"`, `eq(` + ent + `:employeeNumber,"42")`},
		{cat.User, strings.ToLower(ent) + `:EMPLOYEENUMBER eq "42"`, `eq(` + ent + `:employeeNumber,"42")`},
		{cat.User, `employeeNumber eq "42"`, `eq(` + ent + `:employeeNumber,"42")`},
		{cat.User, ent + `:manager.value eq "m"`, `eq(` + ent + `:manager.value,"m")`},
		{cat.User, brg + `:provisioningState eq "active"`, `eq(` + brg + `:provisioningState,"active")`},

		// Groups.
		{cat.Group, `displayName eq "Admins"`, `eq(displayName,"Admins")`},
		{cat.Group, `members eq "u1"`, `any(members,eq(members.value,"u1"))`},
		{cat.Group, `members[value eq "u1"]`, `any(members,eq(members.value,"u1"))`},
		{cat.Group, `id eq "g1" and members eq "u1"`, `and(eq(id,"g1"),any(members,eq(members.value,"u1")))`},
	}
	for name, parse := range parsers() {
		for _, c := range cases {
			t.Run(name+" "+c.res.Name+" "+c.filter, func(t *testing.T) {
				got, err := parse(c.res, c.filter)
				if err != nil {
					t.Fatalf("error: %v", err)
				}
				if s := show(got); s != c.want {
					t.Errorf("got  %s\nwant %s", s, c.want)
				}
			})
		}
	}
}

func TestParseFilterLimits(t *testing.T) {
	terms := func(n int) string {
		parts := make([]string, n)
		for i := range parts {
			parts[i] = fmt.Sprintf(`userName eq "u%d"`, i)
		}
		return strings.Join(parts, " or ")
	}
	if _, err := query.ParseFilter(cat.User, terms(query.MaxFilterTerms)); err != nil {
		t.Errorf("%d terms: %v", query.MaxFilterTerms, err)
	}
	exact := `userName eq "` + strings.Repeat("x", query.MaxFilterLength-14) + `"`
	if len(exact) != query.MaxFilterLength {
		t.Fatalf("test filter has length %d", len(exact))
	}
	if _, err := query.ParseFilter(cat.User, exact); err != nil {
		t.Errorf("filter of exactly %d characters: %v", query.MaxFilterLength, err)
	}
}

func TestParseFilterErrors(t *testing.T) {
	many := make([]string, query.MaxFilterTerms+1)
	for i := range many {
		many[i] = `title pr`
	}
	manyInBrackets := `emails[` + strings.Repeat(`value eq "x" or `, query.MaxFilterTerms) + `value eq "y"]`
	cases := []struct {
		res    *catalog.Resource
		filter string
		msg    string // the message must contain this
	}{
		{cat.User, `foo eq "x"`, `unknown attribute "foo"`},
		{cat.User, `emails.foo eq "x"`, `unknown attribute "emails.foo"`},
		{cat.User, `urn:example:Bogus:userName eq "x"`, `unknown attribute`},
		{cat.User, `emails[foo eq "x"]`, `has no sub-attribute "foo"`},
		{cat.User, `emails[type eq "work"].foo eq "x"`, `has no sub-attribute "foo"`},
		{cat.User, `emails[value.x eq "x"]`, `plain sub-attribute name`},
		{cat.User, `userName[value eq "x"]`, `not a multi-valued complex attribute`},
		{cat.User, `name[givenName eq "x"]`, `not a multi-valued complex attribute`},
		{cat.User, ent + `:manager[value eq "x"]`, `not a multi-valued complex attribute`},
		{cat.User, `emails.value[type eq "x"]`, `must name a multi-valued attribute`},
		{cat.Group, `emails[type eq "work"]`, `unknown attribute "emails"`},
		{cat.Group, `displayName eq "x" and members.foo eq "y"`, `unknown attribute "members.foo"`},
		{cat.Group, `userName eq "x"`, `unknown attribute "userName"`},

		// Types.
		{cat.User, `active eq "yes"`, `"active" is of type boolean; "yes" is not a valid boolean value`},
		{cat.User, `active eq 1`, `not a valid boolean value`},
		{cat.User, `userName eq 5`, `"userName" is of type string; 5 is not a valid string value`},
		{cat.User, `userName eq true`, `not a valid string value`},
		{cat.User, brg + `:pendingActions gt 1.5`, `1.5 is not a valid integer value`},
		{cat.User, brg + `:pendingActions gt "1"`, `not a valid integer value`},
		{cat.User, `meta.created gt "yesterday"`, `not an RFC 3339 time`},
		{cat.User, `meta.created gt 5`, `not a valid dateTime value`},
		{cat.User, `name eq "x"`, `"name" is complex`},
		{cat.User, `userName eq null`, `null is not a comparison value`},
		{cat.User, `emails[value eq null]`, `null is not a comparison value`},

		// Operators.
		{cat.User, `active gt true`, `operator "gt" cannot be used on "active", which is of type boolean`},
		{cat.User, `active le false`, `operator "le" cannot be used on "active"`},
		{cat.User, `active co "t"`, `operator "co" cannot be used on "active"`},
		{cat.User, `meta.created sw "2026"`, `operator "sw" cannot be used on "meta.created"`},
		{cat.User, `emails[primary gt true]`, `operator "gt" cannot be used on "emails.primary"`},
		{cat.User, `userName xx "a"`, `cannot parse`},

		// Syntax.
		{cat.User, `userName eq "abc`, `string starting at position 13 is never closed`},
		{cat.User, `emails[type eq "work"`, `'[' at position 7 is never closed`},
		{cat.User, `emails[type eq "work"]]`, `unbalanced ']'`},
		{cat.User, `userName eq "a"]`, `unbalanced ']'`},
		{cat.User, `[type eq "x"]`, `must follow an attribute name`},
		{cat.User, `emails[type[value eq "x"]]`, `cannot be nested`},
		{cat.User, `(userName eq "a"`, `cannot parse`},
		{cat.User, `userName eq "a")`, `cannot parse`},
		{cat.User, `userName eq "a" and`, `cannot parse`},
		{cat.User, `userName eq`, `cannot parse`},
		{cat.User, `userName "a"`, `cannot parse`},
		{cat.User, `userName eq 'a'`, `cannot parse`},
		{cat.User, `userName eq "\x"`, `cannot parse`},
		{cat.User, `emails[]`, `cannot parse`},
		{cat.User, `emails[type eq "work"].value`, `expected an operator`},
		{cat.User, `emails[type eq "work"].value eq`, `expected a value`},
		{cat.User, `emails[type eq "work"]. eq "x"`, `expected a sub-attribute name`},
		{cat.User, `emails[type eq "work"].value eq "x`, `never closed`},
		{cat.User, `scimbridgeValuePath0 pr`, `unknown attribute`},

		// Attributes that may not be filtered on.
		{cat.User, `password eq "x"`, `"password" cannot be used in a filter`},
		{cat.User, `password pr`, `"password" cannot be used in a filter`},
		{cat.User, `userName pr or not (password pr)`, `"password" cannot be used in a filter`},

		// Limits.
		{cat.User, `userName eq "` + strings.Repeat("x", query.MaxFilterLength) + `"`, `longer than 4096 characters`},
		{cat.User, strings.Join(many, " or "), `more than 64 comparisons`},
		{cat.User, manyInBrackets, `more than 64 comparisons`},
	}
	for name, parse := range parsers() {
		for _, c := range cases {
			t.Run(name+" "+c.filter[:min(len(c.filter), 80)], func(t *testing.T) {
				got, err := parse(c.res, c.filter)
				if err == nil {
					t.Fatalf("no error; parsed as %s", show(got))
				}
				var qe *query.Error
				if !errors.As(err, &qe) {
					t.Fatalf("error %v (%T) is not a *query.Error", err, err)
				}
				if qe.Param != "filter" {
					t.Errorf("Param = %q, want filter", qe.Param)
				}
				if !strings.Contains(qe.Msg, c.msg) {
					t.Errorf("message %q does not contain %q", qe.Msg, c.msg)
				}
				if got != nil {
					t.Errorf("an expression came back with the error: %s", show(got))
				}
			})
		}
	}
}
