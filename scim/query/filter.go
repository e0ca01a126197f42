package query

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	filter "github.com/scim2/filter-parser/v2"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Limits that keep a hostile filter from turning into an expensive query.
const (
	MaxFilterLength = 4096
	MaxFilterTerms  = 64
)

// placeholder names stand in for bracketed value paths while the rest of
// the filter goes through filter-parser; no SCIM schema uses the prefix.
const placeholder = "scimbridgeValuePath"

// ParseFilter parses and validates a SCIM filter against a resource type.
// An empty filter returns nil, nil.
//
// filter-parser's grammar cannot express a comparison on a value path's
// sub-attribute (`emails[type eq "work"].value eq "x"`, which Entra sends)
// and allows at most two terms inside brackets. So bracketed value paths are
// lifted out first, each part is parsed on its own with filter-parser, and
// the pieces are joined again in the validated tree.
func ParseFilter(res *catalog.Resource, raw string) (Expr, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, nil
	}
	expr, _, err := parse(res, raw, false)
	return expr, err
}

// parse parses a trimmed, non-empty filter. With template set, string
// comparison values become numbered slots (see Filters) and the number of
// slots is returned.
func parse(res *catalog.Resource, raw string, template bool) (Expr, int, error) {
	if len(raw) > MaxFilterLength {
		return nil, 0, filterErr("the filter is longer than %d characters", MaxFilterLength)
	}
	if strings.Contains(strings.ToLower(withoutStrings(raw)), strings.ToLower(placeholder)) {
		return nil, 0, filterErr("unknown attribute in filter")
	}
	outer, paths, err := liftValuePaths(upperHexEscapes(raw))
	if err != nil {
		return nil, 0, err
	}
	ast, err := filter.ParseFilterNumber([]byte(outer))
	if err != nil {
		return nil, 0, syntaxErr(raw)
	}
	c := converter{res: res, paths: paths, template: template}
	expr, err := c.top(ast)
	if err != nil {
		return nil, 0, err
	}
	if c.terms > MaxFilterTerms {
		return nil, 0, filterErr("the filter has more than %d comparisons", MaxFilterTerms)
	}
	return expr, c.slots, nil
}

func filterErr(format string, args ...any) *Error {
	return &Error{Param: "filter", Msg: fmt.Sprintf(format, args...)}
}

func syntaxErr(raw string) *Error {
	return filterErr(`cannot parse %q: expected comparisons such as userName eq "alice@example.com", joined with and/or/not and grouped with parentheses`, raw)
}

// ElementOptions tune ParseElementFilter.
type ElementOptions struct {
	// StringBooleans reads "True" and "False" compared with a boolean
	// sub-attribute as booleans.
	StringBooleans bool
}

// ParseElementFilter parses the filter inside a value path, whose
// attribute names are sub-attributes of parent: the `type eq "work"` of
// emails[type eq "work"]. Unlike filter-parser's own value paths, any
// number of terms and parentheses are allowed.
func ParseElementFilter(parent *catalog.Attribute, raw string, opts ElementOptions) (Expr, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, filterErr("%s[ ] needs a filter", parent.Path())
	}
	if len(raw) > MaxFilterLength {
		return nil, filterErr("the filter is longer than %d characters", MaxFilterLength)
	}
	if strings.ContainsAny(withoutStrings(raw), "[]") {
		return nil, filterErr("value paths cannot be nested")
	}
	ast, err := filter.ParseFilterNumber([]byte(upperHexEscapes(raw)))
	if err != nil {
		return nil, syntaxErr(raw)
	}
	c := converter{stringBooleans: opts.StringBooleans}
	expr, err := c.element(parent, ast)
	if err != nil {
		return nil, err
	}
	if c.terms > MaxFilterTerms {
		return nil, filterErr("the filter has more than %d comparisons", MaxFilterTerms)
	}
	return expr, nil
}

// liftedPath is one bracketed value path taken out of a filter:
// attr[inner], or attr[inner].sub op value.
type liftedPath struct {
	attr, inner   string
	sub, op, vals string
	text          string
}

