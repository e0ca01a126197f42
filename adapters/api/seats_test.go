package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

// TestSeatsAndLogins: admins confirm first logins of a just-in-time app
// and read its seat ledger.
func TestSeatsAndLogins(t *testing.T) {
	w := newWorld(t)
	w.createUser("sixsense", "ann", "sellers.example.com")
	w.createUser("sixsense", "bob", "sellers.example.com")
	w.dispatch()
	acct := w.api("POST", "/apps/sixsense/accounts/ann@sellers.example.com/login", "", http.StatusOK)
	if acct["state"] != "pending" || acct["lastLogin"] == nil || acct["observedSource"] != "login:admin" {
		t.Errorf("ann after the confirmed login: %v", acct)
	}
	// By id too, with a time; bob finds SI's one seat taken by ann's promotion.
	at := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	acct = w.api("POST", "/apps/sixsense/accounts/"+w.userID["bob"]+"/login", `{"at":"`+at+`"}`, http.StatusOK)
	if acct["state"] != "blocked" || acct["blockedReason"] == nil {
		t.Errorf("bob: %v", acct)
	}
	seats := w.api("GET", "/apps/sixsense/seats", "", http.StatusOK)
	summary := map[string]string{}
	for _, m := range seats["modules"].([]any) {
		m := m.(map[string]any)
		summary[m["module"].(string)] = fmt.Sprintf("used %v pending %v limit %v enforced %v over %v",
			m["used"], m["pending"], m["limit"], m["enforced"], m["overProvisioned"])
	}
	want := map[string]string{
		"SI":  "used 0 pending 1 limit 1 enforced true over false",
		"ABM": "used 2 pending 0 limit 0 enforced false over false",
		"CE":  "used 0 pending 0 limit 0 enforced false over false",
	}
	for k, v := range want {
		if summary[k] != v {
			t.Errorf("%s: %s, want %s", k, summary[k], v)
		}
	}
	if b := seats["blocked"].([]any); len(b) != 1 || b[0].(map[string]any)["userName"] != "bob@sellers.example.com" {
		t.Errorf("blocked: %v", b)
	}
	if seats["reclaimAfterDays"] != float64(90) {
		t.Errorf("reclaimAfterDays: %v", seats["reclaimAfterDays"])
	}

	for _, c := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"unknown user", "POST", "/apps/sixsense/accounts/nobody@example.com/login", "", 404},
		{"unknown app", "POST", "/apps/nope/accounts/ann/login", "", 404},
		{"a time in the future", "POST", "/apps/sixsense/accounts/ann@sellers.example.com/login", `{"at":"2999-01-01T00:00:00Z"}`, 400},
		{"not a time", "POST", "/apps/sixsense/accounts/ann@sellers.example.com/login", `{"at":"yesterday"}`, 400},
		{"an unknown field", "POST", "/apps/sixsense/accounts/ann@sellers.example.com/login", `{"when":1}`, 400},
		{"GET on login", "GET", "/apps/sixsense/accounts/ann@sellers.example.com/login", "", 405},
		{"seats of an unknown app", "GET", "/apps/nope/seats", "", 404},
	} {
		t.Run(c.name, func(t *testing.T) {
			if r := w.do(c.method, "/api/v1"+c.path, w.alice, c.body); r.status != c.status {
				t.Errorf("status %d, want %d: %s", r.status, c.status, r.body)
			}
		})
	}
}
