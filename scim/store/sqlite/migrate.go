package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Migrate applies, in one transaction, the migrations of one component
// that the database has not seen yet. Each package that owns tables in the
// database file keeps its own numbered list under its own component name;
// a step, once released, is never edited, only followed by new ones.
func Migrate(ctx context.Context, db *DB, component string, steps []string) error {
	return db.writer.submit(ctx, func(*tx) error { return migrate(ctx, db.writer.q, component, steps) })
}

func migrate(ctx context.Context, q connQuerier, component string, steps []string) error {
	if _, err := q.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		component TEXT PRIMARY KEY,
		version INTEGER NOT NULL
	)`); err != nil {
		return fmt.Errorf("migrations table: %w", err)
	}
	var version int
	err := q.queryRow(ctx, `SELECT version FROM schema_migrations WHERE component = ?`, component).Scan(&version)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("migrate %s: read version: %w", component, err)
	}
	if version > len(steps) {
		return fmt.Errorf("the database's %s schema is at version %d, newer than this scimbridge knows (%d); use a newer scimbridge", component, version, len(steps))
	}
	for ; version < len(steps); version++ {
		// Unprepared: a step holds several statements.
		if _, err := q.conn.ExecContext(ctx, steps[version]); err != nil {
			return fmt.Errorf("migrate %s to version %d: %w", component, version+1, err)
		}
	}
	if _, err := q.exec(ctx, `INSERT INTO schema_migrations(component, version) VALUES (?, ?)
		ON CONFLICT(component) DO UPDATE SET version = excluded.version`, component, version); err != nil {
		return fmt.Errorf("migrate %s: record version: %w", component, err)
	}
	return nil
}

// migrations of the shadow directory. Folded copies (…_fold) hold
// store.Fold of the value, for case-insensitive unique indexes and lookups.
// Times are UTC text in a fixed-width layout, so they sort as they compare.
// The (app) indexes hold each app's rows in creation (pk) order, so that
// unfiltered pages come out without sorting the whole app.
var migrations = []string{
	`CREATE TABLE scim_users (
		pk INTEGER PRIMARY KEY,
		app TEXT NOT NULL,
		id TEXT NOT NULL,
		user_name TEXT NOT NULL,
		user_name_fold TEXT NOT NULL,
		external_id TEXT,
		attrs TEXT NOT NULL,
		version INTEGER NOT NULL,
		created TEXT NOT NULL,
		modified TEXT NOT NULL
	);
	CREATE INDEX scim_users_app ON scim_users(app);
	CREATE UNIQUE INDEX scim_users_id ON scim_users(app, id);
	CREATE UNIQUE INDEX scim_users_user_name ON scim_users(app, user_name_fold);
	CREATE INDEX scim_users_external_id ON scim_users(app, external_id);

	CREATE TABLE scim_user_emails (
		user_pk INTEGER NOT NULL REFERENCES scim_users(pk) ON DELETE CASCADE,
		ord INTEGER NOT NULL,
		app TEXT NOT NULL,
		value TEXT,
		value_fold TEXT,
		type TEXT,
		display TEXT,
		is_primary INTEGER NOT NULL,
		PRIMARY KEY (user_pk, ord)
	) WITHOUT ROWID;
	CREATE INDEX scim_user_emails_value ON scim_user_emails(app, value_fold);

	CREATE TABLE scim_user_state (
		user_pk INTEGER PRIMARY KEY REFERENCES scim_users(pk) ON DELETE CASCADE,
		provisioning_state TEXT,
		pending_actions INTEGER,
		last_login TEXT
	);

	CREATE TABLE scim_groups (
		pk INTEGER PRIMARY KEY,
		app TEXT NOT NULL,
		id TEXT NOT NULL,
		display_name TEXT NOT NULL,
		display_name_fold TEXT NOT NULL,
		external_id TEXT,
		attrs TEXT NOT NULL,
		version INTEGER NOT NULL,
		created TEXT NOT NULL,
		modified TEXT NOT NULL
	);
	CREATE INDEX scim_groups_app ON scim_groups(app);
	CREATE UNIQUE INDEX scim_groups_id ON scim_groups(app, id);
	CREATE UNIQUE INDEX scim_groups_display_name ON scim_groups(app, display_name_fold);
	CREATE INDEX scim_groups_external_id ON scim_groups(app, external_id);

	CREATE TABLE scim_members (
		group_pk INTEGER NOT NULL REFERENCES scim_groups(pk) ON DELETE CASCADE,
		user_pk INTEGER NOT NULL REFERENCES scim_users(pk) ON DELETE CASCADE,
		PRIMARY KEY (group_pk, user_pk)
	) WITHOUT ROWID;
	CREATE INDEX scim_members_user ON scim_members(user_pk, group_pk);

	-- Rows per app, kept by triggers, so that the total of an unfiltered
	-- list costs one lookup instead of a count over the whole app.
	CREATE TABLE scim_counts (
		tbl TEXT NOT NULL,
		app TEXT NOT NULL,
		n INTEGER NOT NULL,
		PRIMARY KEY (tbl, app)
	) WITHOUT ROWID;
	CREATE TRIGGER scim_users_counted AFTER INSERT ON scim_users BEGIN
		INSERT INTO scim_counts(tbl, app, n) VALUES ('scim_users', NEW.app, 1)
			ON CONFLICT(tbl, app) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER scim_users_uncounted AFTER DELETE ON scim_users BEGIN
		UPDATE scim_counts SET n = n - 1 WHERE tbl = 'scim_users' AND app = OLD.app;
	END;
	CREATE TRIGGER scim_groups_counted AFTER INSERT ON scim_groups BEGIN
		INSERT INTO scim_counts(tbl, app, n) VALUES ('scim_groups', NEW.app, 1)
			ON CONFLICT(tbl, app) DO UPDATE SET n = n + 1;
	END;
	CREATE TRIGGER scim_groups_uncounted AFTER DELETE ON scim_groups BEGIN
		UPDATE scim_counts SET n = n - 1 WHERE tbl = 'scim_groups' AND app = OLD.app;
	END;

	CREATE TABLE scim_tokens (
		id TEXT PRIMARY KEY,
		app TEXT NOT NULL,
		hash BLOB NOT NULL,
		description TEXT NOT NULL DEFAULT '',
		created TEXT NOT NULL,
		last_used TEXT,
		revoked TEXT
	);`,

	// The outbox of change events, written in the transaction of the
	// change itself. AUTOINCREMENT: a sequence number, once committed, is
	// never handed out again, even after its event is deleted, so that a
	// consumer's cursor stays meaningful when old events are pruned.
	// Attributes are a JSON array of names, NULL when there are none.
	`CREATE TABLE scim_events (
		seq INTEGER PRIMARY KEY AUTOINCREMENT,
		id TEXT NOT NULL,
		app TEXT NOT NULL,
		type TEXT NOT NULL,
		resource_type TEXT NOT NULL,
		resource_id TEXT NOT NULL,
		member_id TEXT,
		attributes TEXT,
		time TEXT NOT NULL
	);
	CREATE UNIQUE INDEX scim_events_id ON scim_events(id);
	CREATE INDEX scim_events_app ON scim_events(app, seq);

	-- How far each consumer has processed the outbox.
	CREATE TABLE scim_event_cursors (
		consumer TEXT PRIMARY KEY,
		seq INTEGER NOT NULL
	) WITHOUT ROWID;`,

	// Admin API tokens share the table: admin = 1 and app = '' (no app is
	// named ''), and name is who the token acts as in the audit trail.
	`ALTER TABLE scim_tokens ADD COLUMN admin INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE scim_tokens ADD COLUMN name TEXT NOT NULL DEFAULT '';`,

	// A group's members are listed with each user's id and display name.
	// Read from the users' rows, a page of 100 groups of 50 members costs
	// 5,000 random reads of wide rows and as many JSON parses; this index
	// covers the lookup and holds the display name computed.
	`CREATE INDEX scim_users_member ON scim_users(pk, id, ` + memberDisplay + `);`,
}

// memberDisplay is a member's display name; the index above and the
// member reads must spell it the same for the index to cover them.
const memberDisplay = `coalesce(nullif(json_extract(attrs, '$.displayName'), ''), user_name)`
