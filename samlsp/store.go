package samlsp

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// migrations of samlsp's tables; a released step is never edited.
// Secrets that arrive from browsers (session ids, parked-request ids and
// their binding cookies) are stored only as SHA-256 hashes, so a copy of
// the database opens no session. Times are UTC text in a fixed-width
// layout, so they sort as they compare.
var migrations = []string{
	`CREATE TABLE samlsp_sessions (
		id_hash TEXT PRIMARY KEY,
		subject TEXT NOT NULL,
		attributes TEXT NOT NULL,
		created TEXT NOT NULL,
		expires TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX samlsp_sessions_expires ON samlsp_sessions(expires);

	CREATE TABLE samlsp_seen_assertions (
		id TEXT PRIMARY KEY,
		expires TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX samlsp_seen_assertions_expires ON samlsp_seen_assertions(expires);

	CREATE TABLE samlsp_parked_requests (
		id_hash TEXT PRIMARY KEY,
		binding_hash TEXT NOT NULL,
		app TEXT NOT NULL,
		request BLOB NOT NULL,
		relay_state TEXT NOT NULL,
		arrived TEXT NOT NULL,
		expires TEXT NOT NULL
	) WITHOUT ROWID;
	CREATE INDEX samlsp_parked_requests_expires ON samlsp_parked_requests(expires);`,
}

// Migrate creates or updates samlsp's tables in the database file.
func Migrate(ctx context.Context, db *sqlite.DB) error {
	return sqlite.Migrate(ctx, db, "samlsp", migrations)
}

const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeLayout, s) }

func hashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
