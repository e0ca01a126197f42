package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

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
// for consumers that deduplicate by id. It starts with the time in
// milliseconds so that new ids land at the end of the id index instead of
// at random places in it.
func newEventID() (string, error) {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		return "", err
	}
	return "evt_" + hex.EncodeToString(b[:]), nil
}

// appendEventsSQL inserts a JSON list of events in one statement, in list
// order, so that a request that changes thousands of members (a group's
// deletion) costs one statement, not one per event (see members.go).
const appendEventsSQL = `INSERT INTO scim_events(id, app, type, resource_type, resource_id, member_id, attributes, time)
	SELECT json_extract(j.value, '$.id'), json_extract(j.value, '$.app'), json_extract(j.value, '$.type'),
		json_extract(j.value, '$.rt'), json_extract(j.value, '$.rid'), json_extract(j.value, '$.member'),
		json_extract(j.value, '$.attrs'), json_extract(j.value, '$.time')
	FROM json_each(?) j ORDER BY j.key
	RETURNING id, seq`

// eventRow is an event as appendEventsSQL reads it.
type eventRow struct {
	ID     string  `json:"id"`
	App    string  `json:"app"`
	Type   string  `json:"type"`
	RT     string  `json:"rt"`
	RID    string  `json:"rid"`
	Member *string `json:"member"`
	Attrs  *string `json:"attrs"`
	Time   string  `json:"time"`
}

func (t *tx) AppendEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	ts := now()
	rows := make([]eventRow, len(events))
	index := make(map[string]int, len(events))
	for i := range events {
		e := &events[i]
		if e.ID == "" {
			id, err := newEventID()
			if err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			e.ID = id
		}
		if e.Time.IsZero() {
			e.Time = ts
		}
		r := eventRow{ID: e.ID, App: e.App, Type: string(e.Type), RT: e.ResourceType, RID: e.ResourceID, Time: formatTime(e.Time)}
		if e.MemberID != "" {
			r.Member = &e.MemberID
		}
		if len(e.Attributes) > 0 {
			b, err := json.Marshal(e.Attributes)
			if err != nil {
				return fmt.Errorf("append events: %w", err)
			}
			attrs := string(b)
			r.Attrs = &attrs
		}
		rows[i] = r
		index[e.ID] = i
	}
	list, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	res, err := t.q.query(ctx, appendEventsSQL, string(list))
	if err != nil {
		return fmt.Errorf("append events: %w", err)
	}
	defer res.Close()
	for res.Next() {
		var (
			id  string
			seq int64
		)
		if err := res.Scan(&id, &seq); err != nil {
			return fmt.Errorf("append events: %w", err)
		}
		if i, ok := index[id]; ok {
			events[i].Seq = seq
		}
	}
	if err := res.Err(); err != nil {
		return fmt.Errorf("append events: %w", err)
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

func (t *tx) PruneEvents(ctx context.Context, before time.Time, limit int) (int, error) {
	// The seq bound keeps the delete on the primary key; the time bound
	// only trims the end of that range.
	res, err := t.q.exec(ctx, `DELETE FROM scim_events WHERE seq IN (
		SELECT seq FROM scim_events
		WHERE seq <= (SELECT min(seq) FROM scim_event_cursors) AND time < ?
		ORDER BY seq LIMIT ?)`, formatTime(before), limit)
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("prune events: %w", err)
	}
	return int(n), nil
}
