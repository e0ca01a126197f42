package reconcile

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Columns names the header of each column scimbridge reads from an
// export. An empty name means the usual names (see DefaultNames). Only
// the email column must be in the file; an optional column the file
// lacks, named or not, is not read.
type Columns struct {
	Email     string `yaml:"email" json:"email,omitempty"`
	Status    string `yaml:"status" json:"status,omitempty"`
	Role      string `yaml:"role" json:"role,omitempty"`
	LastLogin string `yaml:"last_login" json:"lastLogin,omitempty"`
}

// column is one field of Columns: its key (as in the config file), its
// configured header and the names tried when none is configured.
type column struct {
	key, name string
	defaults  []string
	required  bool
}

func (c Columns) list() []column {
	return []column{
		{"email", c.Email, []string{"email", "e-mail", "email address", "user"}, true},
		{"status", c.Status, []string{"status", "state", "active"}, false},
		{"role", c.Role, []string{"role", "roles"}, false},
		{"last_login", c.LastLogin, []string{"last login", "last_login", "lastlogin", "last sign-in"}, false},
	}
}

// DefaultNames returns, per key (email, status, role, last_login), the
// header names tried in order when Columns names none. They match in any
// case.
func DefaultNames() map[string][]string {
	out := map[string][]string{}
	for _, c := range (Columns{}).list() {
		out[c.key] = c.defaults
	}
	return out
}

// Check reports a mapping that names one header for two fields.
func (c Columns) Check() error {
	seen := map[string]string{}
	for _, col := range c.list() {
		n := fold(col.name)
		if n == "" {
			continue
		}
		if other, dup := seen[n]; dup {
			return fmt.Errorf("%s and %s both name the column %q", other, col.key, strings.TrimSpace(col.name))
		}
		seen[n] = col.key
	}
	return nil
}

// File is an export as read: the header of each column found (empty for
// an optional column the file lacks) and its rows.
type File struct {
	Columns Columns
	Rows    []Row
}

// Row is one user in an export. Fields the file does not give are zero:
// a nil Active, an empty Role, a nil LastLogin. An empty cell gives
// nothing either.
type Row struct {
	// Row is the line the row starts on; the header is row 1, as in a
	// spreadsheet.
	Row       int        `json:"row"`
	Email     string     `json:"email"`
	Active    *bool      `json:"active,omitempty"`
	Role      string     `json:"role,omitempty"`
	LastLogin *time.Time `json:"lastLogin,omitempty"`
}

// ParseError is a problem with one row of an export, or with its header
// (row 1).
type ParseError struct {
	Row    int
	Column string // the header of the column at fault, when one is
	Err    error
}

func (e *ParseError) Error() string {
	if e.Column != "" {
		return fmt.Sprintf("row %d, column %q: %v", e.Row, e.Column, e.Err)
	}
	return fmt.Sprintf("row %d: %v", e.Row, e.Err)
}

func (e *ParseError) Unwrap() error { return e.Err }

// StatusWords returns the status cells that mean active and inactive;
// they match in any case.
func StatusWords() (active, inactive []string) {
	return []string{"active", "enabled", "true", "yes", "1"},
		[]string{"inactive", "deactivated", "disabled", "suspended", "false", "no", "0"}
}

// lastLoginLayouts are the ISO 8601 forms a last-login cell may take.
// Forms such as 03/04/2025 are refused: day and month cannot be told
// apart.
func lastLoginLayouts() []string {
	return []string{
		time.RFC3339Nano,
		"2006-01-02T15:04:05",
		"2006-01-02 15:04:05Z07:00",
		"2006-01-02 15:04:05",
		"2006-01-02T15:04",
		"2006-01-02 15:04",
		"2006-01-02",
	}
}

// Parse reads a CSV export of an app's users: a header row, then one row
// per user. A UTF-8 byte order mark is skipped. Every problem is an
// error that names the row, and the column where there is one.
func Parse(r io.Reader, c Columns) (File, error) {
	if err := c.Check(); err != nil {
		return File{}, err
	}
	br := bufio.NewReader(r)
	head, _ := br.Peek(3)
	switch {
	case bytes.HasPrefix(head, []byte("\xef\xbb\xbf")):
		br.Discard(3)
	case bytes.HasPrefix(head, []byte("\xff\xfe")), bytes.HasPrefix(head, []byte("\xfe\xff")):
		return File{}, &ParseError{Row: 1, Err: errors.New("the file is UTF-16; save the export as CSV in UTF-8")}
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked here, to say which row is short
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return File{}, &ParseError{Row: 1, Err: errors.New("the file is empty; it needs a header row naming its columns")}
	}
	if err != nil {
		return File{}, csvError(err)
	}
	idx, f, err := locate(header, c)
	if err != nil {
		return File{}, err
	}
	firstRow := map[string]int{}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return File{}, csvError(err)
		}
		line, _ := cr.FieldPos(0)
		if blank(rec) {
			continue // spreadsheets leave empty rows at the end
		}
		if len(rec) != len(header) {
			return File{}, &ParseError{Row: line, Err: fmt.Errorf("%d fields, but the header has %d", len(rec), len(header))}
		}
		row, err := parseRow(rec, idx, header, line)
		if err != nil {
			return File{}, err
		}
		key := fold(row.Email)
		if first, dup := firstRow[key]; dup {
			return File{}, &ParseError{Row: line, Column: header[idx["email"]],
				Err: fmt.Errorf("%s is also on row %d; each user may appear once", row.Email, first)}
		}
		firstRow[key] = line
		f.Rows = append(f.Rows, row)
	}
	return f, nil
}

