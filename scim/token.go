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

// IssueToken creates a token for app, stores its hash, and returns the
// token, which exists nowhere else from then on.
func IssueToken(ctx context.Context, st store.Store, app, description string) (string, store.Token, error) {
	var id [tokenIDLen / 2]byte
	var secret [32]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("token id: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", store.Token{}, fmt.Errorf("token secret: %w", err)
	}
	tok := store.Token{
		ID:          hex.EncodeToString(id[:]),
		App:         app,
		Description: description,
		Created:     time.Now().UTC(),
	}
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

func newAuthenticator(st store.Store, log *slog.Logger) *authenticator {
	return &authenticator{
		store:     st,
		log:       log,
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

// check authenticates r for app. The reason for a failure is logged, never
// returned.
func (a *authenticator) check(r *http.Request, app string) error {
	scheme, bearer, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	bearer = strings.TrimSpace(bearer)
	fail := func(reason, id string) error {
		a.log.WarnContext(r.Context(), "authentication failed", "reason", reason, "app", app,
			"token_id", id, "remote", r.RemoteAddr, "request_id", RequestID(r.Context()))
		return errUnauthorized
	}
	if !strings.EqualFold(scheme, "Bearer") || bearer == "" {
		return fail("no bearer token", "")
	}
	id, ok := tokenID(bearer)
	if !ok {
		return fail("malformed token", "")
	}
	tok, err := a.lookup(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return fail("unknown token", id)
	}
	if err != nil {
		return err
	}
	if subtle.ConstantTimeCompare(hashToken(bearer), tok.Hash) != 1 {
		return fail("wrong secret", id)
	}
	if tok.Revoked != nil {
		return fail("revoked token", id)
	}
	if tok.App != app {
		return fail("token of another app", id)
	}
	a.touch(id)
	return nil
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
