// Package patch is the SCIM PATCH engine (RFC 7644 §3.5.2): it reads a
// PatchOp body into operations resolved against the catalog, with the
// IdP dialects of package compat folded in, and applies them to a
// resource's attribute document.
package patch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/query"
)

// PatchOpSchema is the schema of a PATCH request body.
const PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

// Bounds on one request's work, far above what an IdP sends (Okta and
// Entra ID send a handful of operations and at most some hundreds of
// members a request) and low enough that one request cannot hold the
// database's one writer for long.
const (
	MaxOperations = 1000
	// MaxMembers bounds the members one PATCH names, over all its
	// operations; the SCIM layer holds a group's POST and PUT to it too.
	MaxMembers = 10000
)

// Kind is a PATCH operation.
type Kind string

// The operations.
const (
	Add     Kind = "add"
	Replace Kind = "replace"
	Remove  Kind = "remove"
)

// Op is one operation, resolved and normalised. A PATCH without a path is
// expanded into one Op per attribute it names.
type Op struct {
	Kind Kind
	Path Path
	// Value is the normalised value for Path's target: a list for a whole
	// multi-valued attribute, an element for a filtered one, nil for
	// remove.
	Value any
	// MemberIDs, on a remove of a group's members, are the members to
	// remove (Entra ID's remove-by-value shape).
	MemberIDs []string
}

// Path is a resolved PATCH path.
type Path struct {
	// Attr is the attribute named: top-level, or a sub-attribute of a
	// single-valued complex attribute (name.givenName).
	Attr *catalog.Attribute
	// Filter selects elements of a multi-valued Attr (emails[type eq
	// "work"]); nil selects the attribute as a whole.
	Filter query.Expr
	// Sub is the sub-attribute after a filter (emails[…].value), or nil.
	Sub *catalog.Attribute
	// Text is the path as the client wrote it, for messages.
	Text string
}

// Error is a PATCH the engine refuses, worded for the client, with its
// RFC 7644 scimType: the same type as the normalisation layer's refusals.
type Error = compat.Error

func errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}

// Parse reads a PatchOp body for a resource of type res.
func Parse(res *catalog.Resource, body []byte, rules compat.Set) ([]Op, error) {
	return ParseFor(res, "", body, rules)
}

// ParseFor is Parse for the resource with the given id: an id that Okta
// sends inside a value object (rule id-in-patch-value) must be this one,
// or the request is refused rather than silently applied to another
// resource than the client meant.
func ParseFor(res *catalog.Resource, id string, body []byte, rules compat.Set) ([]Op, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil || doc == nil {
		return nil, errorf("invalidSyntax", "the body must be a JSON object with schemas and Operations")
	}
	// Anything after the object is refused rather than ignored: it is
	// most likely a second request glued to the first.
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errorf("invalidSyntax", "the body must be a JSON object with schemas and Operations, and nothing after it")
	}
	if err := checkSchemas(fieldFold(doc, "schemas")); err != nil {
		return nil, err
	}
	raw, present := fieldFold(doc, "operations"), hasFold(doc, "operations")
	list, ok := raw.([]any)
	if !present || !ok {
		return nil, errorf("invalidSyntax", "Operations must be a list of operations")
	}
	if len(list) == 0 {
		if rules.On(compat.EmptyOperations) {
			return nil, nil
		}
		return nil, errorf("invalidValue", "Operations is empty; a PATCH needs at least one operation")
	}
	if len(list) > MaxOperations {
		return nil, errorf("invalidValue", "Operations holds %d operations; at most %d are accepted in one PATCH, so send the rest in another", len(list), MaxOperations)
	}
	p := parser{res: res, rules: rules, id: id}
	var ops []Op
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, errorf("invalidSyntax", "operation %d is not an object", i+1)
		}
		parsed, err := p.operation(m)
		if err != nil {
			if pe, ok := err.(*Error); ok {
				pe.Detail = fmt.Sprintf("operation %d: %s", i+1, pe.Detail)
			}
			return nil, err
		}
		ops = append(ops, parsed...)
	}
	if n := countMembers(ops); n > MaxMembers {
		return nil, errorf("invalidValue", "the operations name %d members; at most %d are accepted in one PATCH, so send the rest in another", n, MaxMembers)
	}
	return ops, nil
}

