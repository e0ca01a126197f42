package console

import (
	"context"
	"net/http"
	"slices"
	"strings"
)

// SSO signs people in through the company IdP (scimbridge's SAML
// service provider) instead of with an admin token.
type SSO struct {
	// Require makes sure a request carries a signed-in person, starting
	// the IdP's sign-in and coming back when it does not.
	Require func(http.Handler) http.Handler
	// Person returns who the IdP signed in, from a request that passed
	// Require: an email address (or the NameID) and the groups.
	Person func(ctx context.Context) (name string, groups []string, ok bool)
	// The IdP groups whose members may look (AdminGroup), also work tasks
	// (OperatorGroup) and also approve (ApproverGroup). AdminGroup is
	// required; a member of a higher group may sign in without being in
	// the lower ones.
	AdminGroup, OperatorGroup, ApproverGroup string
}

// roleFor returns the role the groups give, or "" when none lets the
// person in.
func (c *SSO) roleFor(groups []string) string {
	in := func(g string) bool {
		return g != "" && slices.ContainsFunc(groups, func(x string) bool { return strings.EqualFold(x, g) })
	}
	switch {
	case in(c.ApproverGroup):
		return Approver
	case in(c.OperatorGroup):
		return Operator
	case in(c.AdminGroup):
		return Viewer
	}
	return ""
}

// ssoSignin turns the IdP's sign-in into a console session, with the
// role the person's groups give.
func (s *server) ssoSignin(w http.ResponseWriter, r *http.Request) {
	name, groups, ok := s.cfg.SSO.Person(r.Context())
	if !ok || name == "" {
		s.fail(w, r, errorf(http.StatusUnauthorized, "The company sign-in did not say who you are. Try again."))
		return
	}
	role := s.cfg.SSO.roleFor(groups)
	if role == "" {
		// Which groups a person has is theirs to know; the log keeps only
		// that a sign-in was refused.
		s.log.WarnContext(r.Context(), "console sign-in refused: not in the admin group")
		s.fail(w, r, errorf(http.StatusForbidden, "Your company account may not use the scimbridge console: ask to be added to the group %s.", s.cfg.SSO.AdminGroup))
		return
	}
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := s.endSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	id, err := s.startSession(r.Context(), name, role)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "console sign-in through the company IdP", "role", role)
	http.SetCookie(w, s.cookie(id, int(SessionLifetime.Seconds())))
	http.Redirect(w, r, localPath(r.URL.Query().Get("return")), http.StatusSeeOther)
}
