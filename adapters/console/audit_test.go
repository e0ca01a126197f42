package console_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
)

func TestAuditPage(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	p := b.get("/console/audit?app=wiki")
	want(t, "audit of wiki", p, 200, "dave@example.com", `href="/console/audit.csv?app=wiki"`, `<th scope="col">Who</th>`)
	if strings.Contains(p.body, "alice@example.com") {
		t.Error("the wiki's audit log shows peopleai's users")
	}
	entry := regexp.MustCompile(`<tr id="audit-(\d+)"`)
	seqs := func(p page) []string {
		var out []string
		for _, m := range entry.FindAllStringSubmatch(p.body, -1) {
			out = append(out, m[1])
		}
		return out
	}
	p = b.get("/console/audit?limit=2")
	if got := seqs(p); !slices.Equal(got, []string{"1", "2"}) || !strings.Contains(p.body, `href="/console/audit?after=2&amp;limit=2"`) {
		t.Errorf("first page %v:\n%s", got, p.body)
	}
	p = b.get("/console/audit?limit=2&after=2")
	if got := seqs(p); !slices.Equal(got, []string{"3", "4"}) {
		t.Errorf("second page %v", got)
	}
	// A user by name, in any case.
	p = b.get("/console/audit?user=DAVE@example.com")
	want(t, "audit of dave", p, 200, "dave@example.com")
	if got := seqs(p); len(got) != 2 || strings.Contains(p.body, "bob@example.com") {
		t.Errorf("dave's audit %v", got)
	}
	want(t, "audit of no app", b.get("/console/audit?app=nope"), http.StatusBadRequest)
}

// TestAuditCSV: the export holds the whole trail, and cells that a
// spreadsheet would run as formulas read as text.
func TestAuditCSV(t *testing.T) {
	w := populated(t)
	w.createUser("wiki", "=HYPERLINK(1+2)", "example.com")
	w.dispatch()
	ctx := context.Background()
	tok, _, err := scim.IssueAdminToken(ctx, w.db, "@evil", "test")
	if err != nil {
		t.Fatal(err)
	}
	w.tokens["@evil"] = tok
	evil := w.signedIn("@evil")
	id := w.taskOf("=HYPERLINK(1+2)")
	if p := evil.post(fmt.Sprintf("/console/tasks/%d/fail", id), url.Values{"note": {"-1+1"}}); p.status != http.StatusSeeOther {
		t.Fatalf("fail: %d %s", p.status, p.body)
	}

	b := w.signedIn("Alice Admin")
	p := b.get("/console/audit.csv?app=wiki")
	if p.status != 200 || p.header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.Contains(p.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("export: %d %v", p.status, p.header)
	}
	records, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"seq", "time", "actor", "app", "user_id", "user_name", "task_id", "what", "from", "to", "reason"}; !slices.Equal(records[0], want) {
		t.Errorf("header %q", records[0])
	}
	var names, actors []string
	for _, r := range records[1:] {
		if r[3] != "wiki" {
			t.Errorf("a row of app %s", r[3])
		}
		names = append(names, r[5])
		actors = append(actors, r[2])
	}
	if !slices.Contains(names, "'=HYPERLINK(1+2)@example.com") || slices.Contains(names, "=HYPERLINK(1+2)@example.com") {
		t.Errorf("user names %q", names)
	}
	if !slices.Contains(actors, "'@evil") || slices.Contains(actors, "@evil") {
		t.Errorf("actors %q", actors)
	}
	for _, r := range records[1:] {
		for _, cell := range r {
			if cell != "" && strings.ContainsRune("=+-@", rune(cell[0])) {
				t.Errorf("a formula-looking cell %q in %q", cell, r)
			}
		}
	}
	// Unfiltered, it holds as many entries as the trail.
	all := b.get("/console/audit.csv")
	n := strings.Count(all.body, "\n") - 1
	var want int
	if err := w.db.ReadSQL().QueryRow(ctx, `SELECT COUNT(*) FROM adapter_audit`).Scan(&want); err != nil || n != want {
		t.Errorf("the export has %d rows, the trail %d (%v)", n, want, err)
	}
}
