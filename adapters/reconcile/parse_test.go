package reconcile_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/reconcile"
)

func TestParseErrors(t *testing.T) {
	cases := []struct {
		name, csv string
		cols      reconcile.Columns
		want      string // substring of the error
		row       int    // the row the error names; 0 for none
	}{
		{"empty file", "", reconcile.Columns{}, "row 1: the file is empty; it needs a header row", 1},
		{"only a BOM", "\ufeff", reconcile.Columns{}, "the file is empty", 1},
		{"no email column", "Name,Status\nAnn,active\n", reconcile.Columns{},
			`row 1: no email column: the header has "Name", "Status"; name the column with the app's import.email setting`, 1},
		{"configured column not in the header", "Email,Status\na@x.com,active\n", reconcile.Columns{Email: "Email Address"},
			`row 1: no column "Email Address" for email; the header has "Email", "Status"`, 1},
		{"header twice", "Email,email\na@x.com,b@x.com\n", reconcile.Columns{}, `the header has "email" twice (columns 1 and 2)`, 1},
		{"one column for two fields", "Email,Role\na@x.com,Admin\n", reconcile.Columns{Email: "Email", Role: "email"},
			`email and role both name the column "email"`, 0},
		{"empty email", "Email,Status\na@x.com,active\n,inactive\n", reconcile.Columns{}, `row 3, column "Email": the email is empty`, 3},
		{"blank email cell", "Email,Status\n  ,active\n", reconcile.Columns{}, `row 2, column "Email": the email is empty`, 2},
		{"duplicate email", "Email\nann@x.com\nbob@x.com\nANN@x.com \n", reconcile.Columns{},
			`row 4, column "Email": ANN@x.com is also on row 2; each user may appear once`, 4},
		{"unknown status", "Email,Status\na@x.com,active\nb@x.com,pending\n", reconcile.Columns{},
			`row 3, column "Status": unknown status "pending"; active is one of active, enabled, true, yes, 1 and inactive one of inactive,`, 3},
		{"short row", "Email,Status,Role\na@x.com,active\n", reconcile.Columns{}, "row 2: 2 fields, but the header has 3", 2},
		{"long row", "Email\na@x.com,extra\n", reconcile.Columns{}, "row 2: 2 fields, but the header has 1", 2},
		{"bad quote", "Email,Role\na@x.com,\"Admin\nb@x.com,User\n", reconcile.Columns{}, "row 2: character", 2},
		{"bare quote", "Email,Role\na@x.com,Ad\"min\n", reconcile.Columns{}, `row 2: character 11: bare " in non-quoted-field`, 2},
		{"bad last login", "Email,Last Login\na@x.com,03/04/2025\n", reconcile.Columns{},
			`row 2, column "Last Login": "03/04/2025" is not a date and time such as 2025-03-04T10:15:00Z`, 2},
		{"not UTF-8", "Email,Role\na@x.com,Adm\xffin\n", reconcile.Columns{}, `row 2, column "Role": not UTF-8 text`, 2},
		{"terminal escape in a role", "Email,Role\na@x.com,\x1b]0;pwned\x07Admin\n", reconcile.Columns{},
			`row 2, column "Role": holds the control character U+001B; the export may be damaged`, 2},
		{"tab inside an email", "Email\n\"a\t@x.com\"\n", reconcile.Columns{}, `row 2, column "Email": holds the control character U+0009`, 2},
		{"UTF-16", "\xff\xfeE\x00m\x00", reconcile.Columns{}, "row 1: the file is UTF-16; save the export as CSV in UTF-8", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := reconcile.Parse(strings.NewReader(c.csv), c.cols)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
			var pe *reconcile.ParseError
			if got := errors.As(err, &pe); got != (c.row != 0) || (got && pe.Row != c.row) {
				t.Errorf("error %q: ParseError %v, want row %d", err, pe, c.row)
			}
		})
	}
}

