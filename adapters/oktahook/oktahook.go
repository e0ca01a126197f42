// Package oktahook receives Okta event hooks and reports successful SSO
// logins into just-in-time (JIT) SAML apps, whose downstream account only
// exists after the user's first login.
//
// Okta posts System Log events to a URL registered under Workflow > Event
// Hooks. The handler answers Okta's one-time verification (a GET carrying
// X-Okta-Verification-Challenge) and, for every POSTed event of type
// user.authentication.sso with outcome SUCCESS whose AppInstance target is
// one of the configured apps, calls Sink.RecordLogin. Every request must
// carry one of the configured secrets as its Authorization header: Okta
// sends the header it was given on every request, the verification
// included.
//
// Okta delivers events at least once and retries a delivery once after a
// timeout (3 s) or an error answer, never after a 4xx. So a sink failure
// answers 500, and the Sink must be idempotent: the same event, with the
// same EventID, may arrive again, as may events it already recorded from
// the same batch.
//
// Fields of Okta's request relied on (event hook envelope, and the System
// Log LogEvent of each element of data.events):
//
//	eventType                   "com.okta.event_hook" (checked when present)
//	data.events[]               the batch
//	  .uuid                     EventID, for the sink's deduplication
//	  .published                At (RFC 3339)
//	  .eventType                must be "user.authentication.sso"
//	  .outcome.result           must be "SUCCESS"
//	  .actor.id                 OktaUserID
//	  .actor.type               must be "User" when present
//	  .actor.alternateId        Login (the Okta username, usually an email)
//	  .target[] type "AppInstance"
//	    .id                     the Okta app instance id (matched first)
//	    .alternateId            the app's label (matched second)
//	    .displayName            the app's display name (matched last)
//
// Nothing personal is logged: logs carry counts, event ids, app names and
// the remote address, never logins, names or presented secrets.
package oktahook

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

// The names Okta uses, on the wire.
const (
	challengeHeader = "X-Okta-Verification-Challenge"
	envelopeType    = "com.okta.event_hook"
	ssoEventType    = "user.authentication.sso"
	outcomeSuccess  = "SUCCESS"
	targetApp       = "AppInstance"
	actorUser       = "User"
)

// DefaultMaxBody bounds a request body when Config.MaxBody is not set.
// Okta batches events, but a batch is far below this.
const DefaultMaxBody int64 = 1 << 20

// LoginEvent is one successful SSO login into a configured app.
type LoginEvent struct {
	// OktaUserID is the Okta user's id (actor.id), e.g. "00u1abcd...".
	OktaUserID string
	// Login is the Okta username (actor.alternateId), usually an email.
	// It is personal data: a sink must not log it.
	Login string
	// At is when Okta published the event; the time it was received if
	// Okta sent none.
	At time.Time
	// EventID is the event's uuid, stable across redeliveries.
	EventID string
}

// Sink records logins. RecordLogin must be idempotent on EventID, and on
// (app, OktaUserID) if it means "first login": Okta redelivers whole
// batches, so an event may arrive again, even after RecordLogin returned
// nil for it. An error makes the handler answer 500 so that Okta retries
// the batch; it is logged, so it must not contain personal data.
type Sink interface {
	RecordLogin(ctx context.Context, app string, login LoginEvent) error
}

// Config configures the handler.
type Config struct {
	// Secrets are the accepted values of the Authorization header, as
	// entered in Okta's "Authentication secret" (a "Basic ..." value is
	// compared whole). More than one lets a secret be rotated: add the
	// new one here, change it in Okta, then remove the old one.
	Secrets []string
	// AppIDs maps an Okta app instance id (e.g. "0oa1b2c3d4e5f6g7h8i9")
	// to a scimbridge app name. Preferred: ids do not change.
	AppIDs map[string]string
	// AppLabels maps an Okta app label to a scimbridge app name, matched
	// without regard to case after AppIDs. Labels can be renamed in Okta,
	// which silently stops the match.
	AppLabels map[string]string
	// Sink receives the logins. Required.
	Sink Sink
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Now is the clock; default time.Now.
	Now func() time.Time
	// MaxBody bounds a request body in bytes; default DefaultMaxBody.
	MaxBody int64
}

// Handler serves Okta's event hook requests. Make one with New.
type Handler struct {
	secrets   [][sha256.Size]byte
	appIDs    map[string]string
	appLabels map[string]string // keys folded to lower case
	sink      Sink
	log       *slog.Logger
	now       func() time.Time
	maxBody   int64
}

