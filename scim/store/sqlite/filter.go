package sqlite

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// kind says how a column's values compare.
type kind int

const (
	text kind = iota
	boolean
	number
	timestamp // fixed-width UTC text
	jsonValue // a JSON object or array; only "pr" applies
)

// column is the SQL for one attribute in a filter or sort.
type column struct {
	sql  string
	kind kind
	// folded columns hold store.Fold of the value: compare them with a
	// folded argument.
	folded bool
	// caseless columns hold the value as sent; fold both sides.
	caseless bool
	notNull  bool
}

// cmp is the expression to compare: caseless text goes through scim_fold.
func (c column) cmp() string {
	if c.caseless {
		return "scim_fold(" + c.sql + ")"
	}
	return c.sql
}

// table describes how one resource type is stored.
type table struct {
	alias string
	// columnOf maps a single-valued attribute to SQL.
	columnOf func(a *catalog.Attribute) (column, error)
	// anyOf renders "some element of a matches f".
	anyOf func(b *builder, a *catalog.Attribute, f query.Expr) error
}

// The two stored resource types. Read-only after initialisation.
var (
	users  = &table{alias: "u", columnOf: userColumn, anyOf: userAny}
	groups = &table{alias: "g", columnOf: groupColumn, anyOf: groupAny}
)

func unsupported(format string, args ...any) error {
	return &store.UnsupportedFilterError{Msg: fmt.Sprintf(format, args...)}
}

// translate renders a filter as a WHERE clause for t, scoped to app.
func translate(t *table, app string, f query.Expr) (string, []any, error) {
	b := &builder{app: app, args: []any{app}}
	if t.keyedBySubquery(f) {
		// Without statistics SQLite takes "app = ?" for selective and
		// walks every row of the app, testing each against the subquery.
		// The subquery is scoped to the app itself, so the app test is
		// redundant here: mark it as nearly always true, and the planner
		// looks the subquery's rows up by primary key instead.
		b.sql.WriteString("likelihood(" + t.alias + ".app = ?, 0.9375)")
	} else {
		b.sql.WriteString(t.alias + ".app = ?")
	}
	if f == nil {
		return b.sql.String(), b.args, nil
	}
	b.sql.WriteString(" AND (")
	if err := b.expr(t, f); err != nil {
		return "", nil, err
	}
	b.sql.WriteString(")")
	return b.sql.String(), b.args, nil
}

// keyedBySubquery reports whether f, or one of its top-level conjuncts, is
// a value path over a side table (emails, group membership), which
// userAny and groupAny render as "pk IN (subquery on an index)".
func (t *table) keyedBySubquery(f query.Expr) bool {
	switch f := f.(type) {
	case *query.And:
		return t.keyedBySubquery(f.Left) || t.keyedBySubquery(f.Right)
	case *query.Any:
		if f.Filter == nil {
			return false
		}
		if t == users {
			return f.Attr.Is("emails") || f.Attr.Is("groups")
		}
		return t == groups && f.Attr.Is("members")
	}
	return false
}

// orderBy renders the ORDER BY list: the sort attribute with missing values
// last (first when descending), then creation order, which keeps paging
// stable.
func orderBy(t *table, s *query.Sort) (string, error) {
	pk := t.alias + ".pk"
	if s == nil {
		return pk, nil
	}
	c, err := t.columnOf(s.Attr)
	if err != nil {
		return "", err
	}
	if c.kind == jsonValue {
		return "", unsupported("cannot sort on %q", s.Attr.Path())
	}
	expr := c.cmp()
	if s.Descending {
		return fmt.Sprintf("(%s IS NULL) DESC, %s DESC, %s", expr, expr, pk), nil
	}
	return fmt.Sprintf("(%s IS NULL), %s, %s", expr, expr, pk), nil
}

type builder struct {
	app  string
	sql  strings.Builder
	args []any
}

// scoped writes a subquery head that ends in "app = ?" for the builder's
// app. The app is a parameter, not the outer row's column, so that
// "pk IN (subquery)" stays uncorrelated and runs once, off an index.
func (b *builder) scoped(head string) {
	b.sql.WriteString(head)
	b.args = append(b.args, b.app)
}

