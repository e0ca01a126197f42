// Package query turns the query parameters of a SCIM list request (filter,
// attributes, excludedAttributes, sortBy, sortOrder) into validated,
// typed structures resolved against the catalog. Storage backends translate
// them; nothing here evaluates a filter in memory.
package query

import (
	"github.com/scimbridge/scimbridge/scim/catalog"
)

// Op is a SCIM comparison operator.
type Op string

// The comparison operators of RFC 7644 §3.4.2.2.
const (
	Eq Op = "eq"
	Ne Op = "ne"
	Co Op = "co"
	Sw Op = "sw"
	Ew Op = "ew"
	Gt Op = "gt"
	Ge Op = "ge"
	Lt Op = "lt"
	Le Op = "le"
	Pr Op = "pr"
)

// Expr is a node of a validated filter.
type Expr interface{ isExpr() }

// And matches when both sides match.
type And struct{ Left, Right Expr }

// Or matches when either side matches.
type Or struct{ Left, Right Expr }

// Not matches when X does not.
type Not struct{ X Expr }

// Compare compares a single-valued attribute (or, inside Any, a
// sub-attribute of the multi-valued attribute) with a value.
//
// Value is nil for Pr, and otherwise has the Go type of the attribute:
// string (escapes decoded) for string, reference and binary attributes,
// bool, int64, float64, or time.Time for dateTime. Case folding for
// attributes that are not caseExact is the backend's job.
type Compare struct {
	Attr  *catalog.Attribute
	Op    Op
	Value any

	// slot, in a cached filter shape, is the 1-based position of the string
	// literal that supplies Value; 0 elsewhere.
	slot int
}

// Any matches when at least one element of the multi-valued attribute Attr
// satisfies Filter, whose comparisons are on Attr's sub-attributes. A nil
// Filter matches when Attr has any element at all ("emails pr").
type Any struct {
	Attr   *catalog.Attribute
	Filter Expr
}

func (*And) isExpr()     {}
func (*Or) isExpr()      {}
func (*Not) isExpr()     {}
func (*Compare) isExpr() {}
func (*Any) isExpr()     {}

// Error is a problem with a request's query parameters, worded for the
// client. The SCIM layer turns it into a 400 with the right scimType.
type Error struct {
	// Param is the query parameter at fault: "filter", "attributes",
	// "excludedAttributes", "sortBy" or "sortOrder".
	Param string
	Msg   string
}

func (e *Error) Error() string { return e.Param + ": " + e.Msg }
