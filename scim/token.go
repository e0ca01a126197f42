package scim

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/scim/store"
)

// A bearer token reads "sbt_<id>_<secret>": the prefix lets secret scanners
// spot leaked tokens, the id (16 hex digits) finds the stored record, and
// the secret carries 256 random bits. Only SHA-256 of the whole token is
// stored.
const (
	tokenPrefix    = "sbt_"
	tokenIDLen     = 16
	tokenSecretLen = 43 // 32 bytes, unpadded base64url
)

// IssueToken creates a token for app's SCIM endpoint, stores its hash,
// and returns the token, which exists nowhere else from then on.
func IssueToken(ctx context.Context, st store.Store, app, description string) (string, store.Token, error) {
	// An empty app would be an admin token's; any other bad name, a
	// token that no request can ever use.
	if !AppNamePattern.MatchString(app) {
		return "", store.Token{}, fmt.Errorf("token for app %q: not an app name", app)
	}
	return issue(ctx, st, store.Token{App: app, Description: description})
}

// IssueAdminToken creates a token for the admin API that acts as name in
// the audit trail, and returns it like IssueToken. It works on no app's
// SCIM endpoint.
func IssueAdminToken(ctx context.Context, st store.Store, name, description string) (string, store.Token, error) {
	if err := CheckActorName(name); err != nil {
		return "", store.Token{}, err
	}
	return issue(ctx, st, store.Token{Admin: true, Name: name, Description: description})
}

// MaxActorName bounds an admin token's name, which appears in every
// audit entry its holder causes.
const MaxActorName = 64

// CheckActorName reports whether name can stand for a person in the audit
// trail: printable, without surrounding spaces, at most MaxActorName
// characters.
func CheckActorName(name string) error {
	switch {
	case name == "":
		return errors.New("an admin token needs a name: who it acts as in the audit trail")
	case strings.TrimSpace(name) != name:
		return fmt.Errorf("name %q: no leading or trailing spaces", name)
	case utf8.RuneCountInString(name) > MaxActorName:
		return fmt.Errorf("name %q: at most %d characters", name, MaxActorName)
	case !utf8.ValidString(name) || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0:
		return fmt.Errorf("name %q: only printable characters", name)
	}
	return nil
}

// issue completes tok with a fresh id and secret and stores it.
func issue(ctx context.Context, st store.Store, tok store.Token) (string, store.Token, error) {
	var id [tokenIDLen / 2]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("token id: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("token secret: %w", err)
	}
	tok.ID = hex.EncodeToString(id[:])
	tok.Created = time.Now().UTC()
	bearer := tokenPrefix + tok.ID + "_" + base64.RawURLEncoding.EncodeToString(secret[:])
	tok.Hash = hashToken(bearer)
	if err := st.Update(ctx, func(tx store.Tx) error { return tx.CreateToken(ctx, tok) }); err != nil {
		return "", store.Token{}, err
	}
	return bearer, tok, nil
}

func hashToken(bearer string) []byte {
	sum := sha256.Sum256([]byte(bearer))
	return sum[:]
}

// tokenID returns the id inside a well-formed token.
func tokenID(bearer string) (string, bool) {
	rest, ok := strings.CutPrefix(bearer, tokenPrefix)
	if !ok || len(rest) != tokenIDLen+1+tokenSecretLen || rest[tokenIDLen] != '_' {
		return "", false
	}
	id := rest[:tokenIDLen]
	if _, err := hex.DecodeString(id); err != nil {
		return "", false
	}
	return id, true
}

// errUnauthorized is the one answer to every authentication failure, so
// that a client cannot tell a wrong token from one for another app.
var errUnauthorized = &Error{
	Status: http.StatusUnauthorized,
	Detail: "a valid bearer token for this app is required (Authorization: Bearer <token>)",
}

// authenticator checks bearer tokens and records their use.
type authenticator struct {
	store store.Store
	log   *slog.Logger
	guard *guard

	mu        sync.Mutex
	known     map[string]knownToken
	lastTouch map[string]time.Time
	touches   chan string
}

// knownToken is a stored token record and when it was read.
type knownToken struct {
	tok  store.Token
	read time.Time
}

const (
	// tokenFreshness is how long a token record read from the database is
	// trusted. Reading it for every request costs a fifth of a lookup's
	// time; a revocation (made by another process, the CLI) takes effect
	// within this long.
	tokenFreshness = time.Second
	// touchEvery limits how often a token's last use is written.
	touchEvery = time.Minute
)

func newAuthenticator(st store.Store, log *slog.Logger, g *guard) *authenticator {
	return &authenticator{
		store:     st,
		log:       log,
		guard:     g,
		known:     map[string]knownToken{},
		lastTouch: map[string]time.Time{},
		touches:   make(chan string, 64),
	}
}

