package samlsp

import (
	"errors"
	"net/http"
	"strings"

	"github.com/crewjam/saml"
)

// refusalReason turns an ACS error into a short, fixed reason for the
// log. crewjam's own texts are not logged: an InvalidResponseError holds
// the whole response, and parser messages can quote its content, which
// carries personal data.
func refusalReason(err error) string {
	switch {
	case errors.Is(err, errReplayed):
		return "assertion replayed"
	case errors.Is(err, errIncompleteAssertion):
		return "assertion lacks Subject or Conditions"
	case errors.Is(err, errNoAudience):
		return "audience is not scimbridge"
	case errors.Is(err, http.ErrNoCookie):
		return "no pending sign-in for this response (tracker cookie missing or expired)"
	}
	var status saml.ErrBadStatus
	if errors.As(err, &status) {
		return "the IdP answered with status " + status.Status
	}
	var ire *saml.InvalidResponseError
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		err = ire.PrivateErr
	}
	msg := err.Error()
	for _, c := range []struct{ needle, reason string }{
		{"InResponseTo", "response does not answer a pending sign-in (unsolicited, replayed, or tracker expired)"},
		{"possible request IDs", "response does not answer a pending sign-in (unsolicited, replayed, or tracker expired)"},
		{"ignature", "signature missing or invalid"},
		{"IssueInstant expired", "response too old"},
		{"expired", "assertion expired"},
		{"not yet valid", "assertion not yet valid"},
		{"Destination", "wrong destination"},
		{"Recipient", "wrong recipient"},
		{"ssuer", "wrong issuer"},
		{"udience", "audience is not scimbridge"},
		{"decrypt", "cannot decrypt the assertion"},
		{"base64", "response is not base64"},
		{"xml", "malformed XML"},
		{"XML", "malformed XML"},
		{"session", "could not store the session"},
		{"token", "tracker cookie invalid"},
	} {
		if strings.Contains(msg, c.needle) {
			return c.reason
		}
	}
	return "invalid SAML response"
}
