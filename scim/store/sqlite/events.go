package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/scimbridge/scimbridge/scim/store"
)

func (r reader) Version(ctx context.Context, app, resourceType, id string) (int64, error) {
	var q string
	switch resourceType {
	case "User":
		q = `SELECT version FROM scim_users WHERE app = ? AND id = ?`
	case "Group":
		q = `SELECT version FROM scim_groups WHERE app = ? AND id = ?`
	default:
		return 0, fmt.Errorf("version: unknown resource type %q", resourceType)
	}
	var v int64
	err := r.q.queryRow(ctx, q, app, id).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, store.ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("version: %w", err)
	}
	return v, nil
}

const eventColumns = `seq, id, app, type, resource_type, resource_id, member_id, attributes, time`

func (r reader) Events(ctx context.Context, app string, after int64, limit int) ([]store.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	if app == "" {
		rows, err = r.q.query(ctx, `SELECT `+eventColumns+` FROM scim_events WHERE seq > ? ORDER BY seq LIMIT ?`, after, limit)
	} else {
		rows, err = r.q.query(ctx, `SELECT `+eventColumns+` FROM scim_events WHERE app = ? AND seq > ? ORDER BY seq LIMIT ?`, app, after, limit)
	}
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return scanEvents(rows)
}

func (r reader) LatestEvents(ctx context.Context, app string, n int) ([]store.Event, error) {
	if n <= 0 {
		return nil, nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	// Read backwards along the primary key or scim_events_app, so that the
	// cost is n rows whatever the size of the outbox.
	if app == "" {
		rows, err = r.q.query(ctx, `SELECT `+eventColumns+` FROM scim_events ORDER BY seq DESC LIMIT ?`, n)
	} else {
		rows, err = r.q.query(ctx, `SELECT `+eventColumns+` FROM scim_events WHERE app = ? ORDER BY seq DESC LIMIT ?`, app, n)
	}
	if err != nil {
		return nil, fmt.Errorf("read latest events: %w", err)
	}
	out, err := scanEvents(rows)
	if err != nil {
		return nil, err
	}
	slices.Reverse(out)
	return out, nil
}

// scanEvents reads and closes rows of eventColumns.
func scanEvents(rows *sql.Rows) ([]store.Event, error) {
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var (
			e             store.Event
			member, attrs sql.NullString
			at            string
		)
		if err := rows.Scan(&e.Seq, &e.ID, &e.App, &e.Type, &e.ResourceType, &e.ResourceID, &member, &attrs, &at); err != nil {
			return nil, fmt.Errorf("read events: %w", err)
		}
		e.MemberID = member.String
		if attrs.Valid {
			if err := json.Unmarshal([]byte(attrs.String), &e.Attributes); err != nil {
				return nil, fmt.Errorf("read event %d: %w", e.Seq, err)
			}
		}
		when, err := parseTime(at)
		if err != nil {
			return nil, fmt.Errorf("read event %d: %w", e.Seq, err)
		}
		e.Time = when
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

func (r reader) Cursor(ctx context.Context, consumer string) (int64, error) {
	var seq int64
	err := r.q.queryRow(ctx, `SELECT seq FROM scim_event_cursors WHERE consumer = ?`, consumer).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read cursor: %w", err)
	}
	return seq, nil
}

// newEventID returns a random id that names an event across databases,
// for consumers that deduplicate by id.
func newEventID() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return "evt_" + hex.EncodeToString(b[:]), nil
}

func (t *tx) AppendEvents(ctx context.Context, events []store.Event) error {
	ts := now()
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			id, err := newEventID()
			if err != nil {
				return fmt.Errorf("append event: %w", err)
			}
			e.ID = id
		}
		if e.Time.IsZero() {
			e.Time = ts
		}
		var attrs any
		if len(e.Attributes) > 0 {
			b, err := json.Marshal(e.Attributes)
			if err != nil {
				return fmt.Errorf("append event: %w", err)
			}
			attrs = string(b)
		}
		err := t.q.queryRow(ctx, `INSERT INTO scim_events(id, app, type, resource_type, resource_id, member_id, attributes, time)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq`,
			e.ID, e.App, string(e.Type), e.ResourceType, e.ResourceID, nullIfEmpty(e.MemberID), attrs, formatTime(e.Time)).Scan(&e.Seq)
		if err != nil {
			return fmt.Errorf("append event: %w", err)
		}
	}
	return nil
}

func (t *tx) MarkProcessed(ctx context.Context, consumer string, seq int64) error {
	_, err := t.q.exec(ctx, `INSERT INTO scim_event_cursors(consumer, seq) VALUES (?, ?)
		ON CONFLICT(consumer) DO UPDATE SET seq = max(seq, excluded.seq)`, consumer, seq)
	if err != nil {
		return fmt.Errorf("mark processed: %w", err)
	}
	return nil
}