func liftValuePaths(s string) (string, []liftedPath, error) {
	var (
		out   strings.Builder
		paths []liftedPath
		last  int
	)
	for i := 0; i < len(s); {
		switch s[i] {
		case '"':
			end, err := skipString(s, i)
			if err != nil {
				return "", nil, err
			}
			i = end
			continue
		case ']':
			return "", nil, filterErr("unbalanced ']' at position %d", i+1)
		case '[':
		default:
			i++
			continue
		}
		start := i
		for start > 0 && isPathChar(s[start-1]) {
			start--
		}
		if start == i {
			return "", nil, filterErr("'[' at position %d must follow an attribute name", i+1)
		}
		closing := i + 1
		for closing < len(s) && s[closing] != ']' {
			switch s[closing] {
			case '"':
				end, err := skipString(s, closing)
				if err != nil {
					return "", nil, err
				}
				closing = end
			case '[':
				return "", nil, filterErr("value paths cannot be nested (position %d)", closing+1)
			default:
				closing++
			}
		}
		if closing >= len(s) {
			return "", nil, filterErr("'[' at position %d is never closed", i+1)
		}
		lp := liftedPath{attr: s[start:i], inner: s[i+1 : closing]}
		end := closing + 1
		if end < len(s) && s[end] == '.' {
			var err error
			end, err = liftSubComparison(s, end, &lp)
			if err != nil {
				return "", nil, err
			}
		}
		lp.text = s[start:end]
		out.WriteString(s[last:start])
		fmt.Fprintf(&out, "%s%d pr", placeholder, len(paths))
		paths = append(paths, lp)
		last, i = end, end
	}
	out.WriteString(s[last:])
	return out.String(), paths, nil
}

// liftSubComparison reads ".sub op value" after a closing bracket at dot.
func liftSubComparison(s string, dot int, lp *liftedPath) (int, error) {
	k := dot + 1
	for k < len(s) && isNameChar(s[k]) {
		k++
	}
	lp.sub = s[dot+1 : k]
	if lp.sub == "" {
		return 0, filterErr("expected a sub-attribute name after '].' at position %d", dot+1)
	}
	opStart := skipSpaces(s, k)
	if opStart == k {
		return 0, filterErr("expected an operator after %q", s[:k])
	}
	opEnd := opStart
	for opEnd < len(s) && isLetter(s[opEnd]) {
		opEnd++
	}
	lp.op = strings.ToLower(s[opStart:opEnd])
	if lp.op == "" {
		return 0, filterErr("expected an operator after %q", s[:k])
	}
	if lp.op == string(Pr) {
		return opEnd, nil
	}
	valStart := skipSpaces(s, opEnd)
	if valStart == opEnd || valStart >= len(s) {
		return 0, filterErr("expected a value after %q", s[:opEnd])
	}
	if s[valStart] == '"' {
		end, err := skipString(s, valStart)
		if err != nil {
			return 0, err
		}
		lp.vals = s[valStart:end]
		return end, nil
	}
	valEnd := valStart
	for valEnd < len(s) && s[valEnd] != ' ' && s[valEnd] != ')' {
		valEnd++
	}
	lp.vals = s[valStart:valEnd]
	return valEnd, nil
}

// upperHexEscapes upper-cases the hex digits of \uXXXX escapes inside
// string literals. JSON, whose strings SCIM filters use, allows both cases
// ("\u00e9", as Go and JavaScript encoders write it); filter-parser's
// grammar only "A"-"F". The length is kept, so positions in errors hold.
func upperHexEscapes(s string) string {
	if !strings.Contains(s, `\u`) {
		return s
	}
	b := []byte(s)
	inString := false
	for i := 0; i < len(b); i++ {
		switch {
		case !inString:
			inString = b[i] == '"'
		case b[i] == '"':
			inString = false
		case b[i] == '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				for k := i + 2; k < i+6 && k < len(b); k++ {
					if b[k] >= 'a' && b[k] <= 'f' {
						b[k] -= 'a' - 'A'
					}
				}
			}
			i++ // the escaped character
		}
	}
	return string(b)
}

