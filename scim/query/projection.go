package query

import (
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Projection is what the attributes and excludedAttributes parameters ask
// for (RFC 7644 §3.4.2.5). The zero Projection returns every attribute
// whose "returned" characteristic is default or always.
type Projection struct {
	include map[*catalog.Attribute]bool // nil: no attributes parameter
	exclude map[*catalog.Attribute]bool
	// Whole extensions named by their URI.
	includeExt map[string]bool
	excludeExt map[string]bool
}

// ParseProjection parses the comma-separated attributes and
// excludedAttributes parameters.
func ParseProjection(res *catalog.Resource, attributes, excluded string) (Projection, error) {
	var p Projection
	if strings.TrimSpace(attributes) != "" {
		p.include = map[*catalog.Attribute]bool{}
		p.includeExt = map[string]bool{}
		if err := parseNames(res, "attributes", attributes, p.include, p.includeExt); err != nil {
			return Projection{}, err
		}
	}
	if strings.TrimSpace(excluded) != "" {
		p.exclude = map[*catalog.Attribute]bool{}
		p.excludeExt = map[string]bool{}
		if err := parseNames(res, "excludedAttributes", excluded, p.exclude, p.excludeExt); err != nil {
			return Projection{}, err
		}
	}
	return p, nil
}

func parseNames(res *catalog.Resource, param, list string, attrs map[*catalog.Attribute]bool, exts map[string]bool) error {
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		if uri, ok := res.ExtensionURI(name); ok {
			exts[uri] = true
			continue
		}
		a, ok := res.LookupPath(name)
		if !ok {
			return &Error{Param: param, Msg: "unknown attribute " + quote(name)}
		}
		attrs[a] = true
	}
	return nil
}

func quote(s string) string { return `"` + s + `"` }

// All reports whether the projection asks for nothing special: every
// attribute returned by default. Apply then changes no valid document.
func (p Projection) All() bool { return p.ExcludesOnly() }

// ExcludesOnly reports whether the projection lists no attributes to
// return and excludes none but the given ones. Callers pass attributes a
// stored document never holds, to learn that Apply would leave it as is.
func (p Projection) ExcludesOnly(attrs ...*catalog.Attribute) bool {
	if p.include != nil || len(p.excludeExt) > 0 {
		return false
	}
	for a := range p.exclude {
		if !slices.Contains(attrs, a) {
			return false
		}
	}
	return true
}

// Returns reports whether any part of the top-level attribute a will be in
// the response. Callers use it to skip loading what would be thrown away,
// such as a group's members under excludedAttributes=members.
func (p Projection) Returns(a *catalog.Attribute) bool {
	if a.Returned == "always" {
		return true
	}
	if a.Returned == "never" || p.exclude[a] || p.excludeExt[a.Schema] && a.Extension() {
		return false
	}
	if p.include == nil {
		return a.Returned != "request"
	}
	if p.include[a] || p.includeExt[a.Schema] && a.Extension() {
		return true
	}
	for _, s := range a.Sub {
		if p.include[s] {
			return true
		}
	}
	return false
}

// ReturnsExternalID reports whether externalId, which the SCIM library adds
// to responses itself, should be there.
func (p Projection) ReturnsExternalID(res *catalog.Resource) bool {
	a, _ := res.Lookup("", "externalId", "")
	return p.Returns(a)
}

// Apply returns a copy of doc, a resource's attributes keyed by canonical
// names with extensions nested under their URI, cut down to what the
// projection asks for.
func (p Projection) Apply(res *catalog.Resource, doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for key, v := range doc {
		if uri, ok := res.ExtensionURI(key); ok {
			ext, ok := v.(map[string]any)
			if !ok {
				continue
			}
			kept := map[string]any{}
			for name, ev := range ext {
				a, ok := res.Lookup(uri, name, "")
				if !ok {
					continue
				}
				if pv, ok := p.value(a, ev); ok {
					kept[name] = pv
				}
			}
			if len(kept) > 0 {
				out[key] = kept
			}
			continue
		}
		a, ok := res.Lookup(res.Core.ID, key, "")
		if !ok {
			continue
		}
		if pv, ok := p.value(a, v); ok {
			out[key] = pv
		}
	}
	return out
}

// value projects one top-level attribute's value.
func (p Projection) value(a *catalog.Attribute, v any) (any, bool) {
	if !p.Returns(a) {
		return nil, false
	}
	if a.Type != catalog.Complex || !p.trimsSubs(a) {
		return v, true
	}
	switch v := v.(type) {
	case map[string]any:
		m := p.subs(a, v)
		return m, len(m) > 0
	case []any:
		var out []any
		for _, el := range v {
			if m, ok := el.(map[string]any); ok {
				if pm := p.subs(a, m); len(pm) > 0 {
					out = append(out, pm)
				}
			}
		}
		return out, len(out) > 0
	}
	return v, true
}

// trimsSubs reports whether only some sub-attributes of a are wanted.
func (p Projection) trimsSubs(a *catalog.Attribute) bool {
	for _, s := range a.Sub {
		if p.exclude[s] || s.Returned == "never" || s.Returned == "request" {
			return true
		}
	}
	if p.include == nil || p.include[a] || p.includeExt[a.Schema] && a.Extension() {
		return false
	}
	return true
}

func (p Projection) subs(a *catalog.Attribute, m map[string]any) map[string]any {
	whole := p.include == nil || p.include[a] || p.includeExt[a.Schema] && a.Extension()
	out := make(map[string]any, len(m))
	for k, v := range m {
		s, ok := a.SubAttribute(k)
		if !ok || p.exclude[s] || s.Returned == "never" {
			continue
		}
		if s.Returned == "always" || p.include[s] || whole && s.Returned != "request" {
			out[k] = v
		}
	}
	return out
}
