package sqlite_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// FuzzFilterSQL feeds arbitrary filters through the whole filter path of
// a list request: parse, translate to SQL, run. A filter is either
// refused with an error the SCIM layer answers as invalidFilter, or it
// becomes SQL whose only values are bound parameters, which SQLite
// runs, which finds only the app's own resources, and whose negation
// finds exactly the others (comparisons are two-valued, as SCIM's "not"
// needs).
func FuzzFilterSQL(f *testing.F) {
	for _, seed := range []string{
		`userName eq "alice@example.com"`,
		`userName eq "x' OR 1=1 --"`,
		`displayName co "'); DROP TABLE scim_users; --"`,
		`emails[type eq "work" and value ew "@example.com"]`,
		`emails[value sw "bob"].value pr or not (title pr)`,
		`name.familyName ge "M" and active eq true`,
		`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "u1"`,
		`urn:scimbridge:params:scim:schemas:extension:2.0:User:pendingActions gt 1`,
		`meta.lastModified gt "2026-01-01T00:00:00Z"`,
		`groups[display eq "Sales"] and not (phoneNumbers pr)`,
		`members[value eq "u1" or display co "li"]`,
		`title sw "" and externalId ne "?"`,
	} {
		f.Add(seed)
	}
	db := openAt(f, filepath.Join(f.TempDir(), "fuzz.db"))
	f.Cleanup(func() { db.Close() })
	seedDirectory(f, db)
	cat := catalog.New()
	paths := jsonPaths(cat)
	baseline := map[string][]string{}
	for _, res := range []*catalog.Resource{cat.User, cat.Group} {
		list, _, _, err := sqlite.ListSQL(res.Name, "acme", nil, nil, store.Load{})
		if err != nil {
			f.Fatal(err)
		}
		baseline[res.Name], _ = literals(list)
	}
	f.Fuzz(func(t *testing.T, filter string) {
		for _, res := range []*catalog.Resource{cat.User, cat.Group} {
			expr, err := query.ParseFilter(res, filter)
			if err != nil {
				var qe *query.Error
				if !errors.As(err, &qe) || qe.Param != "filter" || qe.Msg == "" {
					t.Fatalf("%s %q: parse error %T %v is not an invalidFilter", res.Name, filter, err, err)
				}
				continue
			}
			if expr == nil {
				continue // no filter
			}
			list, count, args, err := sqlite.ListSQL(res.Name, "acme", expr, nil, store.Load{})
			if err != nil {
				checkUnsupported(t, res, filter, err)
				if _, lerr := listIDs(t, db, res, expr); !errors.As(lerr, new(*store.UnsupportedFilterError)) {
					t.Fatalf("%s %q: ListSQL refused (%v) but the list said %v", res.Name, filter, err, lerr)
				}
				continue
			}
			for _, q := range []struct {
				sql   string
				extra int // LIMIT and OFFSET
			}{{count, 0}, {list, 2}} {
				lits, marks := literals(q.sql)
				if marks != len(args)+q.extra {
					t.Fatalf("%s %q: %d placeholders for %d arguments in\n%s", res.Name, filter, marks, len(args)+q.extra, q.sql)
				}
				for _, l := range lits {
					if !slices.Contains(baseline[res.Name], l) && !fixedLiteral(l) && !paths[l] {
						t.Fatalf("%s %q: literal '%s' in the SQL:\n%s", res.Name, filter, l, q.sql)
					}
				}
			}
			for _, a := range args {
				switch a.(type) {
				case string, int, int64, float64:
				default:
					t.Fatalf("%s %q: argument %T %v", res.Name, filter, a, a)
				}
			}
			found, err := listIDs(t, db, res, expr)
			if err != nil {
				t.Fatalf("%s %q: translated, but the list failed: %v\nWHERE of %s", res.Name, filter, err, count)
			}
			others, err := listIDs(t, db, res, &query.Not{X: expr})
			if err != nil {
				t.Fatalf("%s not (%q): %v", res.Name, filter, err)
			}
			all := append(slices.Clone(found), others...)
			slices.Sort(all)
			if want := acmeIDs(res); !slices.Equal(all, want) {
				t.Fatalf("%s %q: matches %v and its negation %v; together they must be %v", res.Name, filter, found, others, want)
			}
		}
	})
}

func checkUnsupported(t *testing.T, res *catalog.Resource, filter string, err error) {
	t.Helper()
	var ue *store.UnsupportedFilterError
	if !errors.As(err, &ue) || ue.Msg == "" {
		t.Fatalf("%s %q: translation error %T %v is not an invalidFilter", res.Name, filter, err, err)
	}
}