// withoutStrings returns s with the contents of its string literals
// removed, or s itself when a literal is never closed.
func withoutStrings(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '"' {
			b.WriteByte(s[i])
			i++
			continue
		}
		end, err := skipString(s, i)
		if err != nil {
			return s
		}
		b.WriteString(`""`)
		i = end
	}
	return b.String()
}

// skipString returns the index just after the string literal that starts
// at s[i] == '"'.
func skipString(s string, i int) (int, error) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, filterErr("string starting at position %d is never closed", i+1)
}

func skipSpaces(s string, i int) int {
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isNameChar(c byte) bool {
	return isLetter(c) || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '$'
}

// isPathChar also admits the colons and dots of a schema URN prefix.
func isPathChar(c byte) bool { return isNameChar(c) || c == ':' || c == '.' }

// converter turns filter-parser's tree into a validated Expr.
type converter struct {
	res   *catalog.Resource
	paths []liftedPath
	terms int
	// template: string values are slots, numbered in the order the
	// comparisons are met, which is their order in the text.
	template bool
	slots    int
	// stringBooleans reads "True"/"False" compared with a boolean
	// attribute as booleans (Entra ID's roles[primary eq "True"]).
	stringBooleans bool
}

func (c *converter) top(e filter.Expression) (Expr, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return c.logical(e, c.top)
	case *filter.NotExpression:
		x, err := c.top(e.Expression)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case *filter.ValuePath:
		return c.valuePath(e.AttributePath, e.ValueFilter, "", nil, e.String())
	case *filter.AttributeExpression:
		if lp, ok := c.lifted(e); ok {
			return c.liftedPath(lp)
		}
		return c.attrExpr(e)
	}
	return nil, filterErr("unsupported filter construct")
}

func (c *converter) logical(e *filter.LogicalExpression, conv func(filter.Expression) (Expr, error)) (Expr, error) {
	left, err := conv(e.Left)
	if err != nil {
		return nil, err
	}
	right, err := conv(e.Right)
	if err != nil {
		return nil, err
	}
	if e.Operator == filter.AND {
		return &And{Left: left, Right: right}, nil
	}
	return &Or{Left: left, Right: right}, nil
}