// New checks cfg and returns its handler.
func New(cfg Config) (*Handler, error) {
	if cfg.Sink == nil {
		return nil, errors.New("oktahook: no sink")
	}
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("oktahook: no secret: Okta's requests could not be authenticated")
	}
	h := &Handler{
		appIDs:    make(map[string]string, len(cfg.AppIDs)),
		appLabels: make(map[string]string, len(cfg.AppLabels)),
		sink:      cfg.Sink,
		log:       cfg.Logger,
		now:       cfg.Now,
		maxBody:   cfg.MaxBody,
	}
	for i, s := range cfg.Secrets {
		if strings.TrimSpace(s) == "" {
			return nil, fmt.Errorf("oktahook: secret %d is empty", i+1)
		}
		// Hashing first makes the comparison constant-time in the
		// length too.
		h.secrets = append(h.secrets, sha256.Sum256([]byte(s)))
	}
	for id, app := range cfg.AppIDs {
		if id == "" || app == "" {
			return nil, fmt.Errorf("oktahook: app id %q maps to %q: both must be set", id, app)
		}
		h.appIDs[id] = app
	}
	for label, app := range cfg.AppLabels {
		if strings.TrimSpace(label) == "" || app == "" {
			return nil, fmt.Errorf("oktahook: app label %q maps to %q: both must be set", label, app)
		}
		key := foldLabel(label)
		if prev, dup := h.appLabels[key]; dup && prev != app {
			return nil, fmt.Errorf("oktahook: app label %q maps to both %q and %q", label, prev, app)
		}
		h.appLabels[key] = app
	}
	if len(h.appIDs) == 0 && len(h.appLabels) == 0 {
		return nil, errors.New("oktahook: no app mapped: every event would be ignored")
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.maxBody <= 0 {
		h.maxBody = DefaultMaxBody
	}
	return h, nil
}

