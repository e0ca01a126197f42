package compat

import (
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Resource rewrites a POST or PUT body for res into canonical SCIM, in
// place, and checks the types of the attributes it knows so that errors
// name the attribute at fault. Unknown attributes are left for the
// validator to ignore (RFC 7644 §3.3 allows it). The server's own
// attributes (id, meta, read-only ones) are removed.
func Resource(res *catalog.Resource, body map[string]any, s Set) *Error {
	// Keys are visited in a fixed order, from a copy: rules rename keys.
	keys := slices.Sorted(mapKeys(body))
	seen := map[string]string{}
	for _, key := range keys {
		v := body[key]
		lkey := strings.ToLower(key)
		if prev, dup := seen[lkey]; dup {
			return errorf("invalidSyntax", "attribute %q is given twice (as %q and %q)", key, prev, key)
		}
		seen[lkey] = key
		switch lkey {
		case "schemas":
			if err := schemas(res, body, key, v, s); err != nil {
				return err
			}
			continue
		case "id", "meta":
			delete(body, key)
			continue
		}
		if uri, ok := extensionURI(res, key, s); ok {
			if err := extension(res, body, key, uri, v, s); err != nil {
				return err
			}
			continue
		}
		if uri, ok := res.ExtensionURI(key); ok {
			// ExtensionCase is off: refused, not dropped unseen.
			return errorf("invalidSyntax", "%q is written %s in its schema", key, uri)
		}
		a, ok := res.Lookup(res.Core.ID, key, "")
		if !ok {
			continue
		}
		if err := attribute(body, key, a, v, s); err != nil {
			return err
		}
	}
	if _, ok := seen["schemas"]; !ok {
		return errorf("invalidSyntax", "schemas is missing; it must include %s", res.Core.ID)
	}
	return Required(res, body)
}

// Required checks that the required attributes of res are present and not
// blank in a resource document.
func Required(res *catalog.Resource, doc map[string]any) *Error {
	for _, a := range res.Attributes() {
		if !a.Required || a.Mutability == "readOnly" || a.Parent != nil {
			continue
		}
		v, ok := lookupFold(doc, a.Name)
		s, isString := v.(string)
		if !ok || v == nil || isString && strings.TrimSpace(s) == "" {
			return errorf("invalidValue", "%s is required and must not be empty", a.Name)
		}
	}
	return nil
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

func lookupFold(m map[string]any, name string) (any, bool) {
	for k, v := range m {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// extensionURI matches key against res's extension URNs: exactly, or
// ignoring case under ExtensionCase.
func extensionURI(res *catalog.Resource, key string, s Set) (string, bool) {
	uri, ok := res.ExtensionURI(key)
	if !ok || (uri != key && !s.On(ExtensionCase)) {
		return "", false
	}
	return uri, true
}

func schemas(res *catalog.Resource, body map[string]any, key string, v any, s Set) *Error {
	list, ok := v.([]any)
	if !ok {
		return errorf("invalidSyntax", "schemas must be a list of schema URIs")
	}
	var core bool
	for i, el := range list {
		uri, ok := el.(string)
		if !ok {
			return errorf("invalidSyntax", "schemas must be a list of schema URIs")
		}
		switch {
		case uri == res.Core.ID || strings.EqualFold(uri, res.Core.ID) && s.On(ExtensionCase):
			list[i] = res.Core.ID
			core = true
		default:
			if canonical, ok := extensionURI(res, uri, s); ok {
				list[i] = canonical
			}
			// Other URIs (Entra ID adds a Microsoft one to groups) are
			// accepted and ignored.
		}
	}
	if !core {
		return errorf("invalidSyntax", "schemas must include %s", res.Core.ID)
	}
	if key != "schemas" {
		delete(body, key)
		body["schemas"] = list
	}
	return nil
}

func extension(res *catalog.Resource, body map[string]any, key, uri string, v any, s Set) *Error {
	delete(body, key)
	if v == nil {
		return nil
	}
	ext, ok := v.(map[string]any)
	if !ok {
		return errorf("invalidSyntax", "%s must be an object of that extension's attributes", uri)
	}
	seen := map[string]string{}
	for _, k := range slices.Sorted(mapKeys(ext)) {
		lk := strings.ToLower(k)
		if prev, dup := seen[lk]; dup {
			return errorf("invalidSyntax", "attribute %s:%s is given twice (as %q and %q)", uri, k, prev, k)
		}
		seen[lk] = k
		a, ok := res.Lookup(uri, k, "")
		if !ok {
			continue
		}
		if err := attribute(ext, k, a, ext[k], s); err != nil {
			return err
		}
	}
	if len(ext) > 0 {
		body[uri] = ext
	}
	return nil
}

// attribute normalises m[key], the value of a, in place.
func attribute(m map[string]any, key string, a *catalog.Attribute, v any, s Set) *Error {
	if a.Mutability == "readOnly" {
		delete(m, key)
		return nil
	}
	nv, err := Value(a, v, s)
	if err != nil {
		return err
	}
	delete(m, key)
	if nv != nil {
		m[a.Name] = nv
	}
	return nil
}
