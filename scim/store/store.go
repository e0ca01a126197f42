// Package store defines the shadow directory: the SCIM Users and Groups of
// every app as the IdP pushed them, and the bearer tokens that guard them.
// Backends (SQLite now, PostgreSQL later) implement Store and must pass the
// conformance suite in package storetest.
package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/scim/query"
)

// Store is the shadow directory.
type Store interface {
	Reader
	// Update runs fn in a write transaction and returns once the
	// transaction is durably committed, or with an error, in which case
	// nothing fn did is kept. fn may be called concurrently with readers
	// but never with another writer; it must not retain tx.
	Update(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Reader is the read side, usable outside and inside a transaction.
type Reader interface {
	// GetUser returns ErrNotFound when app has no user with that id.
	GetUser(ctx context.Context, app, id string, opts Load) (User, error)
	ListUsers(ctx context.Context, app string, q List) (Page[User], error)
	GetGroup(ctx context.Context, app, id string, opts Load) (Group, error)
	ListGroups(ctx context.Context, app string, q List) (Page[Group], error)

	// GetToken returns ErrNotFound for an unknown id.
	GetToken(ctx context.Context, id string) (Token, error)
	ListTokens(ctx context.Context) ([]Token, error)

	// Version returns the version of the resource of type resourceType
	// ("User" or "Group") with id in app, or ErrNotFound.
	Version(ctx context.Context, app, resourceType, id string) (int64, error)

	// Events returns up to limit change events of app (of every app when
	// app is ""), those with sequence numbers above after, in sequence
	// order.
	Events(ctx context.Context, app string, after int64, limit int) ([]Event, error)
	// LatestEvents returns the last n change events of app (of every app
	// when app is ""), in sequence order. Its cost is in n, not in the
	// size of the outbox.
	LatestEvents(ctx context.Context, app string, n int) ([]Event, error)
	// Cursor returns the sequence number up to which consumer has marked
	// events processed; 0 when it never has.
	Cursor(ctx context.Context, consumer string) (int64, error)
}

// Tx is a write transaction.
type Tx interface {
	Reader

	// CreateUser stores u, which must have ID set, and fills in Version,
	// Created and Modified. A userName already used in the app
	// (case-insensitively) is a *ConflictError.
	CreateUser(ctx context.Context, app string, u *User) error
	// ReplaceUser overwrites the user with u.ID, increments its version and
	// sets Modified; Created is kept.
	ReplaceUser(ctx context.Context, app string, u *User) error
	// DeleteUser removes the user and its group memberships.
	DeleteUser(ctx context.Context, app, id string) error

	// CreateGroup stores g and its members (users of the same app, by id).
	// An unknown member is an *UnknownMemberError; a displayName already
	// used in the app is a *ConflictError.
	CreateGroup(ctx context.Context, app string, g *Group, members []string) error
	// ReplaceGroup overwrites the group's attributes (not its members),
	// increments its version and sets Modified; Created is kept. Callers
	// also call it when only the members changed, to move the version.
	ReplaceGroup(ctx context.Context, app string, g *Group) error
	DeleteGroup(ctx context.Context, app, id string) error

	// The member operations below cost in the number of users they name
	// or remove, not in the size of the group. They do not change the
	// group's version (see ReplaceGroup). A group that does not exist is
	// ErrNotFound.

	// AddMembers makes the users members of the group and returns those
	// that were not members before, in the order given (repeated ids
	// once). An id that is not a user of the app is an
	// *UnknownMemberError, and then nothing is added.
	AddMembers(ctx context.Context, app, groupID string, userIDs []string) (added []string, err error)
	// RemoveMembers removes the users from the group and returns those
	// that were members. Ids that are not members are ignored.
	RemoveMembers(ctx context.Context, app, groupID string, userIDs []string) (removed []string, err error)
	// RemoveMembersWhere removes the members that match f, a filter over
	// the sub-attributes of members (value, display, type), and returns
	// their ids; a nil f removes every member.
	RemoveMembersWhere(ctx context.Context, app, groupID string, f query.Expr) (removed []string, err error)
	// SetMembers makes the group's members exactly the given users and
	// returns the changes. Unknown ids are as for AddMembers.
	SetMembers(ctx context.Context, app, groupID string, userIDs []string) (added, removed []string, err error)

	// AppendEvents adds change events to the outbox in the order given,
	// assigning each its Seq, ID (when empty) and Time (when zero).
	AppendEvents(ctx context.Context, events []Event) error
	// MarkProcessed records that consumer has processed the events up to
	// and including seq. The cursor never moves back.
	MarkProcessed(ctx context.Context, consumer string, seq int64) error
	// PruneEvents deletes up to limit events older than before that every
	// consumer has processed, oldest first, and returns how many went.
	// With no consumer recorded yet it deletes nothing.
	PruneEvents(ctx context.Context, before time.Time, limit int) (int, error)

	// SetUserState records what the adapters know of the user's account
	// in the downstream app. It does not change the user's version.
	SetUserState(ctx context.Context, app, id string, s UserState) error

	CreateToken(ctx context.Context, t Token) error
	// RevokeToken marks the token revoked; revoking twice is not an error.
	RevokeToken(ctx context.Context, id string, at time.Time) error
	// TouchToken records the token's last use.
	TouchToken(ctx context.Context, id string, at time.Time) error
}

// User is a shadow-directory user.
type User struct {
	// ID is assigned by the SCIM layer: a lower-case UUID. Backends may
	// rely on ids being in folded form when comparing them with a folded
	// filter value (the value sub-attributes of members and groups are
	// caseExact false).
	ID         string
	UserName   string
	ExternalID string // empty when the IdP sent none
	// Emails are the user's email values, kept apart so that lookups by
	// email are indexed. They repeat what Attributes holds.
	Emails []Email
	// Attributes is the JSON object of every other attribute the IdP sent
	// and scimbridge keeps (core ones by canonical name, extensions nested
	// under their URI), without id, externalId, meta, schemas, groups or
	// password.
	Attributes json.RawMessage
	Version    int64
	Created    time.Time
	Modified   time.Time

	// Groups is filled when Load.Groups is set.
	Groups []GroupRef
	// State is filled when Load.State is set and the adapters recorded one.
	State *UserState
}

// Email is one element of a user's emails.
type Email struct {
	Value   string
	Type    string
	Display string
	Primary bool
}

// GroupRef is a group a user is a direct member of.
type GroupRef struct {
	ID          string
	DisplayName string
}

// UserState is the account's progress in the downstream app, shown in the
// scimbridge User extension.
type UserState struct {
	ProvisioningState string
	PendingActions    int
	LastLogin         *time.Time
}

// Group is a shadow-directory group.
type Group struct {
	ID          string
	DisplayName string
	ExternalID  string
	// Attributes holds attributes other than displayName, externalId and
	// members (none in the core schema today; extensions later).
	Attributes json.RawMessage
	Version    int64
	Created    time.Time
	Modified   time.Time

	// Members is filled when Load.Members is set, in a stable order.
	Members []Member
}

// Member is a user in a group.
type Member struct {
	ID string
	// Display is the user's displayName, or its userName when it has none.
	Display string
}

// Load says which related data to read with a resource.
type Load struct {
	Groups  bool // User.Groups
	State   bool // User.State
	Members bool // Group.Members
}

// List is a list query.
type List struct {
	Filter query.Expr  // nil: everything
	Sort   *query.Sort // nil: creation order
	// StartIndex is 1-based; values below 1 count as 1 (RFC 7644
	// §3.4.2.4). Count 0 asks for the total only.
	StartIndex int
	Count      int
	Load       Load
}

// Page is one page of a list.
type Page[T any] struct {
	Total     int
	Resources []T
}

// Token is a bearer token's stored record. The secret itself is never
// stored, only its SHA-256 hash.
type Token struct {
	ID string
	// App is the app whose SCIM endpoint the token may act on; empty for
	// an admin token.
	App string
	// Admin marks a token of the admin API. It acts on no app's SCIM
	// endpoint, and Name is who it acts as in the audit trail.
	Admin       bool
	Name        string
	Hash        []byte
	Description string
	Created     time.Time
	LastUsed    *time.Time
	Revoked     *time.Time
}

// EventType names a change in the shadow directory.
type EventType string

// The change events. A user.updated or group.updated lists the changed
// attributes; the member events name the user. Events carry no attribute
// values: consumers read the current state from the shadow directory.
const (
	UserCreated        EventType = "user.created"
	UserUpdated        EventType = "user.updated"
	UserDeactivated    EventType = "user.deactivated"
	UserReactivated    EventType = "user.reactivated"
	UserDeleted        EventType = "user.deleted"
	GroupCreated       EventType = "group.created"
	GroupRenamed       EventType = "group.renamed"
	GroupUpdated       EventType = "group.updated"
	GroupDeleted       EventType = "group.deleted"
	GroupMemberAdded   EventType = "group.member_added"
	GroupMemberRemoved EventType = "group.member_removed"
)

// Event is one change event in the outbox.
type Event struct {
	// Seq orders the events of the whole database; it only grows.
	Seq          int64
	ID           string
	App          string
	Type         EventType
	ResourceType string // "User" or "Group"
	ResourceID   string
	// MemberID is the user of a group.member_added or member_removed.
	MemberID string
	// Attributes are the changed attributes of a user.updated or
	// group.updated, by their paths ("name", "emails",
	// "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager").
	Attributes []string
	Time       time.Time
}

// ErrNotFound means the resource does not exist in the app.
var ErrNotFound = errors.New("not found")

// ErrUnavailable means the database cannot take writes for now: the disk
// is full, the file or its directory is read-only, or the disk reports I/O
// errors. The write kept nothing; reads may still work, and the same write
// may succeed once an operator has fixed the cause. Errors that match it
// are *UnavailableError.
var ErrUnavailable = errors.New("the database cannot be written")

// UnavailableError is an ErrUnavailable with its cause.
type UnavailableError struct {
	// Reason says why in words fit for a log line: it holds no data.
	Reason string
	// Code is the backend's own name for the error, such as SQLITE_FULL.
	Code string
	Err  error
}

func (e *UnavailableError) Error() string {
	return fmt.Sprintf("%v (%s): %v", ErrUnavailable, e.Reason, e.Err)
}

func (e *UnavailableError) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrUnavailable) hold.
func (e *UnavailableError) Is(target error) bool { return target == ErrUnavailable }

// ConflictError means a uniqueness constraint would be broken.
type ConflictError struct {
	Attribute string // "userName" or "displayName"
	Value     string
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("%s %q is already in use", e.Attribute, e.Value)
}

// UnknownMemberError means a group member is not a user of the app.
type UnknownMemberError struct {
	ID string
	// Group is set when the id is a group's: nested groups are not
	// supported, because downstream apps map groups to roles, not groups
	// to groups.
	Group bool
}

func (e *UnknownMemberError) Error() string {
	if e.Group {
		return fmt.Sprintf("member %q is a group; groups cannot be members of groups", e.ID)
	}
	return fmt.Sprintf("member %q is not a user of this app", e.ID)
}

// UnsupportedFilterError means the backend cannot evaluate part of a valid
// filter (for example an attribute it does not index).
type UnsupportedFilterError struct{ Msg string }

func (e *UnsupportedFilterError) Error() string { return e.Msg }
