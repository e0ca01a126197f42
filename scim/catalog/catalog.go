// Package catalog describes the SCIM resource types scimbridge serves: their
// schemas (as github.com/elimity-com/scim declares them, so /Schemas and
// validation agree) and an index of every attribute by name, which the
// filter, projection, sorting and body-normalisation code resolve against.
package catalog

import (
	"strings"

	"github.com/elimity-com/scim/schema"
)

// Schema URIs.
const (
	UserSchema           = "urn:ietf:params:scim:schemas:core:2.0:User"
	GroupSchema          = "urn:ietf:params:scim:schemas:core:2.0:Group"
	EnterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	BridgeUserSchema     = "urn:scimbridge:params:scim:schemas:extension:2.0:User"
)

// Type is a SCIM attribute data type (RFC 7643 §2.3).
type Type string

// The SCIM data types.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Attribute is one attribute or sub-attribute of a resource type.
type Attribute struct {
	// Schema is the URI of the schema that defines the attribute (for
	// sub-attributes, the parent's). Common attributes (id, externalId,
	// meta) have the core schema of their resource type.
	Schema      string
	Name        string
	Parent      *Attribute
	Type        Type
	MultiValued bool
	CaseExact   bool
	Required    bool
	Mutability  string // readWrite, readOnly, immutable, writeOnly
	Returned    string // always, default, never, request
	Sub         []*Attribute

	sub map[string]*Attribute
}

// SubAttribute returns the named sub-attribute, matched case-insensitively.
func (a *Attribute) SubAttribute(name string) (*Attribute, bool) {
	s, ok := a.sub[strings.ToLower(name)]
	return s, ok
}

// Path is the attribute's canonical name as used in filters and paths:
// "userName", "name.givenName", or "urn:…:enterprise:2.0:User:employeeNumber"
// for extension attributes.
func (a *Attribute) Path() string {
	if a.Parent != nil {
		return a.Parent.Path() + "." + a.Name
	}
	if a.Extension() {
		return a.Schema + ":" + a.Name
	}
	return a.Name
}

// Extension reports whether the attribute belongs to a schema extension.
func (a *Attribute) Extension() bool {
	top := a
	for top.Parent != nil {
		top = top.Parent
	}
	return top.Schema != UserSchema && top.Schema != GroupSchema
}

// Top returns the top-level attribute (the attribute itself or its parent).
func (a *Attribute) Top() *Attribute {
	if a.Parent != nil {
		return a.Parent
	}
	return a
}

// Is reports whether a is the top-level core attribute with the given name.
func (a *Attribute) Is(name string) bool {
	return a.Parent == nil && !a.Extension() && a.Name == name
}

// Resource is one resource type (User or Group) with its schemas.
type Resource struct {
	Name     string // "User"
	Endpoint string // "/Users"
	Core     schema.Schema
	// Extensions in the order they are declared; the library lists them in
	// every resource's "schemas".
	Extensions []schema.Schema

	core map[string]*Attribute            // lower-case name → attribute, core and common
	ext  map[string]map[string]*Attribute // lower-case URI → lower-case name → attribute
	uris map[string]string                // lower-case URI → canonical URI
}

// Attributes returns the top-level attributes of the core schema, the common
// attributes and then those of each extension, in declaration order.
func (r *Resource) Attributes() []*Attribute {
	var out []*Attribute
	for _, a := range r.Core.Attributes {
		out = append(out, r.core[strings.ToLower(a.Name())])
	}
	for _, name := range []string{"id", "externalid", "meta"} {
		out = append(out, r.core[name])
	}
	for _, ext := range r.Extensions {
		for _, a := range ext.Attributes {
			out = append(out, r.ext[strings.ToLower(ext.ID)][strings.ToLower(a.Name())])
		}
	}
	return out
}

// ExtensionURI returns the canonical URI of a declared extension matched
// case-insensitively.
func (r *Resource) ExtensionURI(uri string) (string, bool) {
	canonical, ok := r.uris[strings.ToLower(uri)]
	if !ok || strings.EqualFold(canonical, r.Core.ID) {
		return "", false
	}
	return canonical, true
}