func (c *converter) lifted(e *filter.AttributeExpression) (liftedPath, bool) {
	if e.Operator != filter.PR || e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil {
		return liftedPath{}, false
	}
	n, ok := strings.CutPrefix(e.AttributePath.AttributeName, placeholder)
	if !ok {
		return liftedPath{}, false
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= len(c.paths) {
		return liftedPath{}, false
	}
	return c.paths[i], true
}

func (c *converter) liftedPath(lp liftedPath) (Expr, error) {
	path, err := filter.ParseAttrPath([]byte(lp.attr))
	if err != nil {
		return nil, filterErr("%q is not an attribute name", lp.attr)
	}
	inner, err := filter.ParseFilterNumber([]byte(strings.TrimSpace(lp.inner)))
	if err != nil {
		return nil, syntaxErr(lp.inner)
	}
	var sub *filter.AttributeExpression
	if lp.sub != "" {
		text := lp.sub + " " + lp.op
		if lp.vals != "" {
			text += " " + lp.vals
		}
		ae, err := filter.ParseAttrExpNumber([]byte(text))
		if err != nil {
			return nil, syntaxErr(lp.text)
		}
		sub = &ae
	}
	return c.valuePath(path, inner, lp.sub, sub, lp.text)
}

// valuePath builds attr[inner] (and, when sub is given, "… and sub op v" on
// the same element).
func (c *converter) valuePath(path filter.AttributePath, inner filter.Expression, subName string, sub *filter.AttributeExpression, text string) (Expr, error) {
	if path.SubAttribute != nil {
		return nil, filterErr("%q: a value path must name a multi-valued attribute", text)
	}
	attr, ok := c.res.Lookup(path.URI(), path.AttributeName, "")
	if !ok {
		return nil, filterErr("unknown attribute %q", path.String())
	}
	if !attr.MultiValued || attr.Type != catalog.Complex {
		return nil, filterErr("%q is not a multi-valued complex attribute, so it cannot take [ ]", attr.Path())
	}
	f, err := c.element(attr, inner)
	if err != nil {
		return nil, err
	}
	if sub != nil {
		cmp, err := c.elementCompare(attr, sub)
		if err != nil {
			return nil, err
		}
		f = &And{Left: f, Right: cmp}
	}
	return &Any{Attr: attr, Filter: f}, nil
}

// element converts a filter whose attribute names are sub-attributes of
// parent.
func (c *converter) element(parent *catalog.Attribute, e filter.Expression) (Expr, error) {
	switch e := e.(type) {
	case *filter.LogicalExpression:
		return c.logical(e, func(x filter.Expression) (Expr, error) { return c.element(parent, x) })
	case *filter.NotExpression:
		x, err := c.element(parent, e.Expression)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	case *filter.AttributeExpression:
		return c.elementCompare(parent, e)
	case *filter.ValuePath:
		return nil, filterErr("value paths cannot be nested")
	}
	return nil, filterErr("unsupported filter construct")
}

func (c *converter) elementCompare(parent *catalog.Attribute, e *filter.AttributeExpression) (Expr, error) {
	if e.AttributePath.URIPrefix != nil || e.AttributePath.SubAttribute != nil {
		return nil, filterErr("inside %s[…] use the plain sub-attribute name, not %q", parent.Path(), e.AttributePath.String())
	}
	attr, ok := parent.SubAttribute(e.AttributePath.AttributeName)
	if !ok {
		return nil, filterErr("%q has no sub-attribute %q", parent.Path(), e.AttributePath.AttributeName)
	}
	return c.compare(attr, e)
}

func (c *converter) attrExpr(e *filter.AttributeExpression) (Expr, error) {
	p := e.AttributePath
	attr, ok := c.res.Lookup(p.URI(), p.AttributeName, p.SubAttributeName())
	if !ok {
		return nil, filterErr("unknown attribute %q", p.String())
	}
	switch {
	case attr.Parent != nil && attr.Parent.MultiValued:
		// emails.value co "x": some element's value matches.
		cmp, err := c.compare(attr, e)
		if err != nil {
			return nil, err
		}
		return &Any{Attr: attr.Parent, Filter: cmp}, nil
	case attr.MultiValued && attr.Type == catalog.Complex:
		if e.Operator == filter.PR {
			c.terms++
			return &Any{Attr: attr}, nil
		}
		// emails eq "x" compares the default sub-attribute, value.
		value, ok := attr.SubAttribute("value")
		if !ok {
			return nil, filterErr("%q has no value sub-attribute; name one, as in %s.type eq \"work\"", attr.Path(), attr.Path())
		}
		cmp, err := c.compare(value, e)
		if err != nil {
			return nil, err
		}
		return &Any{Attr: attr, Filter: cmp}, nil
	}
	return c.compare(attr, e)
}

func (c *converter) compare(attr *catalog.Attribute, e *filter.AttributeExpression) (Expr, error) {
	c.terms++
	if attr.Returned == "never" {
		return nil, filterErr("%q cannot be used in a filter", attr.Path())
	}
	op := Op(strings.ToLower(string(e.Operator)))
	if op == Pr {
		return &Compare{Attr: attr, Op: Pr}, nil
	}
	if attr.Type == catalog.Complex {
		return nil, filterErr("%q is complex; compare one of its sub-attributes, as in %s.%s", attr.Path(), attr.Path(), firstSub(attr))
	}
	if err := checkOperator(attr, op); err != nil {
		return nil, err
	}
	if str, isString := e.CompareValue.(string); isString && attr.Type == catalog.Boolean && c.stringBooleans {
		switch strings.ToLower(str) {
		case "true":
			return &Compare{Attr: attr, Op: op, Value: true}, nil
		case "false":
			return &Compare{Attr: attr, Op: op, Value: false}, nil
		}
	}
	if _, isString := e.CompareValue.(string); isString && c.template {
		if !takesString(attr) {
			return nil, filterErr("%q does not take a string", attr.Path())
		}
		c.slots++
		return &Compare{Attr: attr, Op: op, slot: c.slots}, nil
	}
	v, err := typedValue(attr, e.CompareValue)
	if err != nil {
		return nil, err
	}
	return &Compare{Attr: attr, Op: op, Value: v}, nil
}

func firstSub(attr *catalog.Attribute) string {
	if len(attr.Sub) > 0 {
		return attr.Sub[0].Name
	}
	return "value"
}

func checkOperator(attr *catalog.Attribute, op Op) error {
	switch op {
	case Eq, Ne:
		return nil
	case Co, Sw, Ew:
		if attr.Type == catalog.String || attr.Type == catalog.Reference {
			return nil
		}
	case Gt, Ge, Lt, Le:
		switch attr.Type {
		case catalog.String, catalog.Reference, catalog.DateTime, catalog.Integer, catalog.Decimal:
			return nil
		}
	default:
		return filterErr("unknown operator %q", op)
	}
	return filterErr("operator %q cannot be used on %q, which is of type %s", op, attr.Path(), attr.Type)
}

// takesString reports whether attr's values are written as strings.
func takesString(attr *catalog.Attribute) bool {
	switch attr.Type {
	case catalog.String, catalog.Reference, catalog.Binary, catalog.DateTime:
		return true
	}
	return false
}

// typedValue checks a comparison value against the attribute's type and
// converts it to the Go type the backends expect.
func typedValue(attr *catalog.Attribute, v any) (any, error) {
	mismatch := func() error {
		return filterErr("%q is of type %s; %s is not a valid %s value", attr.Path(), attr.Type, literal(v), attr.Type)
	}
	if v == nil {
		return nil, filterErr("null is not a comparison value; use %q pr or not (%s pr)", attr.Path(), attr.Path())
	}
	switch attr.Type {
	case catalog.String, catalog.Reference, catalog.Binary:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		return unescape(s)
	case catalog.Boolean:
		b, ok := v.(bool)
		if !ok {
			return nil, mismatch()
		}
		return b, nil
	case catalog.Integer:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		i, err := strconv.ParseInt(string(n), 10, 64)
		if err != nil {
			return nil, mismatch()
		}
		return i, nil
	case catalog.Decimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, mismatch()
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil {
			return nil, mismatch()
		}
		return f, nil
	case catalog.DateTime:
		s, ok := v.(string)
		if !ok {
			return nil, mismatch()
		}
		s, err := unescape(s)
		if err != nil {
			return nil, err
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, filterErr("%q is a dateTime; %q is not an RFC 3339 time such as 2026-01-15T09:30:00Z", attr.Path(), s)
		}
		return t.UTC(), nil
	}
	return nil, mismatch()
}

// unescape decodes the JSON escapes that filter-parser leaves in strings.
// Like filter-parser's grammar (JSON's strings), it refuses raw control
// characters and bytes that are not UTF-8.
func unescape(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", filterErr("the string %q is not valid UTF-8", s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return r < 0x20 }); i >= 0 {
		return "", filterErr("the string %q holds a control character; escape it, as in \\u000A", s)
	}
	if !strings.Contains(s, `\`) {
		return s, nil
	}
	var out string
	if err := json.Unmarshal([]byte(`"`+s+`"`), &out); err != nil {
		return "", filterErr("the string %q has an invalid escape sequence", s)
	}
	return out, nil
}

func literal(v any) string {
	switch v := v.(type) {
	case string:
		return strconv.Quote(v)
	case json.Number:
		return string(v)
	}
	return fmt.Sprint(v)
}
