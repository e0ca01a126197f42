package sqlite

import (
	"errors"
	"fmt"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/scimbridge/scimbridge/scim/store"
)

// unwritable names the primary result codes that mean the database
// cannot take writes until an operator acts, with the words a log line
// uses; ok is false for every other code.
func unwritable(code int) (name, reason string, ok bool) {
	switch code {
	case sqlite3.SQLITE_FULL:
		return "SQLITE_FULL", "the disk is full", true
	case sqlite3.SQLITE_READONLY:
		return "SQLITE_READONLY", "the database file is read-only", true
	case sqlite3.SQLITE_IOERR:
		return "SQLITE_IOERR", "the disk reports I/O errors", true
	}
	return "", "", false
}

// writeFault turns an error of a write whose cause is the disk or the
// file's permissions into a *store.UnavailableError; others pass as they
// are.
func writeFault(err error) error {
	var se *sqlite.Error
	if err == nil || errors.Is(err, store.ErrUnavailable) || !errors.As(err, &se) {
		return err
	}
	// Extended codes (SQLITE_IOERR_FSYNC, SQLITE_READONLY_DIRECTORY…)
	// keep their family in the low byte.
	name, reason, ok := unwritable(se.Code() & 0xff)
	if !ok {
		return err
	}
	return &store.UnavailableError{Reason: reason, Code: fmt.Sprintf("%s (%d)", name, se.Code()), Err: err}
}
