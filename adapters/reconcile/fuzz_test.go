package reconcile_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/scimbridge/scimbridge/adapters/csvcell"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
)

// fuzzColumns are the column settings the fuzzed exports are read with.
var fuzzColumns = []reconcile.Columns{
	{},
	{Email: "Login"},
	{Email: "mail", Status: "State", Role: "Profile", LastLogin: "Seen"},
}

// FuzzParse feeds arbitrary files to the export parser. It must never
// panic; a file it refuses gets an error that names a row; a file it
// reads keeps every row that has a cell with something in it (none is
// dropped unseen), in order, each with a plain-text email and role that
// appear once; and what it read, written back out as CSV the way
// scimbridge writes CSV, holds no cell a spreadsheet would run.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"Email,Status,Role,Last Login\nann@x.com,active,Admin,2025-03-04T10:15:00Z\nbob@x.com,inactive,,never\n",
		"\ufeffE-mail;Role\nann@x.com;Admin\n",
		"Login,Profile\n=HYPERLINK(\"http://x\"),@SUM(A1)\n",
		"mail,State,Profile,Seen\n\"ann@x.com\",\"yes\",\"+1\",\"2025-03-04 10:15\"\n,,,\n\n  ,  ,  ,  \n",
		"Email\nann@x.com\nANN@x.com\n",
		"Email,Role\na@x.com,\"Ad\nmin\"\n",
		"Email,Role\na@x.com,\x1b[31mAdmin\n",
		"\xff\xfeE\x00m\x00",
	} {
		for i := range fuzzColumns {
			f.Add([]byte(seed), uint8(i))
		}
	}
	f.Fuzz(func(t *testing.T, data []byte, which uint8) {
		cols := fuzzColumns[int(which)%len(fuzzColumns)]
		file, err := reconcile.Parse(bytes.NewReader(data), cols)
		if err != nil {
			var pe *reconcile.ParseError
			if !errors.As(err, &pe) || pe.Row < 1 || !strings.HasPrefix(err.Error(), fmt.Sprintf("row %d", pe.Row)) {
				t.Fatalf("%q: error %T %q does not name a row", data, err, err)
			}
			return
		}
		if want := filledRecords(t, data); len(file.Rows) != want {
			t.Fatalf("%q: %d rows read, but the file has %d rows with something in them", data, len(file.Rows), want)
		}
		seen := map[string]bool{}
		last := 1
		for _, row := range file.Rows {
			if row.Row <= last {
				t.Fatalf("%q: row %d after row %d", data, row.Row, last)
			}
			last = row.Row
			key := strings.ToLower(row.Email)
			if seen[key] {
				t.Fatalf("%q: %s read twice", data, row.Email)
			}
			seen[key] = true
			for _, v := range []string{row.Email, row.Role} {
				if v != strings.TrimSpace(v) || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
					t.Fatalf("%q: cell %q read as it was", data, v)
				}
			}
			if row.Email == "" {
				t.Fatalf("%q: row %d read without an email", data, row.Row)
			}
		}
		checkWrittenBack(t, file)
	})
}

// filledRecords counts the records after the header that have a cell
// with something in it, reading data as the CSV it is.
func filledRecords(t *testing.T, data []byte) int {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))))
	r.FieldsPerRecord = -1
	n := -1 // the header
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return max(n, 0)
		}
		if err != nil {
			t.Fatalf("%q: parsed, but is not CSV: %v", data, err)
		}
		if n < 0 || strings.TrimSpace(strings.Join(rec, "")) != "" {
			n++
		}
	}
}

// checkWrittenBack writes the rows as scimbridge's CSV exports do and
// reads them again: every cell comes back, none of them a formula.
func checkWrittenBack(t *testing.T, file reconcile.File) {
	t.Helper()
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, row := range file.Rows {
		w.Write(csvcell.Row(row.Email, row.Role))
	}
	w.Flush()
	back, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(back) != len(file.Rows) {
		t.Fatalf("rows written back read as %d rows: %v", len(back), err)
	}
	for i, rec := range back {
		for j, cell := range rec {
			if csvcell.Runs(cell) {
				t.Fatalf("row %d cell %d %q would run as a formula", i, j, cell)
			}
		}
		if rec[0] != csvcell.Safe(file.Rows[i].Email) {
			t.Fatalf("email %q came back as %q", file.Rows[i].Email, rec[0])
		}
	}
}
