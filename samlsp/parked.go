package samlsp

import (
	"context"
	"crypto/subtle"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// parkedRequest is an app's AuthnRequest, checked on arrival and kept
// while the person signs in upstream: crewjam would otherwise find it
// expired (90 s) by the time they come back, and a POST-binding request
// would not survive the redirects at all.
type parkedRequest struct {
	App        string
	Request    []byte
	RelayState string
	Arrived    time.Time
}

var (
	errParkedUnknown = errors.New("no such pending sign-in (expired, used, or from another browser)")
	errParkedExpired = errors.New("the pending sign-in expired")
)

// park stores p for ttl and returns its id (for the URL) and its binding
// (for a cookie), so that only the browser that brought the request can
// resume it.
func park(ctx context.Context, db *sqlite.DB, p parkedRequest, ttl time.Duration) (id, binding string, err error) {
	id, binding = newSecret(), newSecret()
	err = db.Update(ctx, func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("not a SQLite transaction")
		}
		if _, err := q.Exec(ctx, `DELETE FROM samlsp_parked_requests WHERE expires <= ?`, formatTime(p.Arrived)); err != nil {
			return err
		}
		_, err := q.Exec(ctx, `INSERT INTO samlsp_parked_requests(id_hash, binding_hash, app, request, relay_state, arrived, expires)
			VALUES (?, ?, ?, ?, ?, ?, ?)`,
			hashSecret(id), hashSecret(binding), p.App, p.Request, p.RelayState, formatTime(p.Arrived), formatTime(p.Arrived.Add(ttl)))
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("park the sign-in request: %w", err)
	}
	return id, binding, nil
}

// takeParked returns the request parked under id and deletes it: a
// parked request is used once. A wrong binding leaves it in place, so
// that another browser cannot use it up.
func takeParked(ctx context.Context, db *sqlite.DB, id, binding string, now time.Time) (parkedRequest, error) {
	var p parkedRequest
	err := db.Update(ctx, func(tx store.Tx) error {
		q, ok := sqlite.TxSQL(tx)
		if !ok {
			return errors.New("not a SQLite transaction")
		}
		var bindingHash, arrived, expires string
		err := q.QueryRow(ctx, `SELECT binding_hash, app, request, relay_state, arrived, expires
			FROM samlsp_parked_requests WHERE id_hash = ?`, hashSecret(id)).
			Scan(&bindingHash, &p.App, &p.Request, &p.RelayState, &arrived, &expires)
		if errors.Is(err, sql.ErrNoRows) {
			return errParkedUnknown
		}
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(bindingHash), []byte(hashSecret(binding))) != 1 {
			return errParkedUnknown
		}
		if _, err := q.Exec(ctx, `DELETE FROM samlsp_parked_requests WHERE id_hash = ?`, hashSecret(id)); err != nil {
			return err
		}
		exp, err := parseTime(expires)
		if err != nil {
			return err
		}
		if !now.Before(exp) {
			return errParkedExpired
		}
		p.Arrived, err = parseTime(arrived)
		return err
	})
	if err != nil {
		return parkedRequest{}, err
	}
	return p, nil
}
