package patch

import (
	"encoding/json"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

// MemberOp is a change to a group's members. Members are not part of the
// attribute document: the store changes them directly, at a cost in the
// members named rather than the size of the group.
type MemberOp struct {
	// Kind is Add (add IDs), Replace (make the members exactly IDs) or
	// Remove (remove IDs; or, without IDs, those matching Filter; or,
	// without either, every member).
	Kind   Kind
	IDs    []string
	Filter query.Expr
}

// Apply applies ops in order to doc, a resource's attribute document
// (core attributes by canonical name, extension attributes in an object
// under their URI), which must not be nil. Operations on a group's
// members are returned, in order, instead. The operations are all
// applied or, when one fails, none: doc is changed in place only on
// success, and never shares values with ops, which Apply leaves as they
// are, so they may be applied again.
func Apply(res *catalog.Resource, doc map[string]any, ops []Op) ([]MemberOp, error) {
	work := clone(doc).(map[string]any)
	var (
		members []MemberOp
		touched []*catalog.Attribute
	)
	for _, op := range ops {
		top := op.Path.Attr.Top()
		switch {
		case res.Name == "Group" && top.Is("members"):
			m, ok, err := memberOp(op)
			if err != nil {
				return nil, err
			}
			if ok {
				members = append(members, m)
			}
		case top.Mutability == "writeOnly":
			// A password: accepted and never kept.
		default:
			op.Value = clone(op.Value)
			if err := apply(work, op); err != nil {
				return nil, err
			}
			touched = append(touched, top)
		}
	}
	// Only what the operations touched: a stored document that already
	// breaks the rule must not block unrelated changes (E7's deactivation).
	for _, a := range touched {
		if err := checkPrimary(work, a); err != nil {
			return nil, err
		}
	}
	clear(doc)
	maps.Copy(doc, work)
	return members, nil
}

// memberOp turns an operation on a group's members into a MemberOp; ok
// is false when there is nothing to do.
func memberOp(op Op) (m MemberOp, ok bool, err error) {
	if op.Path.Filter != nil && op.Kind != Remove {
		return MemberOp{}, false, errorf("mutability", "members cannot be changed in place; remove the member and add another")
	}
	switch op.Kind {
	case Add, Replace:
		ids, err := memberIDs(op.Value)
		return MemberOp{Kind: op.Kind, IDs: ids}, err == nil, err
	}
	switch {
	case op.MemberIDs != nil:
		// An empty list removes nobody; a MemberOp without ids would
		// remove everybody.
		return MemberOp{Kind: Remove, IDs: op.MemberIDs}, len(op.MemberIDs) > 0, nil
	case op.Path.Filter != nil:
		if ids, ok := valueEqualities(op.Path.Filter); ok {
			return MemberOp{Kind: Remove, IDs: ids}, true, nil
		}
		return MemberOp{Kind: Remove, Filter: op.Path.Filter}, true, nil
	}
	return MemberOp{Kind: Remove}, true, nil
}

// memberIDs reads the user ids of a members value.
func memberIDs(v any) ([]string, error) {
	list, _ := v.([]any)
	ids := make([]string, 0, len(list))
	for _, el := range list {
		m, _ := el.(map[string]any)
		id, _ := m["value"].(string)
		if strings.TrimSpace(id) == "" {
			return nil, errorf("invalidValue", "every member needs a value: the id of a user")
		}
		if t, _ := m["type"].(string); t != "" && !strings.EqualFold(t, "User") {
			return nil, errorf("invalidValue", "member %q has type %q; only users can be members of groups", id, t)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// valueEqualities reads a filter made only of "value eq" terms joined by
// or (members[value eq "a" or value eq "b"]) as the list of values.
func valueEqualities(e query.Expr) ([]string, bool) {
	switch e := e.(type) {
	case *query.Or:
		l, ok := valueEqualities(e.Left)
		if !ok {
			return nil, false
		}
		r, ok := valueEqualities(e.Right)
		return append(l, r...), ok
	case *query.Compare:
		if s, ok := e.Value.(string); ok && e.Op == query.Eq && e.Attr.Name == "value" {
			return []string{s}, true
		}
	}
	return nil, false
}

// container returns the object that holds a's top-level attribute: the
// document, or the attribute's extension object, made when create is set.
func container(doc map[string]any, a *catalog.Attribute, create bool) map[string]any {
	top := a.Top()
	if !top.Extension() {
		return doc
	}
	ext, _ := doc[top.Schema].(map[string]any)
	if ext == nil && create {
		ext = map[string]any{}
		doc[top.Schema] = ext
	}
	return ext
}

func apply(doc map[string]any, op Op) error {
	path := op.Path
	top := path.Attr.Top()
	c := container(doc, top, op.Kind != Remove)
	if c == nil {
		return nil // removing from an extension the resource does not have
	}
	defer dropEmptyExtension(doc, top)
	switch {
	case path.Attr.Parent != nil:
		applySub(c, op)
	case path.Filter != nil:
		return applyFiltered(c, op)
	case op.Kind == Remove:
		delete(c, top.Name)
	case top.MultiValued && op.Kind == Add:
		list, _ := c[top.Name].([]any)
		for _, el := range op.Value.([]any) {
			list = addUnique(list, el)
		}
		c[top.Name] = list
	case top.Type == catalog.Complex && !top.MultiValued:
		// RFC 7644 §3.5.2.3: sub-attributes not given are left as they
		// are. But a new "value" names another referent (a new manager),
		// whose displayName and $ref are not the old one's.
		old, value := asObject(c[top.Name]), op.Value.(map[string]any)
		if v, ok := value["value"]; ok && !reflect.DeepEqual(v, old["value"]) {
			old = map[string]any{}
		}
		c[top.Name] = merge(old, value)
	default:
		c[top.Name] = op.Value
	}
	return nil
}

// applySub sets or removes a sub-attribute of a single-valued complex
// attribute (name.givenName).
func applySub(c map[string]any, op Op) {
	parent, name := op.Path.Attr.Parent.Name, op.Path.Attr.Name
	m := asObject(c[parent])
	if op.Kind == Remove {
		delete(m, name)
	} else {
		m[name] = op.Value
	}
	if len(m) == 0 {
		delete(c, parent)
		return
	}
	c[parent] = m
}

// applyFiltered works on the elements of a multi-valued attribute that
// match the path's filter. An add or replace that matches none creates
// the element the filter describes: Entra ID replaces
// emails[type eq "work"].value on users that have no work email, and adds
// addresses[type eq "work"].locality one sub-attribute at a time.
func applyFiltered(c map[string]any, op Op) error {
	path := op.Path
	name := path.Attr.Name
	list, _ := c[name].([]any)
	var matched []int
	for i, el := range list {
		if m, ok := el.(map[string]any); ok && Match(path.Filter, m) {
			matched = append(matched, i)
		}
	}
	switch {
	case op.Kind == Remove:
		list = removeMatched(list, matched, path.Sub)
	case len(matched) == 0:
		el, ok := elementOf(path.Filter)
		if !ok {
			return errorf("noTarget", "no element of %s matches %s, and the filter does not describe one to create", name, path.Text)
		}
		set(el, path, op)
		list = append(list, el)
		clearOtherPrimaries(list, len(list)-1)
	default:
		for _, i := range matched {
			el := list[i].(map[string]any)
			if op.Kind == Replace && path.Sub == nil {
				// The element is replaced, but keeps what the filter
				// selected it by.
				el, _ = elementOf(path.Filter)
				if el == nil {
					el = map[string]any{}
				}
			}
			set(el, path, op)
			list[i] = el
			clearOtherPrimaries(list, i)
		}
	}
	if len(list) == 0 {
		delete(c, name)
		return nil
	}
	c[name] = list
	return nil
}

// set writes op's value into element el.
func set(el map[string]any, path Path, op Op) {
	if path.Sub != nil {
		el[path.Sub.Name] = op.Value
		return
	}
	for k, v := range op.Value.(map[string]any) {
		el[k] = v
	}
}

func removeMatched(list []any, matched []int, sub *catalog.Attribute) []any {
	drop := make(map[int]bool, len(matched))
	for _, i := range matched {
		if sub == nil {
			drop[i] = true
			continue
		}
		el := list[i].(map[string]any)
		delete(el, sub.Name)
		if len(el) == 0 {
			drop[i] = true
		}
	}
	out := list[:0]
	for i, el := range list {
		if !drop[i] {
			out = append(out, el)
		}
	}
	return out
}

// elementOf builds the element a filter of "eq" terms joined by "and"
// describes: type eq "work" and primary eq true gives
// {"type": "work", "primary": true}.
func elementOf(e query.Expr) (map[string]any, bool) {
	el := map[string]any{}
	var walk func(query.Expr) bool
	walk = func(e query.Expr) bool {
		switch e := e.(type) {
		case *query.And:
			return walk(e.Left) && walk(e.Right)
		case *query.Compare:
			if e.Op != query.Eq {
				return false
			}
			el[e.Attr.Name] = jsonValue(e.Value)
			return true
		}
		return false
	}
	if !walk(e) {
		return nil, false
	}
	return el, true
}

// jsonValue turns a typed filter value back into a document value.
func jsonValue(v any) any {
	switch v := v.(type) {
	case int64:
		return json.Number(strconv.FormatInt(v, 10))
	case float64:
		return json.Number(strconv.FormatFloat(v, 'g', -1, 64))
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano)
	}
	return v
}

// addUnique appends el to list unless an equal element is there. A new
// primary element takes primary from the others.
func addUnique(list []any, el any) []any {
	for _, have := range list {
		if reflect.DeepEqual(have, el) {
			return list
		}
	}
	list = append(list, el)
	clearOtherPrimaries(list, len(list)-1)
	return list
}

// clearOtherPrimaries keeps "primary": true on list[i] alone, when it has
// it (RFC 7643 §2.4).
func clearOtherPrimaries(list []any, i int) {
	el, _ := list[i].(map[string]any)
	if el["primary"] != true {
		return
	}
	for j, other := range list {
		if m, ok := other.(map[string]any); ok && j != i && m["primary"] == true {
			delete(m, "primary")
		}
	}
}

func checkPrimary(doc map[string]any, a *catalog.Attribute) error {
	if !a.MultiValued || a.Type != catalog.Complex {
		return nil
	}
	c := container(doc, a, false)
	list, _ := c[a.Name].([]any)
	n := 0
	for _, el := range list {
		if m, ok := el.(map[string]any); ok && m["primary"] == true {
			n++
		}
	}
	if n > 1 {
		return errorf("invalidValue", "%s has %d elements marked primary; at most one may be", a.Path(), n)
	}
	return nil
}

// clone copies a decoded JSON value, so that the document shares no map
// or list with the operations or with the caller's document.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(v))
		for k, e := range v {
			m[k] = clone(e)
		}
		return m
	case []any:
		l := make([]any, len(v))
		for i, e := range v {
			l[i] = clone(e)
		}
		return l
	}
	return v
}

func asObject(v any) map[string]any {
	if m, ok := v.(map[string]any); ok {
		return m
	}
	return map[string]any{}
}

func merge(dst, src map[string]any) map[string]any {
	for k, v := range src {
		dst[k] = v
	}
	return dst
}

func dropEmptyExtension(doc map[string]any, top *catalog.Attribute) {
	if !top.Extension() {
		return
	}
	if ext, ok := doc[top.Schema].(map[string]any); ok && len(ext) == 0 {
		delete(doc, top.Schema)
	}
}