func csvError(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return &ParseError{Row: pe.StartLine, Err: fmt.Errorf("character %d: %w", pe.Column, pe.Err)}
	}
	return fmt.Errorf("reading the CSV: %w", err)
}

func blank(rec []string) bool {
	for _, v := range rec {
		if strings.TrimSpace(v) != "" {
			return false
		}
	}
	return true
}

// locate finds the column of each field in the header: first the
// configured names, then the usual names among the columns left.
func locate(header []string, c Columns) (map[string]int, File, error) {
	idx := map[string]int{}
	var f File
	found := map[string]*string{"email": &f.Columns.Email, "status": &f.Columns.Status, "role": &f.Columns.Role, "last_login": &f.Columns.LastLogin}
	used := map[int]string{}
	take := func(key string, i int) error {
		if other := used[i]; other != "" {
			return &ParseError{Row: 1, Err: fmt.Errorf("the column %q cannot be both %s and %s", header[i], other, key)}
		}
		used[i] = key
		idx[key] = i
		*found[key] = header[i]
		return nil
	}
	for _, col := range c.list() {
		name := strings.TrimSpace(col.name)
		if name == "" {
			continue
		}
		i, err := find(header, name)
		if err != nil {
			return nil, f, err
		}
		if i < 0 && col.required {
			return nil, f, &ParseError{Row: 1, Err: fmt.Errorf("no column %q for %s; the header has %s", name, col.key, quoteAll(header))}
		}
		if i < 0 {
			// An export may leave out an optional column, such as a
			// delta that lists only emails; it is then not read.
			continue
		}
		if err := take(col.key, i); err != nil {
			return nil, f, err
		}
	}
	for _, col := range c.list() {
		if strings.TrimSpace(col.name) != "" {
			continue // configured: never guessed
		}
		at := -1
		for _, name := range col.defaults {
			i, err := find(header, name)
			if err != nil {
				return nil, f, err
			}
			if i >= 0 && used[i] == "" {
				at = i
				break
			}
		}
		if at < 0 {
			if col.required {
				return nil, f, &ParseError{Row: 1, Err: fmt.Errorf("no %s column: the header has %s; name the column with the app's import.%s setting",
					col.key, quoteAll(header), col.key)}
			}
			continue
		}
		if err := take(col.key, at); err != nil {
			return nil, f, err
		}
	}
	return idx, f, nil
}

// find returns the index of the header cell called name, or -1; a name
// the header has twice is an error, since either could be meant.
func find(header []string, name string) (int, error) {
	at := -1
	for i, h := range header {
		if fold(h) != fold(name) {
			continue
		}
		if at >= 0 {
			return -1, &ParseError{Row: 1, Err: fmt.Errorf("the header has %q twice (columns %d and %d)", h, at+1, i+1)}
		}
		at = i
	}
	return at, nil
}

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}

func parseRow(rec []string, idx map[string]int, header []string, line int) (Row, error) {
	row := Row{Row: line}
	cell := func(key string) (string, string, bool) {
		i, ok := idx[key]
		if !ok {
			return "", "", false
		}
		return strings.TrimSpace(rec[i]), header[i], true
	}
	for _, key := range []string{"email", "status", "role", "last_login"} {
		v, name, ok := cell(key)
		if !ok {
			continue
		}
		if !utf8.ValidString(v) {
			return row, &ParseError{Row: line, Column: name, Err: errors.New("not UTF-8 text; save the export as CSV in UTF-8")}
		}
		// Control characters have no place in an email or a role, and
		// would reach terminals and pages that show the import.
		if i := strings.IndexFunc(v, unicode.IsControl); i >= 0 {
			c, _ := utf8.DecodeRuneInString(v[i:])
			return row, &ParseError{Row: line, Column: name, Err: fmt.Errorf("holds the control character %U; the export may be damaged", c)}
		}
		switch key {
		case "email":
			if v == "" {
				return row, &ParseError{Row: line, Column: name, Err: errors.New("the email is empty")}
			}
			row.Email = v
		case "status":
			if v == "" {
				continue
			}
			active, err := parseStatus(v)
			if err != nil {
				return row, &ParseError{Row: line, Column: name, Err: err}
			}
			row.Active = &active
		case "role":
			row.Role = v
		case "last_login":
			t, err := parseLastLogin(v)
			if err != nil {
				return row, &ParseError{Row: line, Column: name, Err: err}
			}
			row.LastLogin = t
		}
	}
	return row, nil
}

func parseStatus(v string) (bool, error) {
	active, inactive := StatusWords()
	switch w := fold(v); {
	case slices.Contains(active, w):
		return true, nil
	case slices.Contains(inactive, w):
		return false, nil
	}
	return false, fmt.Errorf("unknown status %q; active is one of %s and inactive one of %s",
		v, strings.Join(active, ", "), strings.Join(inactive, ", "))
}

// parseLastLogin reads a last-login cell; empty and "never" mean no login.
func parseLastLogin(v string) (*time.Time, error) {
	switch fold(v) {
	case "", "never", "-", "n/a":
		return nil, nil
	}
	for _, layout := range lastLoginLayouts() {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, nil
		}
	}
	return nil, fmt.Errorf("%q is not a date and time such as 2025-03-04T10:15:00Z or 2025-03-04 10:15 (UTC unless a zone is given)", v)
}

// fold is the form in which emails, headers and words are compared.
func fold(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
