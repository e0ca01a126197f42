// Package notify delivers the notification outbox (see queue.Enqueue) to
// webhooks: signed JSON, or a Slack-compatible message, retried with
// backoff. It runs beside the SCIM server and the engine and never holds
// them up: they only add notifications to the outbox, in the
// transactions of the changes that cause them.
package notify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"slices"
)

// The formats of a webhook's requests.
const (
	// FormatJSON is the full notification, signed (the default).
	FormatJSON = "json"
	// FormatSlack is {"text": "..."}: one sentence, for Slack's incoming
	// webhooks and the chat tools that copy them.
	FormatSlack = "slack"
)

// Formats returns the formats a webhook may have.
func Formats() []string { return []string{FormatJSON, FormatSlack} }

// Webhook is one receiver of notifications.
type Webhook struct {
	URL string
	// Secret signs every body; it never appears in logs.
	Secret []byte
	// Events are the kinds the webhook wants (queue.NotificationKinds);
	// empty means all.
	Events []string
	// Apps are the apps the webhook wants; empty means all.
	Apps []string
	// Format is FormatJSON (when empty) or FormatSlack.
	Format string
}

// Wants reports whether the webhook wants notifications of kind about app.
func (w Webhook) Wants(kind, app string) bool {
	return (len(w.Events) == 0 || slices.Contains(w.Events, kind)) &&
		(len(w.Apps) == 0 || slices.Contains(w.Apps, app))
}

func (w Webhook) format() string {
	if w.Format == "" {
		return FormatJSON
	}
	return w.Format
}

// Key identifies the webhook in the outbox's record of which webhooks
// have a notification. It changes with the URL or the format, which
// makes the webhook a new receiver; it does not reveal the URL.
func (w Webhook) Key() string {
	sum := sha256.Sum256([]byte(w.format() + "\n" + w.URL))
	return hex.EncodeToString(sum[:8])
}

// Label names the webhook in logs and errors by scheme and host only:
// paths, queries and user info often carry tokens (Slack's do).
func (w Webhook) Label() string {
	u, err := url.Parse(w.URL)
	if err != nil || u.Host == "" {
		return "webhook " + w.Key()
	}
	return u.Scheme + "://" + u.Host
}

// SignatureHeader carries the body's signature: "sha256=" and the hex
// HMAC-SHA256 of the body with the webhook's secret.
const SignatureHeader = "X-Scimbridge-Signature"

// The other headers of every request.
const (
	// EventHeader is the notification's kind, such as "task.opened".
	EventHeader = "X-Scimbridge-Event"
	// DeliveryHeader is the notification's id: the same on every retry,
	// so that a receiver can drop what it already has.
	DeliveryHeader = "X-Scimbridge-Delivery"
)

// Sign returns the signature of body with secret, as SignatureHeader
// carries it.
func Sign(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Verify reports, in constant time, whether signature is body's with
// secret. Receivers written in Go can use it as it is.
func Verify(secret, body []byte, signature string) bool {
	return hmac.Equal([]byte(Sign(secret, body)), []byte(signature))
}