// countMembers counts the members that operations on a group's members
// name.
func countMembers(ops []Op) int {
	n := 0
	for _, op := range ops {
		if !op.Path.Attr.Is("members") {
			continue
		}
		n += len(op.MemberIDs)
		switch v := op.Value.(type) {
		case []any:
			n += len(v)
		case map[string]any:
			n++
		}
	}
	return n
}

func checkSchemas(v any) *Error {
	list, _ := v.([]any)
	for _, s := range list {
		if str, ok := s.(string); ok && strings.EqualFold(str, PatchOpSchema) {
			return nil
		}
	}
	return errorf("invalidSyntax", "schemas must be [%q]", PatchOpSchema)
}

// fieldFold returns m's value under name, matched case-insensitively.
func fieldFold(m map[string]any, name string) any {
	if v, ok := m[name]; ok {
		return v
	}
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return nil
}

func hasFold(m map[string]any, name string) bool {
	for k := range m {
		if strings.EqualFold(k, name) {
			return true
		}
	}
	return false
}

type parser struct {
	res   *catalog.Resource
	rules compat.Set
	id    string // the resource's id, "" when unknown
}

func (p parser) operation(m map[string]any) ([]Op, error) {
	kindText, _ := fieldFold(m, "op").(string)
	kind := Kind(kindText)
	if lower := Kind(strings.ToLower(kindText)); lower != kind && p.rules.On(compat.CapitalisedOps) {
		kind = lower
	}
	switch kind {
	case Add, Replace, Remove:
	default:
		return nil, errorf("invalidSyntax", "op %q is not add, replace or remove", kindText)
	}
	value, hasValue := fieldFold(m, "value"), hasFold(m, "value")
	rawPath := fieldFold(m, "path")
	pathText, isString := rawPath.(string)
	if rawPath != nil && !isString {
		return nil, errorf("invalidPath", "path must be a string")
	}
	if uri, ok := p.extensionURI(strings.TrimSpace(pathText)); ok && kind != Remove {
		// A path naming a whole extension: its value holds the
		// extension's attributes, as in a PATCH without a path.
		if !hasValue {
			return nil, errorf("invalidValue", "%s of %s needs a value object", kind, uri)
		}
		return p.pathless(kind, map[string]any{uri: value})
	}
	if strings.TrimSpace(pathText) == "" {
		if kind == Remove {
			return nil, errorf("noTarget", "remove needs a path")
		}
		if !hasValue {
			return nil, errorf("invalidValue", "%s without a path needs a value object", kind)
		}
		return p.pathless(kind, value)
	}
	path, err := p.path(strings.TrimSpace(pathText))
	if err != nil {
		return nil, err
	}
	if kind == Remove {
		op, err := p.remove(path, value, hasValue)
		if err != nil {
			return nil, err
		}
		return []Op{op}, nil
	}
	if !hasValue {
		return nil, errorf("invalidValue", "%s of %s needs a value", kind, path.Text)
	}
	op, err := p.assign(kind, path, value)
	if err != nil {
		return nil, err
	}
	return op, nil
}

