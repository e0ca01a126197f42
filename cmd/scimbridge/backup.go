package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/scimbridge/scimbridge/adapters"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const backupUsage = `Usage: scimbridge backup [-config FILE] [-force] OUT

Writes a copy of the database file (the config's database) to OUT. It
may run while "scimbridge serve" does: the copy holds the state of one
moment, which includes every change acknowledged before the backup
began, and the server goes on taking writes meanwhile. The backup
changes nothing in the database.

The copy is written beside OUT under a temporary name, must pass
SQLite's integrity check, is flushed to disk, and then takes OUT's name
with mode 0600 (it holds token hashes and personal data). A line on
standard output sums it up: size, users, groups and tasks.

OUT must not exist unless -force is given. To restore, stop the server,
put the copy in place of the database file, delete the file's -wal and
-shm files, and start the server (docs/operations.md, "Backup and
restore").
`

func runBackup(ctx context.Context, e *env, args []string) error {
	flags := flagSet(e, "backup", backupUsage)
	cfgFlag := configFlag(flags)
	force := flags.Bool("force", false, "replace OUT if it exists")
	rest, err := parse(flags, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError{"give exactly one OUT file to write the backup to"}
	}
	out := rest[0]
	cfg, err := config.Load(configPath(e, *cfgFlag), adapters.ProfileNames())
	if err != nil {
		return err
	}
	info, err := sqlite.Backup(ctx, cfg.DatabasePath(), out, *force)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; add -force to replace it", out)
	}
	if err != nil {
		return err
	}
	parts := []string{byteSize(info.Size), "integrity ok"}
	// The tables the summary counts; a database that never served has
	// no tasks table.
	for _, c := range []struct{ table, noun string }{
		{"scim_users", "users"}, {"scim_groups", "groups"}, {"adapter_tasks", "tasks"},
	} {
		if n, ok := info.Rows[c.table]; ok {
			parts = append(parts, fmt.Sprintf("%d %s", n, c.noun))
		}
	}
	fmt.Fprintf(e.stdout, "backup of %s written to %s: %s\n", cfg.DatabasePath(), out, strings.Join(parts, ", "))
	return nil
}

// byteSize writes n in bytes, KiB, MiB or GiB.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	v, suffix := float64(n)/unit, "KiB"
	for _, s := range []string{"MiB", "GiB", "TiB"} {
		if v < unit {
			break
		}
		v, suffix = v/unit, s
	}
	return fmt.Sprintf("%.1f %s", v, suffix)
}
