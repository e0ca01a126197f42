package query

import (
	"strings"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Sort is a validated sortBy / sortOrder pair.
type Sort struct {
	Attr       *catalog.Attribute
	Descending bool
}

// ParseSort validates sortBy and sortOrder. It returns nil when sortBy is
// empty: the backend then uses its own stable order (creation order).
func ParseSort(res *catalog.Resource, sortBy, sortOrder string) (*Sort, error) {
	sortBy = strings.TrimSpace(sortBy)
	var desc bool
	switch strings.ToLower(strings.TrimSpace(sortOrder)) {
	case "", "ascending":
	case "descending":
		desc = true
	default:
		return nil, &Error{Param: "sortOrder", Msg: quote(sortOrder) + ` is not "ascending" or "descending"`}
	}
	if sortBy == "" {
		return nil, nil
	}
	a, ok := res.LookupPath(sortBy)
	if !ok {
		return nil, &Error{Param: "sortBy", Msg: "unknown attribute " + quote(sortBy)}
	}
	switch {
	case a.Returned == "never":
		return nil, &Error{Param: "sortBy", Msg: quote(a.Path()) + " cannot be sorted on"}
	case a.MultiValued || a.Parent != nil && a.Parent.MultiValued:
		return nil, &Error{Param: "sortBy", Msg: quote(a.Path()) + " is multi-valued; sort on a single-valued attribute"}
	case a.Type == catalog.Complex:
		return nil, &Error{Param: "sortBy", Msg: quote(a.Path()) + " is complex; sort on one of its sub-attributes"}
	}
	return &Sort{Attr: a, Descending: desc}, nil
}