// Lookup resolves an attribute by its schema URI (empty for "the core schema,
// or the one extension that defines the name"), name and optional
// sub-attribute, all case-insensitively.
func (r *Resource) Lookup(uri, name, sub string) (*Attribute, bool) {
	top, ok := r.lookupTop(uri, name)
	if !ok {
		return nil, false
	}
	if sub == "" {
		return top, true
	}
	return top.SubAttribute(sub)
}

func (r *Resource) lookupTop(uri, name string) (*Attribute, bool) {
	lname := strings.ToLower(name)
	if uri == "" {
		if a, ok := r.core[lname]; ok {
			return a, true
		}
		// RFC 7644 wants extension attributes fully qualified; clients that
		// leave the URN off are still understood when only one extension
		// defines the name.
		var found *Attribute
		for _, attrs := range r.ext {
			if a, ok := attrs[lname]; ok {
				if found != nil {
					return nil, false
				}
				found = a
			}
		}
		return found, found != nil
	}
	luri := strings.ToLower(uri)
	if luri == strings.ToLower(r.Core.ID) {
		a, ok := r.core[lname]
		return a, ok
	}
	attrs, ok := r.ext[luri]
	if !ok {
		return nil, false
	}
	a, ok := attrs[lname]
	return a, ok
}

// LookupPath resolves a dotted attribute path such as "name.givenName",
// "emails" or "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value".
func (r *Resource) LookupPath(path string) (*Attribute, bool) {
	uri, rest := r.splitURI(path)
	name, sub, _ := strings.Cut(rest, ".")
	if name == "" {
		return nil, false
	}
	return r.Lookup(uri, name, sub)
}

// splitURI separates a known schema URI prefix from an attribute path. The
// URIs contain dots ("2.0"), so the prefix is matched against the declared
// schemas rather than parsed.
func (r *Resource) splitURI(path string) (uri, rest string) {
	lpath := strings.ToLower(path)
	for luri, canonical := range r.uris {
		if strings.HasPrefix(lpath, luri+":") {
			return canonical, path[len(luri)+1:]
		}
	}
	return "", path
}

func newResource(name, endpoint string, core schema.Schema, extensions ...schema.Schema) *Resource {
	r := &Resource{
		Name:       name,
		Endpoint:   endpoint,
		Core:       core,
		Extensions: extensions,
		core:       map[string]*Attribute{},
		ext:        map[string]map[string]*Attribute{},
		uris:       map[string]string{strings.ToLower(core.ID): core.ID},
	}
	for _, a := range core.Attributes {
		r.core[strings.ToLower(a.Name())] = convert(core.ID, a, nil)
	}
	for _, a := range schema.CommonAttributes() {
		if a.Name() == "schemas" {
			continue
		}
		r.core[strings.ToLower(a.Name())] = convert(core.ID, a, nil)
	}
	for _, ext := range extensions {
		attrs := map[string]*Attribute{}
		for _, a := range ext.Attributes {
			attrs[strings.ToLower(a.Name())] = convert(ext.ID, a, nil)
		}
		r.ext[strings.ToLower(ext.ID)] = attrs
		r.uris[strings.ToLower(ext.ID)] = ext.ID
	}
	return r
}

func convert(uri string, a schema.CoreAttribute, parent *Attribute) *Attribute {
	out := &Attribute{
		Schema:      uri,
		Name:        a.Name(),
		Parent:      parent,
		Type:        Type(a.AttributeType()),
		MultiValued: a.MultiValued(),
		CaseExact:   a.CaseExact(),
		Required:    a.Required(),
		Mutability:  a.Mutability(),
		Returned:    a.Returned(),
		sub:         map[string]*Attribute{},
	}
	// Sub-attributes of a read-only parent are read-only too, whatever the
	// library's builder recorded for them.
	if parent != nil && parent.Mutability == "readOnly" {
		out.Mutability = "readOnly"
	}
	for _, s := range a.SubAttributes() {
		child := convert(uri, s, out)
		out.Sub = append(out.Sub, child)
		out.sub[strings.ToLower(child.Name)] = child
	}
	return out
}
