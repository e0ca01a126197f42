package rest_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/rest"
)

// The app echoes what it got, secret included, in its answers: neither
// the log nor the errors may carry it.
func TestNoSecretOrBodyInLogsAndErrors(t *testing.T) {
	const (
		token = "tok-Very+Secret/Value"
		pii   = "private-body-marker"
	)
	for _, code := range []int{http.StatusCreated, http.StatusBadRequest, http.StatusInternalServerError} {
		t.Run(http.StatusText(code), func(t *testing.T) {
			a := newApp(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
				w.WriteHeader(code)
				w.Write([]byte(`{"id":"x","echo":` + string(body) + `,"auth":"` + r.Header.Get("Authorization") + `","q":"` + r.URL.RawQuery + `"}`))
			})
			x, _, logs := newExecutor(t, a, rest.Config{Secrets: map[string]string{"token": token}, Actions: map[string]rest.Action{"create": {
				Method:  "POST",
				URL:     `{{.Base}}/api/users?key={{secret "token"}}`,
				Headers: map[string]string{"Authorization": `Bearer {{secret "token"}}`},
				Body:    `{"note": {{.Account.UserName}}, "token": {{secret "token"}}}`,
				IDField: "missing",
			}}})
			acct := sampleAccount()
			acct.UserName = pii
			_, err := x.Execute(bg, sampleTask(9, "create"), acct)
			for _, bad := range []string{token, "tok-Very", pii} {
				if strings.Contains(logs.String(), bad) {
					t.Errorf("the log carries %q: %s", bad, logs)
				}
				if err != nil && strings.Contains(err.Error(), "tok-Very") {
					t.Errorf("the error carries the secret: %v", err)
				}
			}
			if err != nil && code == http.StatusBadRequest && !strings.Contains(err.Error(), "[redacted]") {
				t.Errorf("the error %q shows no redaction", err)
			}
			for _, want := range []string{`"app":"acme"`, `"task":9`, `"kind":"create"`, `"attempt":1`, `"duration"`} {
				if !strings.Contains(logs.String(), want) {
					t.Errorf("the log lacks %s: %s", want, logs)
				}
			}
		})
	}
}