func TestParseHeaders(t *testing.T) {
	cases := []struct {
		name, header string
		cols         reconcile.Columns
		want         reconcile.Columns // the header found for each field
	}{
		{"defaults", "Email,Status,Role,Last Login", reconcile.Columns{},
			reconcile.Columns{Email: "Email", Status: "Status", Role: "Role", LastLogin: "Last Login"}},
		{"default names in any case and order", "LAST_LOGIN , roles,E-Mail,state", reconcile.Columns{},
			reconcile.Columns{Email: "E-Mail", Status: "state", Role: " roles", LastLogin: "LAST_LOGIN "}},
		{"email address, active, last sign-in", "Email Address,Active,Last Sign-In", reconcile.Columns{},
			reconcile.Columns{Email: "Email Address", Status: "Active", LastLogin: "Last Sign-In"}},
		{"email wins over user", "User,Email", reconcile.Columns{}, reconcile.Columns{Email: "Email"}},
		{"user as the email", "User,lastlogin", reconcile.Columns{}, reconcile.Columns{Email: "User", LastLogin: "lastlogin"}},
		{"only email", "email", reconcile.Columns{}, reconcile.Columns{Email: "email"}},
		{"configured", "Login,Account State,User Role,Seen,Email", reconcile.Columns{Email: "login", Status: "Account State", Role: "user role", LastLogin: "SEEN"},
			reconcile.Columns{Email: "Login", Status: "Account State", Role: "User Role", LastLogin: "Seen"}},
		{"configured email, default status", "Login,Status,Email", reconcile.Columns{Email: "Login"},
			reconcile.Columns{Email: "Login", Status: "Status"}},
		{"a configured optional column the file lacks is not read", "Email,State", reconcile.Columns{Status: "Account Status"},
			reconcile.Columns{Email: "Email"}},
		{"a default taken by a configured field is skipped", "User,Status,State", reconcile.Columns{Role: "Status"},
			reconcile.Columns{Email: "User", Status: "State", Role: "Status"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := reconcile.Parse(strings.NewReader(c.header+"\n"), c.cols)
			if err != nil {
				t.Fatal(err)
			}
			if f.Columns != c.want {
				t.Errorf("columns %+v, want %+v", f.Columns, c.want)
			}
			if len(f.Rows) != 0 {
				t.Errorf("rows %v from a header alone", f.Rows)
			}
		})
	}
}

func TestParseRows(t *testing.T) {
	in := "\ufeffEmail,Status,Role,Last Login\r\n" +
		"ann@example.com,Active,Admin,2025-03-04T10:15:00Z\r\n" +
		"\r\n" + // an empty line: skipped, but counted
		" bob@example.com ,,, never\r\n" +
		",,,\r\n" + // an empty row: skipped
		"\"cy, the third\",disabled,User (Standard),2025-03-04 10:15\r\n" +
		"dee@example.com,SUSPENDED, ,2025-03-04\r\n"
	f, err := reconcile.Parse(strings.NewReader(in), reconcile.Columns{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 4, 10, 15, 0, 0, time.UTC)
	midnight := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	yes, no := true, false
	want := []reconcile.Row{
		{Row: 2, Email: "ann@example.com", Active: &yes, Role: "Admin", LastLogin: &at},
		{Row: 4, Email: "bob@example.com"},
		{Row: 6, Email: "cy, the third", Active: &no, Role: "User (Standard)", LastLogin: &at},
		{Row: 7, Email: "dee@example.com", Active: &no, LastLogin: &midnight},
	}
	if len(f.Rows) != len(want) {
		t.Fatalf("rows %+v, want %+v", f.Rows, want)
	}
	for i, w := range want {
		g := f.Rows[i]
		if g.Row != w.Row || g.Email != w.Email || g.Role != w.Role || !sameBool(g.Active, w.Active) || !sameTime(g.LastLogin, w.LastLogin) {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
}

func TestStatusValues(t *testing.T) {
	cases := []struct {
		cell   string
		active *bool // nil: no status
		err    bool
	}{
		{"active", ptr(true), false}, {"Enabled", ptr(true), false}, {"TRUE", ptr(true), false}, {"yes", ptr(true), false}, {"1", ptr(true), false},
		{"inactive", ptr(false), false}, {"Deactivated", ptr(false), false}, {"disabled", ptr(false), false}, {"suspended", ptr(false), false},
		{"false", ptr(false), false}, {"No", ptr(false), false}, {"0", ptr(false), false},
		{"", nil, false}, {"  ", nil, false},
		{"invited", nil, true}, {"2", nil, true}, {"act ive", nil, true},
	}
	for _, c := range cases {
		t.Run(c.cell, func(t *testing.T) {
			f, err := reconcile.Parse(strings.NewReader("Email,Status\na@x.com,"+c.cell+"\n"), reconcile.Columns{})
			if c.err {
				if err == nil || !strings.Contains(err.Error(), `row 2, column "Status": unknown status "`+c.cell+`"`) {
					t.Errorf("error %v, want one naming row 2 and %q", err, c.cell)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !sameBool(f.Rows[0].Active, c.active) {
				t.Errorf("active %v, want %v", show(f.Rows[0].Active), show(c.active))
			}
		})
	}
}

func TestColumnsCheck(t *testing.T) {
	if err := (reconcile.Columns{Email: "Email", Status: "Status", Role: "Role", LastLogin: "Seen"}).Check(); err != nil {
		t.Error(err)
	}
	if err := (reconcile.Columns{Status: "State", LastLogin: " state "}).Check(); err == nil ||
		err.Error() != `status and last_login both name the column "state"` {
		t.Errorf("error %v", err)
	}
	names := reconcile.DefaultNames()
	if len(names) != 4 || names["email"][0] != "email" || names["last_login"][0] != "last login" {
		t.Errorf("default names %v", names)
	}
}

func ptr[T any](v T) *T { return &v }

func sameBool(a, b *bool) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

func sameTime(a, b *time.Time) bool { return (a == nil) == (b == nil) && (a == nil || a.Equal(*b)) }

func show(b *bool) string {
	if b == nil {
		return "unknown"
	}
	if *b {
		return "true"
	}
	return "false"
}