func (b *builder) expr(t *table, e query.Expr) error {
	switch e := e.(type) {
	case *query.And:
		return b.binary(t, e.Left, " AND ", e.Right)
	case *query.Or:
		return b.binary(t, e.Left, " OR ", e.Right)
	case *query.Not:
		b.sql.WriteString("NOT (")
		if err := b.expr(t, e.X); err != nil {
			return err
		}
		b.sql.WriteString(")")
		return nil
	case *query.Compare:
		c, err := t.columnOf(e.Attr)
		if err != nil {
			return err
		}
		return b.compare(c, e)
	case *query.Any:
		return t.anyOf(b, e.Attr, e.Filter)
	}
	return unsupported("unsupported filter node %T", e)
}

func (b *builder) binary(t *table, l query.Expr, op string, r query.Expr) error {
	b.sql.WriteString("(")
	if err := b.expr(t, l); err != nil {
		return err
	}
	b.sql.WriteString(op)
	if err := b.expr(t, r); err != nil {
		return err
	}
	b.sql.WriteString(")")
	return nil
}

// element renders a filter over the sub-attributes of one element.
func (b *builder) element(e query.Expr, columnOf func(*catalog.Attribute) (column, error)) error {
	t := &table{columnOf: columnOf, anyOf: func(*builder, *catalog.Attribute, query.Expr) error {
		return unsupported("value paths cannot be nested")
	}}
	return b.expr(t, e)
}

// compare renders one comparison. Every comparison is two-valued (true or
// false, never NULL), so NOT works as SCIM means it for absent attributes.
func (b *builder) compare(c column, e *query.Compare) error {
	x := c.cmp()
	guard := func() {
		if !c.notNull {
			b.sql.WriteString("(" + x + " IS NOT NULL AND ")
		} else {
			b.sql.WriteString("(")
		}
	}
	if e.Op == query.Pr {
		switch c.kind {
		case text:
			b.sql.WriteString("(" + x + " IS NOT NULL AND " + x + " <> '')")
		case jsonValue:
			b.sql.WriteString("(" + x + " IS NOT NULL AND " + x + " NOT IN ('{}', '[]'))")
		default:
			b.sql.WriteString("(" + x + " IS NOT NULL)")
		}
		return nil
	}
	if c.kind == jsonValue {
		return unsupported("%q can only be tested with pr", e.Attr.Path())
	}
	arg, err := b.arg(c, e)
	if err != nil {
		return err
	}
	switch e.Op {
	case query.Eq:
		guard()
		b.sql.WriteString(x + " = ?)")
	case query.Ne:
		b.sql.WriteString("(" + x + " IS NULL OR " + x + " <> ?)")
	case query.Co:
		guard()
		b.sql.WriteString("instr(" + x + ", ?) > 0)")
	case query.Sw, query.Ew:
		s, _ := arg.(string)
		n := utf8.RuneCountInString(s)
		guard()
		if n == 0 {
			// Every present value starts and ends with "".
			b.sql.WriteString("1)")
			return nil
		}
		if e.Op == query.Sw {
			b.sql.WriteString("substr(" + x + ", 1, " + strconv.Itoa(n) + ") = ?)")
		} else {
			b.sql.WriteString("substr(" + x + ", -" + strconv.Itoa(n) + ") = ?)")
		}
	case query.Gt, query.Ge, query.Lt, query.Le:
		guard()
		b.sql.WriteString(x + " " + map[query.Op]string{query.Gt: ">", query.Ge: ">=", query.Lt: "<", query.Le: "<="}[e.Op] + " ?)")
	default:
		return unsupported("unsupported operator %q", e.Op)
	}
	b.args = append(b.args, arg)
	return nil
}

// arg converts a comparison value to what the column holds.
func (b *builder) arg(c column, e *query.Compare) (any, error) {
	switch v := e.Value.(type) {
	case string:
		if c.kind != text {
			break
		}
		if c.folded || c.caseless {
			return store.Fold(v), nil
		}
		return v, nil
	case bool:
		if c.kind != boolean {
			break
		}
		if v {
			return 1, nil
		}
		return 0, nil
	case int64, float64:
		if c.kind == number {
			return v, nil
		}
	case time.Time:
		if c.kind == timestamp {
			return formatTime(v), nil
		}
	}
	return nil, unsupported("cannot compare %q with %v", e.Attr.Path(), e.Value)
}

