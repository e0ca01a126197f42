package rest_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/rest"
)

// hostile is user data that would break a naive JSON body or URL.
const hostile = "Jane \"O'Hara\"\n</script><script>alert(1)</script> \\ \u2028"

func TestCreateEscapesJSONAndReadsNestedID(t *testing.T) {
	tests := []struct {
		name    string
		answer  string
		idField string
		want    string
	}{
		{"nested string", `{"data":{"user":{"id":"u-42"}}}`, "data.user.id", "u-42"},
		{"number", `{"data":{"user":{"id":1234567890123}}}`, "data.user.id", "1234567890123"},
		{"array index", `{"users":[{"id":"first"}]}`, "users.0.id", "first"},
		{"top level", `{"id":"abc"}`, "id", "abc"},
		{"missing: done without id", `{"data":{}}`, "data.user.id", ""},
		{"not JSON: done without id", `created`, "id", ""},
		{"no IDField", `{"id":"abc"}`, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got map[string]any
			a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				if err := json.Unmarshal(body, &got); err != nil {
					t.Errorf("the body is not JSON: %v: %s", err, body)
				}
				if strings.Contains(string(body), "</script>") {
					t.Errorf("the body carries </script> as is: %s", body)
				}
				if ct := r.Header.Get("Content-Type"); ct != "application/json" {
					t.Errorf("Content-Type = %q", ct)
				}
				w.WriteHeader(http.StatusCreated)
				w.Write([]byte(tt.answer))
			})
			x, _, logs := newExecutor(t, a, rest.Config{Actions: map[string]rest.Action{"create": {
				Method:  "POST",
				URL:     "{{.Base}}/api/users",
				Body:    `{"name": {{.Account.UserName}}, "email": {{json .Account.Email}}, "role": {{.Task.Role}}, "active": {{.Account.Desired.Active}}, "task": {{.Task.ID}}}`,
				IDField: tt.idField,
			}}})
			acct := sampleAccount()
			acct.UserName, acct.Email = hostile, hostile+"@example.com"
			res, err := x.Execute(bg, sampleTask(5, "create"), acct)
			if err != nil {
				t.Fatalf("Execute: %v", err)
			}
			if res.AppUserID != tt.want {
				t.Errorf("AppUserID = %q, want %q", res.AppUserID, tt.want)
			}
			want := map[string]any{"name": hostile, "email": hostile + "@example.com", "role": "editor", "active": true, "task": float64(5)}
			for k, v := range want {
				if got[k] != v {
					t.Errorf("body[%s] = %#v, want %#v", k, got[k], v)
				}
			}
			warned := strings.Contains(logs.String(), "no user id")
			if wantWarn := tt.idField != "" && tt.want == ""; warned != wantWarn {
				t.Errorf("warned of a missing id: %v, want %v", warned, wantWarn)
			}
		})
	}
}

func TestURLEscapesValuesAndSendsSecretHeaders(t *testing.T) {
	const token = "s3cr3t-T0ken/+="
	tests := []struct {
		name      string
		appUserID string
		wantURI   string
		wantKind  string
	}{
		{"plain id", "app-7", "/api/users/app-7/deactivate?email=jane%2Bx%40example.com", kindNone},
		{"slashes and query characters", "a/b c?d#e&f", "/api/users/a%2Fb%20c%3Fd%23e%26f/deactivate?email=jane%2Bx%40example.com", kindNone},
		{"non-ASCII", "zoë", "/api/users/zo%C3%AB/deactivate?email=jane%2Bx%40example.com", kindNone},
		{"empty id is refused", "", "", kindRefused},
		{"dot-dot is refused", "..", "", kindRefused},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newApp(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				if r.Header.Get("Authorization") != "Bearer "+token {
					w.WriteHeader(http.StatusUnauthorized)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			})
			x, _, _ := newExecutor(t, a, rest.Config{
				Secrets: map[string]string{"token": token},
				Actions: map[string]rest.Action{"deactivate": {
					Method:  "POST",
					URL:     "{{.Base}}/api/users/{{.Account.AppUserID}}/deactivate?email={{.Account.Email}}",
					Headers: map[string]string{"Authorization": `Bearer {{secret "token"}}`},
				}},
			})
			acct := sampleAccount()
			acct.AppUserID, acct.Email = tt.appUserID, "jane+x@example.com"
			_, err := x.Execute(bg, sampleTask(1, "deactivate"), acct)
			if got := errKind(err); got != tt.wantKind {
				t.Fatalf("error %v is %s, want %s", err, got, tt.wantKind)
			}
			if tt.wantKind != kindNone {
				if n := a.calls.Load(); n != 0 {
					t.Errorf("the app got %d requests, want none", n)
				}
				if !strings.Contains(err.Error(), "AppUserID") {
					t.Errorf("the error %q does not name the value", err)
				}
				return
			}
			if got := a.last(t).URI; got != tt.wantURI {
				t.Errorf("URI = %s, want %s", got, tt.wantURI)
			}
		})
	}
}

