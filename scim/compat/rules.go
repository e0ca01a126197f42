// Package compat is the one place where what Okta and Microsoft Entra ID
// really send becomes canonical SCIM before it is validated. Each quirk is
// a named rule, documented with the IdP behaviour it serves and tested
// under its IDP-REQUESTS.md row; every rule is on by default and can be
// switched off per app.
package compat

import (
	"fmt"
	"slices"
	"strings"
)

// Rule names one normalisation.
type Rule string

// The rules.
const (
	// CapitalisedOps accepts PATCH ops in any case ("Replace", "Add").
	// Entra ID without the aadOptscim062020 flag capitalises them (E6, E7).
	CapitalisedOps Rule = "capitalised-ops"
	// StringBooleans turns "True"/"False" (any case) into booleans for
	// boolean attributes, in bodies, PATCH values and PATCH path filters
	// such as roles[primary eq "True"]. Entra ID sends them (E5, E7).
	// It stands in for elimity-com/scim's SetAllowStringValues, which
	// scimbridge never calls: that switch is process-wide, so it would
	// hold for every app, and it also turns "12" into a number.
	StringBooleans Rule = "string-booleans"
	// BareManager turns a bare string given for the enterprise manager
	// into {"value": …}. Entra ID sends the manager's id that way (E9).
	BareManager Rule = "bare-manager"
	// StringifiedRoles turns a roles element whose value is a JSON object
	// in a string ({"value":"{\"id\":…,\"value\":\"Admin\",…}"}) into
	// that object's value and display. Entra ID's AppRoleAssignmentsComplex
	// mapping sends them (E11).
	StringifiedRoles Rule = "stringified-roles"
	// MemberRemoveByValue reads a PATCH remove of path "members" with a
	// value list as "remove these members". Entra ID's default shape;
	// RFC 7644 would clear the group (E15). Off, such a request is refused
	// rather than clearing the group.
	MemberRemoveByValue Rule = "member-remove-by-value"
	// PathlessDottedKeys accepts sub-attribute keys such as
	// "name.givenName", and URN-qualified keys such as
	// "urn:…:enterprise:2.0:User:employeeNumber", in a PATCH without a
	// path. Entra ID with the aadOptscim062020 flag sends them (E8). Off,
	// they are refused (invalidPath) rather than read as attribute names.
	PathlessDottedKeys Rule = "pathless-dotted-keys"
	// IDInPatchValue ignores "id" inside a PATCH value object. Okta sends
	// the group's id with every rename (O8).
	IDInPatchValue Rule = "id-in-patch-value"
	// EmptyOperations accepts a PATCH with no operations as a no-op.
	// Microsoft's SCIM validator sends one (G1).
	EmptyOperations Rule = "empty-operations"
	// SingleValueList accepts one value given for a multi-valued
	// attribute as a one-element list. Okta and Entra send a single member
	// object in some PATCH adds (E14).
	SingleValueList Rule = "single-value-list"
	// EmptyValues drops null and [] values instead of storing them, as
	// RFC 7643 §2.5 reads them: unassigned. Entra ID's create carries
	// "roles": [] (E5). Off, they are refused, for apps whose only client
	// should never send them.
	EmptyValues Rule = "empty-values"
	// ExtensionCase matches schema URNs case-insensitively; a block whose
	// case differs would otherwise be dropped unseen. Off, a PATCH path or
	// key with a URN in another case is refused (invalidPath).
	ExtensionCase Rule = "extension-case"
	// TrailingSlash ignores a trailing slash on request paths, which some
	// connectors append to the base URL.
	TrailingSlash Rule = "trailing-slash"
	// MissingUserAgent accepts requests without a User-Agent header.
	// Entra ID's Test Connection may send none (E1). Off, such requests
	// are refused, for admins who want every client to identify itself.
	MissingUserAgent Rule = "missing-user-agent"
)

// All lists every rule, in the order of the documentation.
func All() []Rule {
	return []Rule{
		CapitalisedOps, StringBooleans, BareManager, StringifiedRoles, MemberRemoveByValue,
		PathlessDottedKeys, IDInPatchValue, EmptyOperations, SingleValueList, EmptyValues,
		ExtensionCase, TrailingSlash, MissingUserAgent,
	}
}

// Set says which rules are on. The zero Set has every rule on.
type Set struct {
	off map[Rule]bool
}

// Disable returns the Set with the named rules off. An unknown name is an
// error that lists the known ones.
func Disable(names []string) (Set, error) {
	s := Set{off: map[Rule]bool{}}
	for _, n := range names {
		r := Rule(strings.TrimSpace(n))
		if !slices.Contains(All(), r) {
			known := make([]string, len(All()))
			for i, k := range All() {
				known[i] = string(k)
			}
			return Set{}, fmt.Errorf("unknown normalisation rule %q (known: %s)", n, strings.Join(known, ", "))
		}
		s.off[r] = true
	}
	return s, nil
}

// On reports whether rule r applies.
func (s Set) On(r Rule) bool { return !s.off[r] }

// Error is a request the rules and checks here refuse, worded for the
// client, with its RFC 7644 scimType.
type Error struct {
	ScimType string
	Detail   string
}

func (e *Error) Error() string { return e.ScimType + ": " + e.Detail }

func errorf(scimType, format string, args ...any) *Error {
	return &Error{ScimType: scimType, Detail: fmt.Sprintf(format, args...)}
}
