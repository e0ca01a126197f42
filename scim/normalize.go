package scim

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// normalizeResource rewrites a POST or PUT body into canonical SCIM before
// github.com/elimity-com/scim validates it, and checks types itself so that
// errors name the attribute at fault (the library's never do). The rules:
//
//   - stringBooleans: "True"/"False" for a boolean attribute become
//     booleans. Entra ID jobs without the aadOptscim062020 flag send them.
//   - managerString: a bare string for the enterprise manager becomes
//     {"value": …}. Entra ID sends the manager's id that way.
//   - singleToList: one object given for a multi-valued attribute becomes
//     a one-element list.
//   - dropEmpty: null and [] values are dropped; the library would echo
//     them back as null.
//   - extensionCase: extension URN keys are matched case-insensitively; the
//     library silently drops a block whose URN case differs.
//
// Read-only attributes and the client's id and meta are removed: the
// server owns them.
func normalizeResource(res *catalog.Resource, body map[string]any) *Error {
	// Keys are visited in a fixed order, from a copy: rules rename keys.
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	seen := map[string]string{}
	for _, key := range keys {
		v := body[key]
		lkey := strings.ToLower(key)
		if prev, dup := seen[lkey]; dup {
			return badRequest("invalidSyntax", "attribute %q is given twice (as %q and %q)", key, prev, key)
		}
		seen[lkey] = key
		switch lkey {
		case "schemas":
			if err := normalizeSchemas(res, body, key, v); err != nil {
				return err
			}
			continue
		case "id", "meta":
			delete(body, key)
			continue
		}
		if uri, ok := res.ExtensionURI(key); ok {
			if err := normalizeExtension(res, body, key, uri, v); err != nil {
				return err
			}
			continue
		}
		a, ok := res.Lookup(res.Core.ID, key, "")
		if !ok {
			continue // unknown attributes are ignored, as RFC 7644 §3.3 allows
		}
		if err := normalizeAttr(body, key, a, v); err != nil {
			return err
		}
	}
	if _, ok := seen["schemas"]; !ok {
		return badRequest("invalidSyntax", "schemas is missing; it must include %s", res.Core.ID)
	}
	for _, a := range res.Attributes() {
		if !a.Required || a.Mutability == "readOnly" || a.Parent != nil {
			continue
		}
		v, ok := lookupFold(body, a.Name)
		s, isString := v.(string)
		if !ok || isString && strings.TrimSpace(s) == "" {
			return badRequest("invalidValue", "%s is required and must not be empty", a.Name)
		}
	}
	return nil
}

func lookupFold(m map[string]any, name string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

func normalizeSchemas(res *catalog.Resource, body map[string]any, key string, v any) *Error {
	list, ok := v.([]any)
	if !ok {
		return badRequest("invalidSyntax", "schemas must be a list of schema URIs")
	}
	var core bool
	for i, s := range list {
		uri, ok := s.(string)
		if !ok {
			return badRequest("invalidSyntax", "schemas must be a list of schema URIs")
		}
		if strings.EqualFold(uri, res.Core.ID) {
			list[i] = res.Core.ID
			core = true
		} else if canonical, ok := res.ExtensionURI(uri); ok {
			list[i] = canonical
		}
		// Other URIs (Entra sends a Microsoft ADSCIM one on groups) are
		// accepted and ignored.
	}
	if !core {
		return badRequest("invalidSyntax", "schemas must include %s", res.Core.ID)
	}
	if key != "schemas" {
		delete(body, key)
		body["schemas"] = list
	}
	return nil
}

func normalizeExtension(res *catalog.Resource, body map[string]any, key, uri string, v any) *Error {
	if key != uri {
		delete(body, key)
	}
	if v == nil {
		delete(body, uri)
		return nil
	}
	ext, ok := v.(map[string]any)
	if !ok {
		return badRequest("invalidSyntax", "%s must be an object of that extension's attributes", uri)
	}
	for k, ev := range ext {
		a, ok := res.Lookup(uri, k, "")
		if !ok {
			continue
		}
		if err := normalizeAttr(ext, k, a, ev); err != nil {
			return err
		}
	}
	if len(ext) == 0 {
		delete(body, uri)
		return nil
	}
	body[uri] = ext
	return nil
}

// normalizeAttr normalises m[key], the value of attribute a, in place.
func normalizeAttr(m map[string]any, key string, a *catalog.Attribute, v any) *Error {
	if a.Mutability == "readOnly" {
		delete(m, key)
		return nil
	}
	if v == nil {
		delete(m, key)
		return nil
	}
	if !a.MultiValued {
		nv, err := normalizeSingle(a, v)
		if err != nil {
			return err
		}
		if nv == nil {
			delete(m, key)
		} else {
			m[key] = nv
		}
		return nil
	}
	list, ok := v.([]any)
	if !ok {
		list = []any{v}
	}
	out := list[:0]
	for _, el := range list {
		if el == nil {
			continue
		}
		nv, err := normalizeSingle(a, el)
		if err != nil {
			return err
		}
		if nv != nil {
			out = append(out, nv)
		}
	}
	if len(out) == 0 {
		delete(m, key)
		return nil
	}
	m[key] = out
	return nil
}

// normalizeSingle returns the normalised single value of a, or nil when
// nothing is left of it.
func normalizeSingle(a *catalog.Attribute, v any) (any, *Error) {
	switch a.Type {
	case catalog.Boolean:
		switch b := v.(type) {
		case bool:
			return b, nil
		case string:
			switch strings.ToLower(strings.TrimSpace(b)) {
			case "true":
				return true, nil
			case "false":
				return false, nil
			}
		}
		return nil, typeError(a, "true or false")
	case catalog.String, catalog.Reference, catalog.Binary, catalog.DateTime:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, typeError(a, "a string")
	case catalog.Integer, catalog.Decimal:
		switch n := v.(type) {
		case json.Number:
			return n, nil
		case string:
			if _, err := json.Number(n).Float64(); err == nil {
				return json.Number(n), nil
			}
		}
		return nil, typeError(a, "a number")
	case catalog.Complex:
		obj, ok := v.(map[string]any)
		if !ok {
			if s, isString := v.(string); isString && a.Name == "manager" && a.Schema == catalog.EnterpriseUserSchema {
				if s == "" {
					return nil, nil
				}
				return map[string]any{"value": s}, nil
			}
			return nil, typeError(a, "an object")
		}
		for k, sv := range obj {
			sub, ok := a.SubAttribute(k)
			if !ok {
				continue
			}
			if err := normalizeAttr(obj, k, sub, sv); err != nil {
				return nil, err
			}
		}
		if len(obj) == 0 {
			return nil, nil
		}
		return obj, nil
	}
	return v, nil
}

func typeError(a *catalog.Attribute, want string) *Error {
	return badRequest("invalidValue", "%s must be %s", a.Path(), want)
}
