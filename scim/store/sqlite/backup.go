package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// BackupInfo describes the copy Backup wrote.
type BackupInfo struct {
	Size int64
	// Rows is the number of rows of each table in the copy, by name.
	Rows map[string]int64
}

// Backup writes a consistent copy of the database file at src to dst. It
// may run while another process (scimbridge serve) writes to src: the copy
// is the state of one moment, every transaction committed before Backup
// began included, and writers do not wait for it. It changes no data in
// src.
//
// The copy is written beside dst under a temporary name, passes
// SQLite's integrity check, is flushed to disk, and only then takes
// dst's name, readable and writable by its owner alone. An existing dst
// is an error that matches fs.ErrExist unless overwrite is set.
func Backup(ctx context.Context, src, dst string, overwrite bool) (BackupInfo, error) {
	fi, err := os.Stat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return BackupInfo{}, fmt.Errorf("there is no database at %s", src)
	case err != nil:
		return BackupInfo{}, fmt.Errorf("read %s: %w", src, err)
	case !fi.Mode().IsRegular():
		return BackupInfo{}, fmt.Errorf("%s is not a database file", src)
	}
	if di, err := os.Stat(dst); err == nil {
		if os.SameFile(fi, di) {
			return BackupInfo{}, fmt.Errorf("%s is the database itself", dst)
		}
		if !overwrite || !di.Mode().IsRegular() {
			return BackupInfo{}, fmt.Errorf("%s: %w", dst, fs.ErrExist)
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+".*.tmp")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("write %s: %w", dst, err)
	}
	tmpPath := tmp.Name()
	placed := false
	defer func() {
		if !placed {
			os.Remove(tmpPath)
		}
	}()
	if err := tmp.Close(); err != nil {
		return BackupInfo{}, fmt.Errorf("write %s: %w", dst, err)
	}
	if err := vacuumInto(ctx, src, tmpPath); err != nil {
		return BackupInfo{}, err
	}
	if err := syncPath(tmpPath); err != nil {
		return BackupInfo{}, fmt.Errorf("write %s: flush: %w", dst, err)
	}
	info, err := inspect(ctx, tmpPath)
	if err != nil {
		return BackupInfo{}, err
	}
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return BackupInfo{}, fmt.Errorf("write %s: %w", dst, err)
	}
	if err := place(tmpPath, dst, overwrite); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return BackupInfo{}, err
		}
		return BackupInfo{}, fmt.Errorf("write %s: %w", dst, err)
	}
	placed = true
	if err := syncPath(filepath.Dir(dst)); err != nil {
		return BackupInfo{}, fmt.Errorf("write %s: flush the directory: %w", dst, err)
	}
	return info, nil
}

// vacuumInto copies src into the empty file dst. VACUUM INTO reads in one
// read transaction, which in WAL mode no writer waits for, and writes a
// compact file in rollback-journal mode, so the copy is one file alone.
func vacuumInto(ctx context.Context, src, dst string) error {
	q := url.Values{}
	q.Set("mode", "rw") // never create an empty database at src
	q.Add("_pragma", "busy_timeout(10000)")
	db, err := openFile(src, q)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "VACUUM INTO ?", dst); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	return db.Close()
}

// inspect checks the copy at path with PRAGMA integrity_check and counts
// the rows of its tables, without changing it.
func inspect(ctx context.Context, path string) (BackupInfo, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	db, err := openFile(path, q)
	if err != nil {
		return BackupInfo{}, err
	}
	defer db.Close()
	problems, err := firstColumn(ctx, db, "PRAGMA integrity_check(20)")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}
	if len(problems) != 1 || problems[0] != "ok" {
		return BackupInfo{}, fmt.Errorf("the copy failed SQLite's integrity check: %s", strings.Join(problems, "; "))
	}
	tables, err := firstColumn(ctx, db, "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}
	info := BackupInfo{Rows: make(map[string]int64, len(tables))}
	for _, t := range tables {
		var n int64
		quoted := `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
		if err := db.QueryRowContext(ctx, "SELECT count(*) FROM "+quoted).Scan(&n); err != nil {
			return BackupInfo{}, fmt.Errorf("check the copy: count %s: %w", t, err)
		}
		info.Rows[t] = n
	}
	fi, err := os.Stat(path)
	if err != nil {
		return BackupInfo{}, fmt.Errorf("check the copy: %w", err)
	}
	info.Size = fi.Size()
	return info, db.Close()
}

// openFile opens one connection to the file at path with the driver of
// scimbridge's own functions, which indexes and checks may call.
func openFile(path string, q url.Values) (*sql.DB, error) {
	drv, err := newDriver()
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(connector{drv: drv, dsn: dsn(path, q)})
	db.SetMaxOpenConns(1)
	return db, nil
}

func firstColumn(ctx context.Context, db *sql.DB, query string) ([]string, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// place gives the finished copy at tmp the name dst. Without overwrite a
// hard link claims the name, which fails if dst appeared meanwhile.
func place(tmp, dst string, overwrite bool) error {
	if overwrite {
		return os.Rename(tmp, dst)
	}
	err := os.Link(tmp, dst)
	switch {
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("%s: %w", dst, fs.ErrExist)
	case err != nil:
		// A file system without hard links: check, then rename.
		if _, statErr := os.Lstat(dst); statErr == nil {
			return fmt.Errorf("%s: %w", dst, fs.ErrExist)
		}
		return os.Rename(tmp, dst)
	}
	return os.Remove(tmp)
}

// syncPath flushes the file or directory at path to disk.
func syncPath(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