func foldLabel(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// ServeHTTP answers GET (verification) and POST (event delivery).
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		writeError(w, http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	if !h.authorized(r.Header.Get("Authorization")) {
		// The remote address only: the presented value may be a
		// mistyped real secret.
		h.log.WarnContext(r.Context(), "okta event hook: request refused: wrong or missing Authorization header",
			"remote", r.RemoteAddr, "method", r.Method)
		writeError(w, http.StatusUnauthorized, "unauthorized")
		return
	}
	if r.Method == http.MethodGet {
		h.verify(w, r)
		return
	}
	h.deliver(w, r)
}

// authorized compares got with every secret, without stopping at a match,
// so that timing tells nothing about which one or how much matched.
func (h *Handler) authorized(got string) bool {
	if got == "" {
		return false
	}
	sum := sha256.Sum256([]byte(got))
	ok := 0
	for _, s := range h.secrets {
		ok |= subtle.ConstantTimeCompare(sum[:], s[:])
	}
	return ok == 1
}

// verify answers Okta's one-time verification by echoing the challenge.
func (h *Handler) verify(w http.ResponseWriter, r *http.Request) {
	challenge := r.Header.Get(challengeHeader)
	if challenge == "" {
		writeError(w, http.StatusBadRequest, "missing "+challengeHeader+" header")
		return
	}
	h.log.InfoContext(r.Context(), "okta event hook: verification answered", "remote", r.RemoteAddr)
	writeJSON(w, http.StatusOK, struct {
		Verification string `json:"verification"`
	}{challenge})
}

// The subset of Okta's request that is read; see the package comment.
type (
	envelope struct {
		EventType string `json:"eventType"`
		EventID   string `json:"eventId"`
		Data      *struct {
			Events []logEvent `json:"events"`
		} `json:"data"`
	}
	logEvent struct {
		UUID      string `json:"uuid"`
		Published string `json:"published"`
		EventType string `json:"eventType"`
		Outcome   struct {
			Result string `json:"result"`
		} `json:"outcome"`
		Actor  object   `json:"actor"`
		Target []object `json:"target"`
	}
	object struct {
		ID          string `json:"id"`
		Type        string `json:"type"`
		AlternateID string `json:"alternateId"`
		DisplayName string `json:"displayName"`
	}
)

// deliver hands the batch's matching logins to the sink.
func (h *Handler) deliver(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if r.ContentLength > h.maxBody {
		h.log.WarnContext(ctx, "okta event hook: body too large", "remote", r.RemoteAddr, "bytes", r.ContentLength)
		writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
		return
	}
	env, err := decode(http.MaxBytesReader(w, r.Body, h.maxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log.WarnContext(ctx, "okta event hook: body too large", "remote", r.RemoteAddr, "limit", tooBig.Limit)
			writeError(w, http.StatusRequestEntityTooLarge, "request body too large")
			return
		}
		// The decoder's messages name types and offsets, not values.
		h.log.WarnContext(ctx, "okta event hook: bad request body", "remote", r.RemoteAddr, "err", err)
		writeError(w, http.StatusBadRequest, "request body is not an Okta event hook delivery")
		return
	}

	var c counts
	for _, ev := range env.Data.Events {
		if ctx.Err() != nil {
			// Okta gave up on this request; it will send the batch again.
			c.failed++
			break
		}
		h.handle(ctx, ev, &c)
	}
	attrs := []any{"delivery", env.EventID, "events", len(env.Data.Events),
		"recorded", c.recorded, "ignored", c.ignored, "invalid", c.invalid, "failed", c.failed}
	if c.failed > 0 {
		h.log.ErrorContext(ctx, "okta event hook: delivery not fully recorded; Okta will retry it", attrs...)
		writeError(w, http.StatusInternalServerError, "internal error")
		return
	}
	h.log.InfoContext(ctx, "okta event hook: delivery processed", attrs...)
	// Okta wants an empty 200 or 204.
	w.WriteHeader(http.StatusOK)
}

// decode reads one envelope and nothing after it.
func decode(body io.Reader) (*envelope, error) {
	dec := json.NewDecoder(body)
	var env envelope
	if err := dec.Decode(&env); err != nil {
		return nil, fmt.Errorf("decode delivery: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fmt.Errorf("decode delivery: %w", err)
		}
		return nil, errors.New("decode delivery: data after the JSON object")
	}
	if env.EventType != "" && env.EventType != envelopeType {
		return nil, fmt.Errorf("decode delivery: eventType %q is not %q", env.EventType, envelopeType)
	}
	if env.Data == nil {
		return nil, errors.New("decode delivery: no data object")
	}
	return &env, nil
}

type counts struct{ recorded, ignored, invalid, failed int }

// handle records one event if it is a successful SSO into a mapped app.
func (h *Handler) handle(ctx context.Context, ev logEvent, c *counts) {
	if ev.EventType != ssoEventType || ev.Outcome.Result != outcomeSuccess {
		c.ignored++
		return
	}
	app, ok := h.app(ev.Target)
	if !ok {
		// Another Okta app; the hook sees every app's logins.
		c.ignored++
		return
	}
	if ev.UUID == "" || ev.Actor.ID == "" || ev.Actor.AlternateID == "" ||
		(ev.Actor.Type != "" && ev.Actor.Type != actorUser) {
		h.log.WarnContext(ctx, "okta event hook: SSO event lacks a user or an id; skipped", "event", ev.UUID, "app", app)
		c.invalid++
		return
	}
	at, err := time.Parse(time.RFC3339Nano, ev.Published)
	if err != nil {
		// Delivery is within seconds; the receipt time is close enough.
		at = h.now()
		h.log.WarnContext(ctx, "okta event hook: event has no valid published time; using receipt time", "event", ev.UUID, "app", app)
	}
	login := LoginEvent{OktaUserID: ev.Actor.ID, Login: ev.Actor.AlternateID, At: at.UTC(), EventID: ev.UUID}
	if err := h.sink.RecordLogin(ctx, app, login); err != nil {
		h.log.ErrorContext(ctx, "okta event hook: recording a login failed", "event", ev.UUID, "app", app,
			"err", fmt.Errorf("record login: %w", err))
		c.failed++
		return
	}
	h.log.DebugContext(ctx, "okta event hook: login recorded", "event", ev.UUID, "app", app)
	c.recorded++
}

// app finds the event's AppInstance target and its scimbridge app: by id,
// then by label (alternateId), then by display name.
func (h *Handler) app(targets []object) (string, bool) {
	for _, t := range targets {
		if t.Type != targetApp {
			continue
		}
		if app, ok := h.appIDs[t.ID]; ok {
			return app, true
		}
		for _, label := range []string{t.AlternateID, t.DisplayName} {
			if label == "" {
				continue
			}
			if app, ok := h.appLabels[foldLabel(label)]; ok {
				return app, true
			}
		}
		// An SSO event names one app.
		return "", false
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	// The status is sent; a write error means the peer is gone.
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with a fixed message, never an internal error's text.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, struct {
		Error  string `json:"error"`
		Status int    `json:"status"`
	}{msg, status})
}