// lookup returns the stored record of token id, from memory while fresh.
// Unknown ids are not remembered, so random ones cannot fill memory.
func (a *authenticator) lookup(ctx context.Context, id string) (store.Token, error) {
	now := time.Now()
	a.mu.Lock()
	k, ok := a.known[id]
	a.mu.Unlock()
	if ok && now.Sub(k.read) < tokenFreshness {
		return k.tok, nil
	}
	tok, err := a.store.GetToken(ctx, id)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			a.mu.Lock()
			delete(a.known, id)
			a.mu.Unlock()
		}
		return store.Token{}, err
	}
	a.mu.Lock()
	a.known[id] = knownToken{tok: tok, read: now}
	a.mu.Unlock()
	return tok, nil
}

// noToken is the reason for refusing a request that presented no token:
// the one failure that guesses at nothing.
const noToken = "no bearer token"

// verify returns the stored record of r's bearer token when the token is
// well formed, its secret matches and it is not revoked. Otherwise reason
// says why, for the log and never for the client, and tok holds the id
// when there is one. err is a failure to read the token.
func (a *authenticator) verify(r *http.Request) (tok store.Token, reason string, err error) {
	scheme, bearer, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	bearer = strings.TrimSpace(bearer)
	if !strings.EqualFold(scheme, "Bearer") || bearer == "" {
		return store.Token{}, noToken, nil
	}
	id, ok := tokenID(bearer)
	if !ok {
		return store.Token{}, "malformed token", nil
	}
	tok, err = a.lookup(r.Context(), id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return store.Token{ID: id}, "unknown token", nil
	case err != nil:
		return store.Token{}, "", err
	case subtle.ConstantTimeCompare(hashToken(bearer), tok.Hash) != 1:
		return store.Token{ID: id}, "wrong secret", nil
	case tok.Revoked != nil:
		return tok, "revoked token", nil
	}
	return tok, "", nil
}

// refused logs why r, from client, was refused, and counts a token it
// presented against the client's failed authentications.
func (a *authenticator) refused(r *http.Request, client, reason, tokenID string, scope ...any) {
	attrs := append([]any{"reason", reason}, scope...)
	attrs = append(attrs, "token_id", tokenID, "client", client, "request_id", RequestID(r.Context()))
	a.log.WarnContext(r.Context(), "authentication failed", attrs...)
	if reason != noToken {
		a.guard.failed(r, client)
	}
}

// check authenticates r for app's SCIM endpoint and takes the request
// from its token's rate limit. The reason for a failure is logged, never
// returned; a *LimitError refuses a client or token over its limit.
func (a *authenticator) check(r *http.Request, app string) error {
	client, err := a.guard.admit(r)
	if err != nil {
		return err
	}
	tok, reason, err := a.verify(r)
	if err != nil {
		return err
	}
	switch {
	case reason != "":
	case tok.Admin:
		reason = "admin token"
	case tok.App != app:
		reason = "token of another app"
	}
	if reason != "" {
		a.refused(r, client, reason, tok.ID, "app", app)
		return errUnauthorized
	}
	if err := a.guard.spend(r, tok); err != nil {
		return err
	}
	a.touch(tok.ID)
	return nil
}

// ErrNoAdminToken is AdminActor's one answer to every authentication
// failure, so that a client cannot tell a wrong token from a SCIM one.
var ErrNoAdminToken = errors.New("a valid admin token is required (Authorization: Bearer <token>)")

// AdminActor authenticates r as a request of the admin API and returns
// who its admin token acts as. A refusal is ErrNoAdminToken, its reason
// logged, or a *LimitError when the client has spent its failed
// authentications or the token its requests; any other error is a
// failure to read the token. It shares the SCIM endpoints' token cache,
// limits and last-use recording.
func (s *Server) AdminActor(r *http.Request) (string, error) {
	client, err := s.auth.guard.admit(r)
	if err != nil {
		return "", err
	}
	tok, reason, err := s.auth.verify(r)
	if err != nil {
		return "", err
	}
	if reason == "" && !tok.Admin {
		reason = "SCIM token"
	}
	if reason != "" {
		s.auth.refused(r, client, reason, tok.ID, "api", "admin")
		return "", ErrNoAdminToken
	}
	if err := s.auth.guard.spend(r, tok); err != nil {
		return "", err
	}
	s.auth.touch(tok.ID)
	return tok.Name, nil
}

// touch queues a last-use update at most once a minute per token, without
// making the request wait for a write.
func (a *authenticator) touch(id string) {
	now := time.Now()
	a.mu.Lock()
	if now.Sub(a.lastTouch[id]) < touchEvery {
		a.mu.Unlock()
		return
	}
	a.lastTouch[id] = now
	a.mu.Unlock()
	select {
	case a.touches <- id:
	default: // a backlog of touches is not worth slowing requests for
	}
}

// recordTouches writes queued last-use times until ctx ends.
func (a *authenticator) recordTouches(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-a.touches:
			at := time.Now().UTC()
			err := a.store.Update(ctx, func(tx store.Tx) error { return tx.TouchToken(ctx, id, at) })
			if err != nil && ctx.Err() == nil && !errors.Is(err, store.ErrNotFound) {
				a.log.Warn("could not record token use", "token_id", id, "error", err)
			}
		}
	}
}
