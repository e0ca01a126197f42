package samlsp_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/samlsp"
)

const licenceMessage = "License limit exhausted. Please get in touch with your CSM."

func TestSimulateLogin(t *testing.T) {
	for _, tc := range []struct {
		name    string
		prepare func(r *rig)
		check   func(t *testing.T, r *rig, err error)
	}{
		{
			name: "the app creates the user",
			check: func(t *testing.T, r *rig, err error) {
				if err != nil {
					t.Fatal(err)
				}
				users := r.app.Users()
				if len(users) != 1 || users[0].NameID != "alice@example.com" || users[0].Role != "Insight User" {
					t.Errorf("app users: %+v", users)
				}
				checkLogins(t, r.dir, samlsp.SourceSimulated)
			},
		},
		{
			name:    "the app refuses: licence limit",
			prepare: func(r *rig) { r.app.RefuseNewUsers(http.StatusForbidden, licenceMessage) },
			check: func(t *testing.T, r *rig, err error) {
				var refused *samlsp.RefusedError
				if !errors.As(err, &refused) {
					t.Fatalf("error %v (%T), want a RefusedError", err, err)
				}
				if refused.Status != http.StatusForbidden || !strings.Contains(refused.Body, licenceMessage) {
					t.Errorf("refusal: %d %q", refused.Status, refused.Body)
				}
				if len(refused.Body) > 300 || strings.Contains(err.Error(), "PHNhbWxw") {
					t.Errorf("the error carries too much: %q", err.Error())
				}
				noLogins(t, r)
			},
		},
		{
			name:    "the app fails",
			prepare: func(r *rig) { r.app.FailWith(http.StatusInternalServerError) },
			check: func(t *testing.T, r *rig, err error) {
				var temp *samlsp.TemporaryError
				if !errors.As(err, &temp) || temp.Status != http.StatusInternalServerError {
					t.Fatalf("error %v (%T), want a TemporaryError with status 500", err, err)
				}
				noLogins(t, r)
			},
		},
		{
			name:    "the app is rate-limiting",
			prepare: func(r *rig) { r.app.FailWith(http.StatusTooManyRequests) },
			check: func(t *testing.T, r *rig, err error) {
				var temp *samlsp.TemporaryError
				if !errors.As(err, &temp) || temp.Status != http.StatusTooManyRequests {
					t.Fatalf("error %v (%T), want a TemporaryError with status 429", err, err)
				}
			},
		},
		{
			name:    "the app is down",
			prepare: func(r *rig) { r.app.Close() },
			check: func(t *testing.T, r *rig, err error) {
				var temp *samlsp.TemporaryError
				if !errors.As(err, &temp) || temp.Status != 0 || temp.Err == nil {
					t.Fatalf("error %v (%T), want a TemporaryError without status", err, err)
				}
				noLogins(t, r)
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			if tc.prepare != nil {
				tc.prepare(r)
			}
			err := r.svc.SimulateLogin(r.ctx, appName, aliceInDirectory)
			tc.check(t, r, err)
			r.checkLogsClean("alice@example.com")
		})
	}
}

func TestSimulateLoginUnknownApp(t *testing.T) {
	r := newRig(t, rigOptions{})
	err := r.svc.SimulateLogin(r.ctx, "nope", aliceInDirectory)
	var refused *samlsp.RefusedError
	var temp *samlsp.TemporaryError
	if err == nil || errors.As(err, &refused) || errors.As(err, &temp) {
		t.Fatalf("error %v (%T), want a plain error", err, err)
	}
}

func noLogins(t *testing.T, r *rig) {
	t.Helper()
	if l := r.dir.Logins(); len(l) != 0 {
		t.Errorf("logins recorded: %+v", l)
	}
	if u := r.app.Users(); len(u) != 0 {
		t.Errorf("app users: %+v", u)
	}
}