// jsonColumn is a value inside a JSON document column.
func jsonColumn(doc string, a *catalog.Attribute, path string) column {
	c := column{sql: "json_extract(" + doc + ", '" + path + "')"}
	switch a.Type {
	case catalog.Boolean:
		c.kind = boolean
	case catalog.Integer, catalog.Decimal:
		c.kind = number
	case catalog.Complex:
		c.kind = jsonValue
	case catalog.DateTime:
		// Sent by the IdP in any RFC 3339 form; only presence and equality
		// of the text are meaningful without a parse.
		c.kind = text
	default:
		c.kind = text
		c.caseless = !a.CaseExact
	}
	return c
}

// attrJSONPath is the path of a single-valued attribute in a resource's
// attrs document.
func attrJSONPath(a *catalog.Attribute) string {
	var names []string
	top := a.Top()
	if top.Extension() {
		names = append(names, top.Schema)
	}
	names = append(names, top.Name)
	if a.Parent != nil {
		names = append(names, a.Name)
	}
	return jsonPath(names...)
}

func metaColumn(alias string, a *catalog.Attribute) (column, error) {
	switch a.Name {
	case "created":
		return column{sql: alias + ".created", kind: timestamp, notNull: true}, nil
	case "lastModified":
		return column{sql: alias + ".modified", kind: timestamp, notNull: true}, nil
	}
	return column{}, unsupported("filtering on %q is not supported", a.Path())
}

func userColumn(a *catalog.Attribute) (column, error) {
	top := a.Top()
	switch {
	case top.Is("meta") && a.Parent != nil:
		return metaColumn("u", a)
	case a.Is("id"):
		return column{sql: "u.id", kind: text, notNull: true}, nil
	case a.Is("externalId"):
		return column{sql: "u.external_id", kind: text}, nil
	case a.Is("userName"):
		return column{sql: "u.user_name_fold", kind: text, folded: true, notNull: true}, nil
	case top.Schema == catalog.BridgeUserSchema:
		return bridgeColumn(a)
	case top.MultiValued:
		return column{}, unsupported("%q is multi-valued", a.Path())
	}
	return jsonColumn("u.attrs", a, attrJSONPath(a)), nil
}

func bridgeColumn(a *catalog.Attribute) (column, error) {
	state := func(col string) string {
		return "(SELECT s." + col + " FROM scim_user_state s WHERE s.user_pk = u.pk)"
	}
	switch a.Name {
	case "provisioningState":
		return column{sql: state("provisioning_state"), kind: text}, nil
	case "pendingActions":
		return column{sql: state("pending_actions"), kind: number}, nil
	case "lastLogin":
		return column{sql: state("last_login"), kind: timestamp}, nil
	}
	return column{}, unsupported("filtering on %q is not supported", a.Path())
}

func groupColumn(a *catalog.Attribute) (column, error) {
	top := a.Top()
	switch {
	case top.Is("meta") && a.Parent != nil:
		return metaColumn("g", a)
	case a.Is("id"):
		return column{sql: "g.id", kind: text, notNull: true}, nil
	case a.Is("externalId"):
		return column{sql: "g.external_id", kind: text}, nil
	case a.Is("displayName"):
		return column{sql: "g.display_name_fold", kind: text, folded: true, notNull: true}, nil
	case top.MultiValued:
		return column{}, unsupported("%q is multi-valued", a.Path())
	}
	return jsonColumn("g.attrs", a, attrJSONPath(a)), nil
}

