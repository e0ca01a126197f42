package samlsp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/crewjam/saml"

	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// errReplayed means an assertion ID was already used.
var errReplayed = errors.New("assertion already used")

// replayCache remembers upstream assertion IDs until the assertions
// expire, so that a captured response cannot be used twice even if it
// gets past the request tracker. It is crewjam's AssertionHandler, which
// runs after validation and before the session is made.
type replayCache struct {
	db  *sqlite.DB
	now func() time.Time
}

// replayTimeout bounds the write: crewjam's AssertionHandler gets no
// request context.
const replayTimeout = 10 * time.Second

// HandleAssertion refuses an assertion whose ID was seen before.
func (c replayCache) HandleAssertion(a *saml.Assertion) error {
	ctx, cancel := context.WithTimeout(context.Background(), replayTimeout)
	defer cancel()
	return c.remember(ctx, a)
}

func (c replayCache) remember(ctx context.Context, a *saml.Assertion) error {
	if a.ID == "" {
		return errors.New("the assertion has no ID")
	}
	now := c.now()
	expires := assertionExpiry(a, now).Add(saml.MaxClockSkew)
	var inserted int64
	err := c.db.Update(ctx, func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("not a SQLite transaction")
		}
		if _, err := q.Exec(ctx, `DELETE FROM samlsp_seen_assertions WHERE expires < ?`, formatTime(now)); err != nil {
			return err
		}
		res, err := q.Exec(ctx, `INSERT INTO samlsp_seen_assertions(id, expires) VALUES (?, ?) ON CONFLICT(id) DO NOTHING`,
			a.ID, formatTime(expires))
		if err != nil {
			return err
		}
		inserted, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return fmt.Errorf("record the assertion ID: %w", err)
	}
	if inserted == 0 {
		return errReplayed
	}
	return nil
}

// assertionExpiry is the latest moment any part of a would still be
// accepted.
func assertionExpiry(a *saml.Assertion, now time.Time) time.Time {
	latest := a.IssueInstant.Add(saml.MaxIssueDelay)
	if a.Conditions != nil && a.Conditions.NotOnOrAfter.After(latest) {
		latest = a.Conditions.NotOnOrAfter
	}
	if a.Subject != nil {
		for _, sc := range a.Subject.SubjectConfirmations {
			if sc.SubjectConfirmationData != nil && sc.SubjectConfirmationData.NotOnOrAfter.After(latest) {
				latest = sc.SubjectConfirmationData.NotOnOrAfter
			}
		}
	}
	if latest.Before(now) {
		latest = now
	}
	return latest
}
