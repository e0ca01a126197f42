package console_test

import (
	"context"
	"net/http"
	"testing"
)

// TestOverviewChartAndDrift: the overview's chart counts the tasks
// opened and finished in the last 30 days, drawn as SVG on the server.
func TestOverviewChartAndDrift(t *testing.T) {
	w := populated(t)
	if _, err := w.eng.Done(context.Background(), w.taskOf("alice"), "bob", "added", ""); err != nil {
		t.Fatal(err)
	}
	b := w.signedIn("Alice Admin")
	p := b.get("/console/")
	want(t, "overview", p, http.StatusOK,
		`id="chart-peopleai"`, `data-opened="3"`, `data-finished="1"`, `<title id="chart-peopleai-t">`, `data-drift="0"`,
		`id="chart-wiki"`)
}
