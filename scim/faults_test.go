package scim_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestUnwritableDatabase makes SQLite itself refuse the writer's writes,
// as a read-only file (query_only) or a full disk (max_page_count at the
// file's size) does: SCIM writes answer 503 with Retry-After and log one
// line each, reads go on, nothing is half-written, and once the cause is
// lifted writes succeed again on an intact database.
func TestUnwritableDatabase(t *testing.T) {
	// A value that needs pages of its own: the full disk refuses only
	// writes that grow the file.
	big := strings.Repeat("the quick brown fox ", 2000)
	cases := []struct {
		name      string
		on, off   string
		reason    string
		code      string
		shrinking bool // the mode refuses writes that free space too
	}{
		{"read-only", "PRAGMA query_only = ON", "PRAGMA query_only = OFF", "read-only", "SQLITE_READONLY", true},
		{"disk full", "PRAGMA max_page_count = 1", "PRAGMA max_page_count = 1073741823", "the disk is full", "SQLITE_FULL", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			ctx := t.Context()
			keep := str(h.createUser(simpleUser("keep@example.com"))["id"])
			gone := str(h.createUser(simpleUser("gone@example.com"))["id"])
			_, seq := h.events(0, nil)

			if err := h.db.Pragma(ctx, c.on); err != nil {
				t.Fatal(err)
			}
			bigUser := func(name string) string {
				return `{"schemas":[` + userSchema + `],"userName":"` + name + `","active":true,"title":"` + big + `"}`
			}
			writes := []request{
				{method: "POST", path: "/Users", body: bigUser("new@example.com")},
				{method: "PUT", path: "/Users/" + keep, body: bigUser("keep@example.com")},
				{method: "PATCH", path: "/Users/" + keep, body: `{"schemas":[` + patchSchema + `],"Operations":[{"op":"replace","path":"title","value":"` + big + `"}]}`},
			}
			if c.shrinking {
				writes = append(writes,
					request{method: "DELETE", path: "/Users/" + gone},
					request{method: "POST", path: "/Groups", body: `{"schemas":[` + groupSchema + `],"displayName":"Sales"}`},
					request{method: "PATCH", path: "/Users/" + keep, body: `{"schemas":[` + patchSchema + `],"Operations":[{"op":"replace","path":"active","value":false}]}`})
			}
			for _, w := range writes {
				r := h.do(w)
				detail := scimError(t, r, http.StatusServiceUnavailable, "")
				if r.header.Get("Retry-After") != "30" {
					t.Errorf("%s %s: Retry-After %q, want 30", w.method, w.path, r.header.Get("Retry-After"))
				}
				for _, internal := range []string{"SQLITE", "sqlite", "disk", "read-only", "readonly", "database"} {
					if strings.Contains(detail, internal) {
						t.Errorf("%s %s: the detail %q tells of the inside (%q)", w.method, w.path, detail, internal)
					}
				}
			}

			// Reads go on.
			mustStatus(t, h.get("/Users/"+keep), http.StatusOK)
			if lr := h.list(`/Users?filter=userName+eq+"gone@example.com"`); lr["totalResults"] != float64(1) {
				t.Errorf("the filtered list found %v users, want 1", lr["totalResults"])
			}

			// One log line per refused write, saying why, with no data.
			var refused int
			for line := range strings.SplitSeq(h.logs.String(), "\n") {
				if strings.Contains(line, "@example.com") || strings.Contains(line, "quick brown fox") {
					t.Errorf("a log line holds personal data: %s", line)
				}
				var rec map[string]any
				if json.Unmarshal([]byte(line), &rec) != nil || rec["msg"] != "the database cannot be written; the change was refused" {
					continue
				}
				refused++
				if rec["level"] != "ERROR" || !strings.Contains(str(rec["reason"]), c.reason) ||
					!strings.HasPrefix(str(rec["code"]), c.code) || str(rec["request_id"]) == "" {
					t.Errorf("log line %s; want level ERROR, reason %q, code %s and a request id", line, c.reason, c.code)
				}
			}
			if refused != len(writes) {
				t.Errorf("%d log lines for %d refused writes", refused, len(writes))
			}
			if strings.Contains(h.logs.String(), `"request failed"`) {
				t.Errorf("a refused write was logged as an internal error:\n%s", h.logs.String())
			}

			// Nothing half-written: no change events, the users as they were.
			if evs, _ := h.events(seq, nil); len(evs) != 0 {
				t.Errorf("refused writes left events: %v", evs)
			}
			if err := h.db.Pragma(ctx, c.off); err != nil {
				t.Fatal(err)
			}
			u := h.get("/Users/" + keep).obj(t)
			if u["title"] != nil || u["active"] != true {
				t.Errorf("keep changed: title %.20v, active %v", u["title"], u["active"])
			}
			if lr := h.list("/Users"); lr["totalResults"] != float64(2) {
				t.Errorf("%v users after the refused writes, want 2", lr["totalResults"])
			}
			var check string
			if err := h.db.ReadSQL().QueryRow(ctx, "PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
				t.Fatalf("integrity_check: %q, %v", check, err)
			}

			// The same writes succeed once the cause is gone.
			mustStatus(t, h.do(writes[0]), http.StatusCreated)
			mustStatus(t, h.do(writes[2]), http.StatusOK)
			if c.shrinking {
				mustStatus(t, h.do(writes[3]), http.StatusNoContent)
			}
		})
	}
}