// userAny renders "some element of the user's multi-valued attribute a
// matches f". Emails and groups are in indexed tables; the rest are read
// from the attrs document.
func userAny(b *builder, a *catalog.Attribute, f query.Expr) error {
	switch {
	case a.Is("emails"):
		if f == nil {
			b.sql.WriteString("EXISTS (SELECT 1 FROM scim_user_emails e WHERE e.user_pk = u.pk)")
			return nil
		}
		b.scoped("u.pk IN (SELECT e.user_pk FROM scim_user_emails e WHERE e.app = ? AND (")
		if err := b.element(f, emailColumn); err != nil {
			return err
		}
		b.sql.WriteString("))")
		return nil
	case a.Is("groups"):
		if f == nil {
			b.sql.WriteString("EXISTS (SELECT 1 FROM scim_members m WHERE m.user_pk = u.pk)")
			return nil
		}
		b.scoped("u.pk IN (SELECT m.user_pk FROM scim_members m JOIN scim_groups g2 ON g2.pk = m.group_pk WHERE g2.app = ? AND (")
		if err := b.element(f, userGroupColumn); err != nil {
			return err
		}
		b.sql.WriteString("))")
		return nil
	}
	return jsonAny(b, "u.attrs", a, f)
}

func groupAny(b *builder, a *catalog.Attribute, f query.Expr) error {
	if !a.Is("members") {
		return jsonAny(b, "g.attrs", a, f)
	}
	if f == nil {
		b.sql.WriteString("EXISTS (SELECT 1 FROM scim_members m WHERE m.group_pk = g.pk)")
		return nil
	}
	b.scoped("g.pk IN (SELECT m.group_pk FROM scim_members m JOIN scim_users mu ON mu.pk = m.user_pk WHERE mu.app = ? AND (")
	if err := b.element(f, memberColumn); err != nil {
		return err
	}
	b.sql.WriteString("))")
	return nil
}

func jsonAny(b *builder, doc string, a *catalog.Attribute, f query.Expr) error {
	path := attrJSONPath(a)
	if f == nil {
		// json_array_length is NULL when the attribute is absent; coalesce
		// keeps the test two-valued, so that "not (phoneNumbers pr)"
		// matches users without phone numbers.
		b.sql.WriteString("(coalesce(json_array_length(" + doc + ", '" + path + "'), 0) > 0)")
		return nil
	}
	b.sql.WriteString("EXISTS (SELECT 1 FROM json_each(" + doc + ", '" + path + "') j WHERE ")
	err := b.element(f, func(sub *catalog.Attribute) (column, error) {
		return jsonColumn("j.value", sub, jsonPath(sub.Name)), nil
	})
	if err != nil {
		return err
	}
	b.sql.WriteString(")")
	return nil
}

func emailColumn(a *catalog.Attribute) (column, error) {
	switch a.Name {
	case "value":
		return column{sql: "e.value_fold", kind: text, folded: true}, nil
	case "type":
		return column{sql: "e.type", kind: text, caseless: true}, nil
	case "display":
		return column{sql: "e.display", kind: text, caseless: true}, nil
	case "primary":
		return column{sql: "e.is_primary", kind: boolean, notNull: true}, nil
	}
	return column{}, unsupported("filtering on %q is not supported", a.Path())
}

// Resource ids are lower-case UUIDs, so an id column already holds its
// folded form; the value sub-attributes are caseExact false in the schema.
func userGroupColumn(a *catalog.Attribute) (column, error) {
	switch a.Name {
	case "value":
		return column{sql: "g2.id", kind: text, folded: true, notNull: true}, nil
	case "display":
		return column{sql: "g2.display_name_fold", kind: text, folded: true, notNull: true}, nil
	case "type":
		return column{sql: "'direct'", kind: text, caseless: true, notNull: true}, nil
	}
	return column{}, unsupported("filtering on %q is not supported", a.Path())
}

func memberColumn(a *catalog.Attribute) (column, error) {
	switch a.Name {
	case "value":
		return column{sql: "mu.id", kind: text, folded: true, notNull: true}, nil
	case "display":
		return column{sql: "coalesce(nullif(json_extract(mu.attrs, '$.displayName'), ''), mu.user_name)", kind: text, caseless: true, notNull: true}, nil
	case "type":
		return column{sql: "'User'", kind: text, caseless: true, notNull: true}, nil
	}
	return column{}, unsupported("filtering on %q is not supported", a.Path())
}
