package rest_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/rest"
)

func TestStatusClassification(t *testing.T) {
	clk := newClock()
	tests := []struct {
		name      string
		handler   func(http.ResponseWriter, *http.Request, []byte)
		success   []int
		wantKind  string
		wantAfter time.Duration // for kindAfter
		wantText  string
	}{
		{"200", status(200), nil, kindNone, 0, ""},
		{"201", status(201), nil, kindNone, 0, ""},
		{"204", status(204), nil, kindNone, 0, ""},
		{"404", answer(404, `{"error":"no such user"}`), nil, kindRefused, 0, `404 Not Found: {"error":"no such user"}`},
		{"404 listed as success (already deleted)", status(404), []int{200, 204, 404}, kindNone, 0, ""},
		{"400", answer(400, "bad\n\tinput"), nil, kindRefused, 0, "400 Bad Request: bad input"},
		{"409", status(409), nil, kindRefused, 0, "409 Conflict"},
		{"401", status(401), nil, kindRefused, 0, "401"},
		{"500", status(500), nil, kindPlain, 0, "500"},
		{"502", status(502), nil, kindPlain, 0, "502"},
		{"429 without Retry-After", status(429), nil, kindPlain, 0, "429"},
		{"429 Retry-After seconds", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(429)
		}, nil, kindAfter, 7 * time.Second, "429"},
		{"503 Retry-After date", func(w http.ResponseWriter, _ *http.Request, _ []byte) {
			w.Header().Set("Retry-After", clk.Now().Add(90*time.Second).Format(http.TimeFormat))
			w.WriteHeader(503)
		}, nil, kindAfter, 90 * time.Second, "503"},
		{"timeout", func(w http.ResponseWriter, r *http.Request, _ []byte) {
			select {
			case <-r.Context().Done():
			case <-time.After(2 * time.Second):
			}
		}, nil, kindPlain, 0, "no answer within"},
		{"long body is cut", answer(422, strings.Repeat("x", 5000)), nil, kindRefused, 0, strings.Repeat("x", 199) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, tt.handler)
			x, _, _ := newExecutor(t, a, rest.Config{
				Timeout: 50 * time.Millisecond,
				Now:     clk.Now,
				Actions: map[string]rest.Action{"deactivate": {Method: "POST", URL: "{{.Base}}/u/{{.Account.AppUserID}}/off", Success: tt.success}},
			})
			_, err := x.Execute(bg, sampleTask(1, "deactivate"), sampleAccount())
			if got := errKind(err); got != tt.wantKind {
				t.Fatalf("error %v is %s, want %s", err, got, tt.wantKind)
			}
			if tt.wantKind == kindAfter && retryAfterOf(err) != tt.wantAfter {
				t.Errorf("After = %v, want %v", retryAfterOf(err), tt.wantAfter)
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("error %q does not say %q", err, tt.wantText)
			}
			if err != nil && len(err.Error()) > 300 {
				t.Errorf("error is %d bytes long", len(err.Error()))
			}
		})
	}
}

func answer(code int, body string) func(http.ResponseWriter, *http.Request, []byte) {
	return func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.WriteHeader(code)
		w.Write([]byte(body))
	}
}

func TestRetryAfterHoldsTheWholeApp(t *testing.T) {
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(429)
	})
	x, clk, _ := newExecutor(t, a, rest.Config{Actions: map[string]rest.Action{"delete": {Method: "DELETE", URL: "{{.Base}}/u/{{.Account.AppUserID}}"}}})
	if _, err := x.Execute(bg, sampleTask(1, "delete"), sampleAccount()); retryAfterOf(err) != 30*time.Second {
		t.Fatalf("first: %v", err)
	}
	clk.Add(10 * time.Second)
	_, err := x.Execute(bg, sampleTask(2, "delete"), sampleAccount())
	if retryAfterOf(err) != 20*time.Second {
		t.Errorf("another task meanwhile: %v, want to retry after 20s", err)
	}
	if n := a.calls.Load(); n != 1 {
		t.Errorf("the app got %d requests, want 1", n)
	}
	clk.Add(20 * time.Second)
	x.Execute(bg, sampleTask(2, "delete"), sampleAccount())
	if n := a.calls.Load(); n != 2 {
		t.Errorf("after the wait the app got %d requests, want 2", n)
	}
}

func TestRedirects(t *testing.T) {
	const token = "red1rect-secret"
	other := newApp(t, status(200))
	tests := []struct {
		name      string
		method    string
		to        func(a *app) string
		wantKind  string
		wantOther int64
	}{
		{"POST is not redirected", "POST", func(a *app) string { return a.URL + "/final" }, kindRefused, 0},
		{"GET follows on the same host", "GET", func(a *app) string { return a.URL + "/final" }, kindNone, 0},
		{"GET does not follow to another host", "GET", func(*app) string { return other.URL + "/steal" }, kindRefused, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var a *app
			a = newApp(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if r.URL.Path == "/final" {
					w.WriteHeader(200)
					return
				}
				http.Redirect(w, r, tt.to(a), http.StatusFound)
			})
			x, _, _ := newExecutor(t, a, rest.Config{Secrets: map[string]string{"k": token}, Actions: map[string]rest.Action{"reactivate": {
				Method: tt.method, URL: "{{.Base}}/u/{{.Account.AppUserID}}", Headers: map[string]string{"X-Api-Key": `{{secret "k"}}`},
			}}})
			_, err := x.Execute(bg, sampleTask(1, "reactivate"), sampleAccount())
			if got := errKind(err); got != tt.wantKind {
				t.Fatalf("error %v is %s, want %s", err, got, tt.wantKind)
			}
			if err != nil && !strings.Contains(err.Error(), "redirects are not followed") {
				t.Errorf("error %q does not explain", err)
			}
			if n := other.calls.Load(); n != tt.wantOther {
				t.Errorf("the other host got %d requests", n)
			}
		})
	}
}
