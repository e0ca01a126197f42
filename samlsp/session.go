package samlsp

import (
	"context"
	"time"
)

// Session is a person's sign-in at the upstream IdP, as kept by
// scimbridge.
type Session struct {
	// Subject is the NameID the upstream IdP asserted.
	Subject string
	// Attributes are the upstream assertion's attributes, by Name (and by
	// FriendlyName too when it has one).
	Attributes map[string][]string
	// Email and Groups are the values of the configured attributes.
	Email  string
	Groups []string
	// Created is when the sign-in happened; Expires when it ends.
	Created time.Time
	Expires time.Time
}

type sessionKey struct{}

// SessionFrom returns the session RequireSession found for the request.
func SessionFrom(ctx context.Context) (Session, bool) {
	s, ok := ctx.Value(sessionKey{}).(Session)
	return s, ok
}

func withSession(ctx context.Context, s Session) context.Context {
	return context.WithValue(ctx, sessionKey{}, s)
}