// listIDs lists the ids in app acme that match f.
func listIDs(t *testing.T, db *sqlite.DB, res *catalog.Resource, f query.Expr) ([]string, error) {
	t.Helper()
	q := store.List{Filter: f, Count: 100}
	var ids []string
	if res.Name == "User" {
		page, err := db.ListUsers(t.Context(), "acme", q)
		if err != nil {
			return nil, err
		}
		for _, u := range page.Resources {
			ids = append(ids, u.ID)
		}
	} else {
		page, err := db.ListGroups(t.Context(), "acme", q)
		if err != nil {
			return nil, err
		}
		for _, g := range page.Resources {
			ids = append(ids, g.ID)
		}
	}
	return ids, nil
}

// The fuzzed directory: acme's resources, and another app's with the
// same names, which no acme filter may find.
var (
	fuzzUsers = []struct{ id, userName, attrs string }{
		{"u1", "alice@example.com", `{"userName":"alice@example.com","active":true,"title":"Engineer",
			"name":{"givenName":"Alice","familyName":"Martin"},
			"emails":[{"value":"alice@example.com","type":"work","primary":true},{"value":"a@home.example","type":"home"}],
			"phoneNumbers":[{"value":"+1 555","type":"work"}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"7","manager":{"value":"u2"}}}`},
		{"u2", "bob@example.com", `{"userName":"bob@example.com","active":false,"name":{"familyName":"O'Brien"},
			"emails":[{"value":"bob@example.com","type":"work"}]}`},
		{"u3", "Zoë@example.com", `{"userName":"Zoë@example.com","title":"","emails":[]}`},
	}
	fuzzGroups = []struct {
		id, name string
		members  []string
	}{
		{"g1", "Sales", []string{"u1", "u2"}},
		{"g2", "Eng'; --", nil},
	}
)

func acmeIDs(res *catalog.Resource) []string {
	var ids []string
	if res.Name == "User" {
		for _, u := range fuzzUsers {
			ids = append(ids, u.id)
		}
	} else {
		for _, g := range fuzzGroups {
			ids = append(ids, g.id)
		}
	}
	slices.Sort(ids)
	return ids
}

func seedDirectory(t testing.TB, db *sqlite.DB) {
	ctx := t.Context()
	err := db.Update(ctx, func(tx store.Tx) error {
		for _, app := range []string{"acme", "other"} {
			for _, u := range fuzzUsers {
				su := &store.User{ID: app + "-" + u.id, UserName: u.userName, Attributes: []byte(u.attrs)}
				if app == "acme" {
					su.ID = u.id
				}
				if err := tx.CreateUser(ctx, app, su); err != nil {
					return fmt.Errorf("user %s: %w", u.id, err)
				}
			}
			for _, g := range fuzzGroups {
				sg := &store.Group{ID: app + "-" + g.id, DisplayName: g.name, Attributes: []byte(fmt.Sprintf(`{"displayName":%q}`, g.name))}
				members := make([]string, len(g.members))
				for i, m := range g.members {
					members[i] = app + "-" + m
				}
				if app == "acme" {
					sg.ID, members = g.id, g.members
				}
				if err := tx.CreateGroup(ctx, app, sg, members); err != nil {
					return fmt.Errorf("group %s: %w", g.id, err)
				}
			}
		}
		return tx.SetUserState(ctx, "acme", "u1", store.UserState{ProvisioningState: "active", PendingActions: 2})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// literals returns the single-quoted literals of a statement and the
// number of ? placeholders outside them.
func literals(sql string) (lits []string, marks int) {
	for i := 0; i < len(sql); i++ {
		switch sql[i] {
		case '?':
			marks++
		case '\'':
			var b strings.Builder
			for i++; i < len(sql); i++ {
				if sql[i] == '\'' {
					if i+1 < len(sql) && sql[i+1] == '\'' {
						b.WriteByte('\'')
						i++
						continue
					}
					break
				}
				b.WriteByte(sql[i])
			}
			lits = append(lits, b.String())
		}
	}
	return lits, marks
}

// fixedLiteral reports whether l is one of the constants the filter
// translation writes itself.
func fixedLiteral(l string) bool {
	return slices.Contains([]string{"", "{}", "[]", "direct", "User", "$.displayName"}, l)
}

// jsonPaths returns every JSON path an attribute of the catalog can have
// in a stored document, as the translation quotes it.
func jsonPaths(cat *catalog.Catalog) map[string]bool {
	paths := map[string]bool{}
	quote := func(names ...string) string {
		return `$."` + strings.Join(names, `"."`) + `"`
	}
	for _, res := range []*catalog.Resource{cat.User, cat.Group} {
		for _, a := range res.Attributes() {
			top := []string{a.Name}
			if a.Extension() {
				top = []string{a.Schema, a.Name}
			}
			paths[quote(top...)] = true
			for _, sub := range a.Sub {
				paths[quote(append(slices.Clone(top), sub.Name)...)] = true
				paths[quote(sub.Name)] = true // inside json_each
			}
		}
	}
	return paths
}
