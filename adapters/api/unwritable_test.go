package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestUnwritableDatabase: a move the database cannot store answers 503
// with Retry-After and no internal text; reads go on, and the move works
// once the database takes writes again.
func TestUnwritableDatabase(t *testing.T) {
	w := populated(t)
	id := w.taskOf("alice")
	path := fmt.Sprintf("/api/v1/tasks/%d/claim", id)
	if err := w.db.Pragma(t.Context(), "PRAGMA query_only = ON"); err != nil {
		t.Fatal(err)
	}
	r := w.do("POST", path, w.alice, "")
	if r.status != http.StatusServiceUnavailable || r.header.Get("Retry-After") == "" {
		t.Fatalf("claim on a read-only database: status %d, Retry-After %q: %s", r.status, r.header.Get("Retry-After"), r.body)
	}
	if body := string(r.body); strings.Contains(body, "SQLITE") || strings.Contains(body, "read") {
		t.Errorf("the answer tells of the inside: %s", body)
	}
	if !strings.Contains(w.logs.String(), `"code":"SQLITE_READONLY (8)"`) {
		t.Errorf("no log line with the cause:\n%s", w.logs.String())
	}
	if got := w.api("GET", fmt.Sprintf("/tasks/%d", id), "", 200)["status"]; got != "open" {
		t.Errorf("task is %v after a refused claim", got)
	}
	if err := w.db.Pragma(t.Context(), "PRAGMA query_only = OFF"); err != nil {
		t.Fatal(err)
	}
	w.api("POST", fmt.Sprintf("/tasks/%d/claim", id), "", 200)
}