func TestIdempotencyKeyIsStablePerTask(t *testing.T) {
	fail := true
	a := newApp(t, func(w http.ResponseWriter, _ *http.Request, _ []byte) {
		if fail {
			fail = false
			w.WriteHeader(http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	x, _, _ := newExecutor(t, a, rest.Config{Actions: map[string]rest.Action{"delete": {
		Method:  "DELETE",
		URL:     "{{.Base}}/api/users/{{.Account.AppUserID}}",
		Headers: map[string]string{"X-Request-Key": "{{.IdempotencyKey}}"},
	}}})
	task := sampleTask(41, "delete")
	if _, err := x.Execute(bg, task, sampleAccount()); errKind(err) != kindPlain {
		t.Fatalf("first try: %v, want a plain retryable error", err)
	}
	first := a.last(t).Header
	task.Attempts++
	if _, err := x.Execute(bg, task, sampleAccount()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	retry := a.last(t).Header
	if _, err := x.Execute(bg, sampleTask(42, "delete"), sampleAccount()); err != nil {
		t.Fatalf("other task: %v", err)
	}
	other := a.last(t).Header

	const want = "scimbridge-acme-task-41"
	if first.Get("Idempotency-Key") != want || retry.Get("Idempotency-Key") != want {
		t.Errorf("keys = %q, %q, want %q twice", first.Get("Idempotency-Key"), retry.Get("Idempotency-Key"), want)
	}
	if got := other.Get("Idempotency-Key"); got != "scimbridge-acme-task-42" {
		t.Errorf("other task's key = %q", got)
	}
	if first.Get("X-Request-Key") != want {
		t.Errorf(".IdempotencyKey = %q, want %q", first.Get("X-Request-Key"), want)
	}
	if ua := first.Get("User-Agent"); ua != "scimbridge" {
		t.Errorf("User-Agent = %q", ua)
	}
}

func TestParamsAndMissingParams(t *testing.T) {
	a := newApp(t, status(http.StatusOK))
	x, _, _ := newExecutor(t, a, rest.Config{Actions: map[string]rest.Action{"reassign": {
		Method: "POST",
		URL:    "{{.Base}}/api/users/{{.Account.AppUserID}}/transfer",
		Body:   `{"to": {{.Params.target_app_user_id}}}`,
	}}})
	task := sampleTask(3, "reassign")
	task.Params = map[string]string{"target_app_user_id": "app-99"}
	if _, err := x.Execute(bg, task, sampleAccount()); err != nil {
		t.Fatalf("Execute: %v", err)
	}
	if got := string(a.last(t).Body); got != `{"to": "app-99"}` {
		t.Errorf("body = %s", got)
	}

	// No receiver chosen: an admin chooses, no request is made.
	task.Params = map[string]string{"candidates": "a, b"}
	_, err := x.Execute(bg, task, sampleAccount())
	if errKind(err) != kindRefused || !strings.Contains(err.Error(), "target_app_user_id") {
		t.Errorf("err = %v, want a refusal naming the param", err)
	}
	if n := a.calls.Load(); n != 1 {
		t.Errorf("the app got %d requests, want 1", n)
	}
}

func TestMissingActionIsRefused(t *testing.T) {
	a := newApp(t, status(http.StatusOK))
	x, _, _ := newExecutor(t, a, rest.Config{Actions: map[string]rest.Action{"create": {Method: "POST", URL: "{{.Base}}/u"}}})
	_, err := x.Execute(bg, sampleTask(1, "set_role"), sampleAccount())
	if errKind(err) != kindRefused || !strings.Contains(err.Error(), "no action for set_role") {
		t.Errorf("err = %v, want a refusal for set_role", err)
	}
	if a.calls.Load() != 0 {
		t.Error("the app got a request")
	}
}

func TestNewRejectsBadActions(t *testing.T) {
	ok := rest.Action{Method: "POST", URL: "{{.Base}}/api/users"}
	with := func(f func(*rest.Action)) rest.Action { a := ok; f(&a); return a }
	tests := []struct {
		name   string
		cfg    rest.Config
		kind   string // the action the error must name
		phrase string
	}{
		{"template syntax", cfgOf("create", with(func(a *rest.Action) { a.URL = "{{.Base}/x" })), "create", "URL"},
		{"unknown field", cfgOf("create", with(func(a *rest.Action) { a.Body = `{"e": {{.Account.Emial}}}` })), "create", "Emial"},
		{"unknown func", cfgOf("create", with(func(a *rest.Action) { a.Body = `{"e": {{upper .Account.Email}}}` })), "create", "upper"},
		{"unknown secret", cfgOf("deactivate", with(func(a *rest.Action) {
			a.Headers = map[string]string{"X-Key": `{{secret "nope"}}`}
		})), "deactivate", `"nope"`},
		{"secret without a quoted name", cfgOf("create", with(func(a *rest.Action) {
			a.Headers = map[string]string{"X-Key": `{{secret .Task.App}}`}
		})), "create", "quoted name"},
		{"other host", cfgOf("create", with(func(a *rest.Action) { a.URL = "https://evil.example/api" })), "create", "base URL"},
		{"no URL", cfgOf("create", with(func(a *rest.Action) { a.URL = "" })), "create", "URL"},
		{"Base escaped", cfgOf("create", with(func(a *rest.Action) { a.URL = `{{printf "%s" .Base}}/x` })), "create", "URL"},
		{"method", cfgOf("create", with(func(a *rest.Action) { a.Method = "FETCH" })), "create", "Method"},
		{"GET with body", cfgOf("create", with(func(a *rest.Action) { a.Method, a.Body = "GET", `{}` })), "create", "Body"},
		{"quoted value in body", cfgOf("create", with(func(a *rest.Action) { a.Body = `{"e": "{{.Account.Email}}"}` })), "create", "Body: not valid JSON"},
		{"reserved header", cfgOf("create", with(func(a *rest.Action) { a.Headers = map[string]string{"idempotency-key": "x"} })), "create", "Idempotency-Key"},
		{"bad header name", cfgOf("create", with(func(a *rest.Action) { a.Headers = map[string]string{"X Key": "x"} })), "create", "header name"},
		{"bad IDField", cfgOf("create", with(func(a *rest.Action) { a.IDField = "data..id" })), "create", "IDField"},
		{"bad status", cfgOf("create", with(func(a *rest.Action) { a.Success = []int{2000} })), "create", "Success"},
		{"retry is success", cfgOf("create", with(func(a *rest.Action) { a.Retry = []int{200} })), "create", "Retry"},
		{"unknown kind", cfgOf("deactivat", ok), "deactivat", "no such kind"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rest.New(tt.cfg)
			if err == nil {
				t.Fatal("New accepted it")
			}
			for _, want := range []string{`action "` + tt.kind + `"`, tt.phrase} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not say %q", err, want)
				}
			}
		})
	}

	t.Run("config", func(t *testing.T) {
		for name, cfg := range map[string]rest.Config{
			"no app":       {Base: "https://acme.example", Actions: map[string]rest.Action{"create": ok}},
			"relative URL": {App: "acme", Base: "/api", Actions: map[string]rest.Action{"create": ok}},
			"ftp":          {App: "acme", Base: "ftp://acme.example", Actions: map[string]rest.Action{"create": ok}},
			"credentials":  {App: "acme", Base: "https://u:p@acme.example", Actions: map[string]rest.Action{"create": ok}},
			"empty secret": {App: "acme", Base: "https://acme.example", Secrets: map[string]string{"k": ""}, Actions: map[string]rest.Action{"create": ok}},
			"no actions":   {App: "acme", Base: "https://acme.example"},
			"rate":         {App: "acme", Base: "https://acme.example", RatePerMinute: -1, Actions: map[string]rest.Action{"create": ok}},
		} {
			if _, err := rest.New(cfg); err == nil {
				t.Errorf("%s: New accepted it", name)
			}
		}
	})
}

func TestNewAcceptsTemplatesWithControlFlow(t *testing.T) {
	_, err := rest.New(rest.Config{App: "acme", Base: "https://acme.example/v2/", Secrets: map[string]string{"k": "v"},
		Actions: map[string]rest.Action{
			"set_role": {Method: "PATCH", URL: `{{.Base}}/users/{{.Account.AppUserID}}{{if .Params.team}}?team={{.Params.team}}{{end}}`,
				Body:    `{"role": {{.Task.Role}}{{if .Task.PreviousRole}}, "was": {{.Task.PreviousRole}}{{end}}, "steps": {{.Task.Steps}}}`,
				Headers: map[string]string{"X-Key": `{{secret "k"}}`}},
			"reassign": {Method: "POST", URL: `{{.Base}}/users/{{index .Params "from"}}/to/{{$.Params.to}}`},
		}})
	if err != nil {
		t.Fatal(err)
	}
}

func cfgOf(kind string, a rest.Action) rest.Config {
	return rest.Config{App: "acme", Base: "https://acme.example", Secrets: map[string]string{"token": "t0k3n"},
		Actions: map[string]rest.Action{kind: a}}
}