// pathless expands an add or replace without a path into one operation
// per attribute of its value object.
func (p parser) pathless(kind Kind, value any) ([]Op, error) {
	obj, ok := value.(map[string]any)
	if !ok {
		return nil, errorf("invalidValue", "%s without a path needs a value object", kind)
	}
	var ops []Op
	for _, key := range slices.Sorted(mapKeys(obj)) {
		v := obj[key]
		switch strings.ToLower(key) {
		case "schemas":
			continue
		case "id":
			if !p.rules.On(compat.IDInPatchValue) {
				return nil, errorf("mutability", "id is read-only")
			}
			if claimed, _ := v.(string); p.id != "" && !strings.EqualFold(claimed, p.id) {
				return nil, errorf("mutability", "id is read-only, and %q is not this resource's id", claimed)
			}
			continue
		}
		if uri, ok := p.extensionURI(key); ok {
			ext, ok := v.(map[string]any)
			if !ok {
				return nil, errorf("invalidValue", "%s must be an object of that extension's attributes", uri)
			}
			for _, name := range slices.Sorted(mapKeys(ext)) {
				if strings.Contains(name, ".") && !p.rules.On(compat.PathlessDottedKeys) {
					return nil, errorf("invalidPath", "%q in %s names a sub-attribute; send it inside its attribute", name, uri)
				}
				path, err := p.path(uri + ":" + name)
				if err != nil {
					return nil, err
				}
				more, err := p.assign(kind, path, ext[name])
				if err != nil {
					return nil, err
				}
				ops = append(ops, more...)
			}
			continue
		}
		if strings.Contains(key, "[") {
			return nil, errorf("invalidPath", "%q: a key of a value without a path cannot hold a filter", key)
		}
		path, err := p.path(key)
		if err != nil {
			return nil, err
		}
		if !p.rules.On(compat.PathlessDottedKeys) {
			switch {
			case path.Attr.Parent != nil:
				return nil, errorf("invalidPath", "%q names a sub-attribute; send it inside its attribute, as {%q: {%q: …}}", key, path.Attr.Parent.Name, path.Attr.Name)
			case strings.Contains(key, ":"):
				// A URN-qualified key is a path, not an attribute name:
				// RFC 7643 §3.3 puts extension attributes in an object
				// under the extension's URI.
				return nil, errorf("invalidPath", "%q is a path, not an attribute name; send it inside its schema, as {%q: {%q: …}}", key, path.Attr.Top().Schema, path.Attr.Top().Name)
			}
		}
		more, err := p.assign(kind, path, v)
		if err != nil {
			return nil, err
		}
		ops = append(ops, more...)
	}
	return ops, nil
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// assign builds an add or replace of value at path.
func (p parser) assign(kind Kind, path Path, value any) ([]Op, error) {
	if err := p.writable(path); err != nil {
		return nil, err
	}
	target := path.target()
	var (
		v   any
		err *compat.Error
	)
	if path.Filter != nil && path.Sub == nil {
		v, err = compat.Element(path.Attr, value, p.rules)
	} else {
		v, err = compat.Value(target, value, p.rules)
	}
	if err != nil {
		return nil, err
	}
	if v == nil {
		if kind == Add {
			return nil, nil // nothing to add
		}
		// A replace with null or [] clears the target.
		op, rerr := p.remove(path, nil, false)
		if rerr != nil {
			return nil, rerr
		}
		return []Op{op}, nil
	}
	return []Op{{Kind: kind, Path: path, Value: v}}, nil
}

// remove builds a remove of path. A value is only taken for a group's
// members, under compat.MemberRemoveByValue.
func (p parser) remove(path Path, value any, hasValue bool) (Op, error) {
	if err := p.writable(path); err != nil {
		return Op{}, err
	}
	target := path.target()
	if target.Required && path.Filter == nil {
		return Op{}, errorf("invalidValue", "%s is required and cannot be removed", target.Path())
	}
	op := Op{Kind: Remove, Path: path}
	if !hasValue || value == nil {
		return op, nil
	}
	if !(path.Attr.Is("members") && path.Filter == nil && p.res.Name == "Group") {
		return Op{}, errorf("invalidValue", "remove takes no value; to remove some values of %s use a filter, as in %s[value eq \"…\"]", path.Attr.Path(), path.Attr.Path())
	}
	if !p.rules.On(compat.MemberRemoveByValue) {
		return Op{}, errorf("invalidValue", "remove of members takes no value here; use members[value eq \"…\"]")
	}
	list, ok := value.([]any)
	if !ok {
		list = []any{value}
	}
	// Never nil, even for an empty list: a remove without ids would
	// clear the group.
	op.MemberIDs = []string{}
	for _, el := range list {
		m, _ := el.(map[string]any)
		id, _ := fieldFold(m, "value").(string)
		if strings.TrimSpace(id) == "" {
			return Op{}, errorf("invalidValue", "every member to remove needs a value: the id of a user")
		}
		op.MemberIDs = append(op.MemberIDs, id)
	}
	return op, nil
}

// writable refuses operations on what the server owns (readOnly) and on
// sub-attributes that cannot change once set (immutable, such as a
// member's value: remove the member and add another instead).
func (p parser) writable(path Path) *Error {
	for _, a := range []*catalog.Attribute{path.Attr.Top(), path.Attr, path.Sub} {
		if a == nil {
			continue
		}
		switch {
		case a.Mutability == "readOnly":
			return errorf("mutability", "%s is read-only", a.Path())
		case a.Mutability == "immutable" && a.Parent != nil:
			return errorf("mutability", "%s cannot be changed; remove the value and add a new one", a.Path())
		}
	}
	return nil
}

// target is the attribute whose value an operation sets.
func (p Path) target() *catalog.Attribute {
	if p.Sub != nil {
		return p.Sub
	}
	return p.Attr
}

// extensionURI matches text against the resource's extension URIs:
// exactly, or ignoring case under compat.ExtensionCase.
func (p parser) extensionURI(text string) (string, bool) {
	uri, ok := p.res.ExtensionURI(text)
	if !ok || uri != text && !p.rules.On(compat.ExtensionCase) {
		return "", false
	}
	return uri, true
}

// lookup resolves an attribute path without a filter. A schema URI
// prefix written in another case is refused when compat.ExtensionCase is
// off, as it is in resource bodies.
func (p parser) lookup(text string) (*catalog.Attribute, error) {
	a, ok := p.res.LookupPath(text)
	if !ok || strings.HasSuffix(text, ".") {
		return nil, errorf("invalidPath", "unknown attribute %q", text)
	}
	uri := a.Top().Schema
	if !p.rules.On(compat.ExtensionCase) && len(text) > len(uri) &&
		strings.EqualFold(text[:len(uri)], uri) && text[:len(uri)] != uri {
		return nil, errorf("invalidPath", "%q: the schema URI is written %s", text, uri)
	}
	return a, nil
}

// path resolves a PATCH path: attr, attr.sub, urn:…:attr[.sub],
// attr[filter] or attr[filter].sub.
func (p parser) path(text string) (Path, error) {
	open := strings.IndexByte(text, '[')
	if open < 0 {
		a, err := p.lookup(text)
		if err != nil {
			return Path{}, err
		}
		if a.Parent != nil && a.Parent.MultiValued {
			return Path{}, errorf("invalidPath", "%q names a sub-attribute of every %s; pick elements with a filter, as in %s[type eq \"work\"].%s",
				text, a.Parent.Name, a.Parent.Path(), a.Name)
		}
		return Path{Attr: a, Text: text}, nil
	}
	closing, err := closingBracket(text, open)
	if err != nil {
		return Path{}, err
	}
	a, err := p.lookup(text[:open])
	if err != nil {
		return Path{}, err
	}
	if !a.MultiValued || a.Type != catalog.Complex || a.Parent != nil {
		return Path{}, errorf("invalidPath", "%q: only multi-valued complex attributes take a filter", text)
	}
	f, err := query.ParseElementFilter(a, text[open+1:closing], query.ElementOptions{StringBooleans: p.rules.On(compat.StringBooleans)})
	if err != nil {
		// RFC 7644 §3.12 gives a PATCH path filter that cannot be
		// evaluated invalidFilter; invalidPath is for the path around it.
		var qe *query.Error
		if errors.As(err, &qe) {
			return Path{}, errorf("invalidFilter", "%q: %s", text, qe.Msg)
		}
		return Path{}, fmt.Errorf("path %q: %w", text, err)
	}
	path := Path{Attr: a, Filter: f, Text: text}
	rest := text[closing+1:]
	switch {
	case rest == "":
	case strings.HasPrefix(rest, "."):
		sub, ok := a.SubAttribute(rest[1:])
		if !ok {
			return Path{}, errorf("invalidPath", "%s has no sub-attribute %q", a.Path(), rest[1:])
		}
		path.Sub = sub
	default:
		return Path{}, errorf("invalidPath", "%q: expected .subAttribute or nothing after ]", text)
	}
	return path, nil
}

// closingBracket finds the ] that closes the [ at open, skipping string
// literals.
func closingBracket(text string, open int) (int, error) {
	for i := open + 1; i < len(text); i++ {
		switch text[i] {
		case '"':
			for i++; i < len(text) && text[i] != '"'; i++ {
				if text[i] == '\\' {
					i++
				}
			}
		case ']':
			return i, nil
		case '[':
			return 0, errorf("invalidPath", "%q: filters cannot be nested", text)
		}
	}
	return 0, errorf("invalidPath", "%q: [ is never closed", text)
}
