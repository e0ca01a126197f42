package compat

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Value normalises v, the whole value of attribute a (a list for a
// multi-valued attribute), and checks its type. It returns nil when
// nothing is left of it: null, an empty list, an empty object.
func Value(a *catalog.Attribute, v any, s Set) (any, *Error) {
	if v == nil {
		if !s.On(EmptyValues) {
			return nil, errorf("invalidValue", "%s is null; leave it out instead", a.Path())
		}
		return nil, nil
	}
	if !a.MultiValued {
		return Element(a, v, s)
	}
	list, ok := v.([]any)
	if !ok {
		if !s.On(SingleValueList) {
			return nil, errorf("invalidValue", "%s is multi-valued and takes a list", a.Path())
		}
		list = []any{v}
	}
	if len(list) == 0 && !s.On(EmptyValues) {
		return nil, errorf("invalidValue", "%s is an empty list; leave it out instead", a.Path())
	}
	out := make([]any, 0, len(list))
	for _, el := range list {
		if el == nil {
			continue
		}
		nv, err := Element(a, el, s)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out = append(out, nv)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// Element normalises one value of a: the value of a single-valued
// attribute or one element of a multi-valued one.
func Element(a *catalog.Attribute, v any, s Set) (any, *Error) {
	switch a.Type {
	case catalog.Boolean:
		return boolean(a, v, s)
	case catalog.String, catalog.Reference, catalog.Binary:
		if str, ok := v.(string); ok {
			return str, nil
		}
		return nil, typeError(a, "a string")
	case catalog.DateTime:
		str, ok := v.(string)
		if !ok {
			return nil, typeError(a, "a date and time")
		}
		if _, err := time.Parse(time.RFC3339Nano, str); err != nil {
			return nil, errorf("invalidValue", "%s must be a date and time such as 2026-01-15T09:30:00Z, not %q", a.Path(), str)
		}
		return str, nil
	case catalog.Integer, catalog.Decimal:
		n, ok := v.(json.Number)
		if !ok {
			return nil, typeError(a, "a number")
		}
		if a.Type == catalog.Integer {
			if _, err := n.Int64(); err != nil {
				return nil, typeError(a, "a whole number")
			}
		}
		return n, nil
	case catalog.Complex:
		return complexValue(a, v, s)
	}
	return v, nil
}

func boolean(a *catalog.Attribute, v any, s Set) (any, *Error) {
	switch b := v.(type) {
	case bool:
		return b, nil
	case string:
		if s.On(StringBooleans) {
			if t, ok := ParseBool(b); ok {
				return t, nil
			}
		}
	}
	return nil, typeError(a, "true or false")
}

// ParseBool reads the string booleans Entra ID sends ("True", "False").
func ParseBool(s string) (value, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func complexValue(a *catalog.Attribute, v any, s Set) (any, *Error) {
	obj, ok := v.(map[string]any)
	if !ok {
		str, isString := v.(string)
		switch {
		case isString && isManager(a) && s.On(BareManager):
			if str == "" {
				return nil, nil
			}
			return map[string]any{"value": str}, nil
		case isString && a.Is("roles") && s.On(StringifiedRoles):
			if role, ok := stringifiedRole(str); ok {
				obj = role
				break
			}
			fallthrough
		default:
			return nil, typeError(a, "an object")
		}
	}
	if a.Is("roles") && s.On(StringifiedRoles) {
		if str, ok := valueField(obj).(string); ok {
			if role, ok := stringifiedRole(str); ok {
				obj = withRole(obj, role)
			}
		}
	}
	out := make(map[string]any, len(obj))
	seen := make(map[string]string, len(obj))
	// In a fixed order, so that a value with several faults always gets
	// the same error.
	for _, k := range slices.Sorted(mapKeys(obj)) {
		sv := obj[k]
		sub, ok := a.SubAttribute(k)
		if !ok || sub.Mutability == "readOnly" {
			continue // unknown and server-owned sub-attributes are ignored
		}
		if prev, dup := seen[sub.Name]; dup {
			return nil, errorf("invalidSyntax", "%s.%s is given twice (as %q and %q)", a.Path(), sub.Name, prev, k)
		}
		seen[sub.Name] = k
		nv, err := Value(sub, sv, s)
		if err != nil {
			return nil, err
		}
		if nv != nil {
			out[sub.Name] = nv
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// withRole replaces the stringified value of element obj with the role
// it holds, keeping the element's other sub-attributes (Entra ID puts
// primary and type beside the string) unless the role gives them too.
func withRole(obj, role map[string]any) map[string]any {
	out := make(map[string]any, len(obj)+len(role))
	for k, v := range obj {
		out[k] = v
	}
	for k, v := range role {
		for have := range out {
			if strings.EqualFold(have, k) {
				delete(out, have)
			}
		}
		out[k] = v
	}
	return out
}

// valueField returns obj's "value" in any case, as the sub-attribute
// loop reads it, so that a role is unwrapped on the first normalisation
// and not only once the key has been made canonical.
func valueField(obj map[string]any) any {
	if v, ok := obj["value"]; ok {
		return v
	}
	for _, k := range slices.Sorted(mapKeys(obj)) {
		if strings.EqualFold(k, "value") {
			return obj[k]
		}
	}
	return nil
}

func isManager(a *catalog.Attribute) bool {
	return a.Parent == nil && a.Name == "manager" && a.Schema == catalog.EnterpriseUserSchema
}

// stringifiedRole reads Entra ID's JSON-in-a-string role,
// {"id":…,"value":"Admin","displayName":"Admin"}, as a roles element.
// A value that is itself such a string is read too, so that normalising
// twice gives what normalising once gave.
func stringifiedRole(s string) (map[string]any, bool) {
	role, ok := oneStringifiedRole(s)
	for ok {
		inner, more := oneStringifiedRole(role["value"].(string))
		if !more {
			break
		}
		role = inner
	}
	return role, ok
}

func oneStringifiedRole(s string) (map[string]any, bool) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return nil, false
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(s), &raw); err != nil {
		return nil, false
	}
	role := map[string]any{}
	// Sorted, so that of keys naming the same field ("display" and
	// "displayName", "Value" and "value") the same one always wins.
	for _, k := range slices.Sorted(mapKeys(raw)) {
		v := raw[k]
		switch strings.ToLower(k) {
		case "value":
			role["value"] = v
		case "displayname", "display":
			role["display"] = v
		case "type":
			role["type"] = v
		case "primary":
			role["primary"] = v
		}
	}
	if _, ok := role["value"].(string); !ok {
		return nil, false
	}
	return role, true
}

func typeError(a *catalog.Attribute, want string) *Error {
	return errorf("invalidValue", "%s must be %s", a.Path(), want)
}
