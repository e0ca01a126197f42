package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

func TestEvidenceFiles(t *testing.T) {
	w := populated(t)
	id := w.taskOf("dave")
	path := fmt.Sprintf("/tasks/%d", id)
	if files := w.api("GET", path, "", 200)["evidenceFiles"].([]any); len(files) != 0 {
		t.Fatalf("evidence before the report: %v", files)
	}
	// The console keeps files with a report; the API lists and serves them.
	data := []byte("email,status\ndave@example.com,removed\n")
	if _, err := w.eng.Done(context.Background(), id, "olga", "removed", "",
		queue.Evidence{Name: "export.csv", Type: "text/plain; charset=utf-8", Data: data}); err != nil {
		t.Fatal(err)
	}
	files := w.api("GET", path, "", 200)["evidenceFiles"].([]any)
	if len(files) != 1 {
		t.Fatalf("evidence files %v", files)
	}
	f := files[0].(map[string]any)
	href := fmt.Sprint(f["href"])
	if f["name"] != "export.csv" || f["size"] != float64(len(data)) || f["by"] != "olga" || len(fmt.Sprint(f["sha256"])) != 64 ||
		href != fmt.Sprintf("/api/v1/tasks/%d/evidence/%v", id, f["id"]) {
		t.Errorf("evidence file %v", f)
	}
	r := w.do("GET", href, w.alice, "")
	if r.status != 200 || string(r.body) != string(data) || r.header.Get("Content-Disposition") != "attachment; filename=export.csv" ||
		r.header.Get("X-Checksum-Sha256") != f["sha256"] || r.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("GET %s: %d %v %q", href, r.status, r.header, r.body)
	}
	for _, c := range []struct {
		path, token string
		status      int
	}{
		{href, w.scim["peopleai"], http.StatusUnauthorized},
		{fmt.Sprintf("/api/v1/tasks/%d/evidence/999", id), w.alice, http.StatusNotFound},
		{fmt.Sprintf("/api/v1/tasks/%d/evidence/x", id), w.alice, http.StatusNotFound},
		{fmt.Sprintf("/api/v1/tasks/%d/evidence/%v", w.taskOf("alice"), f["id"]), w.alice, http.StatusNotFound},
	} {
		if r := w.do("GET", c.path, c.token, ""); r.status != c.status {
			t.Errorf("GET %s: %d, want %d: %s", c.path, r.status, c.status, r.body)
		}
	}
}
