package samlsp

import (
	"context"
	"errors"
	"time"
)

// User is a shadow-directory user as a proxied or simulated login presents
// it to an app.
type User struct {
	ID         string
	UserName   string
	Email      string
	GivenName  string
	FamilyName string
	// Roles are the user's desired roles in the app, sent in the app's role
	// attribute when it has one.
	Roles []string
}

// Directory links the SSO proxy to the shadow directory. samlsp asks it
// who may enter which app and tells it who did.
type Directory interface {
	// Authorize decides whether the upstream-authenticated person may sign
	// in to app. It returns the shadow-directory user, or an error wrapping
	// ErrNotAssigned, ErrInactive or ErrUnknownUser.
	Authorize(ctx context.Context, app string, subject string, attrs map[string][]string) (User, error)
	// RecordLogin notes a successful proxied or simulated login (source
	// SourceProxy or SourceSimulated).
	RecordLogin(ctx context.Context, app string, u User, at time.Time, source string) error
}

// Sources of a recorded login.
const (
	SourceProxy     = "proxy"
	SourceSimulated = "simulated"
)

// Refusals a Directory gives; each has its own message for the person.
var (
	ErrNotAssigned = errors.New("the user is not assigned to the app")
	ErrInactive    = errors.New("the user is deactivated")
	ErrUnknownUser = errors.New("the user is not in the directory")
)
