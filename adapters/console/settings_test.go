package console_test

import (
	"net/http"
	"testing"
)

func TestSettingsPage(t *testing.T) {
	w := populated(t)
	p := w.signedIn("vic").get("/console/settings")
	want(t, "settings", p, http.StatusOK, `id="settings-peopleai"`, "peopleai profile, manual adapter",
		"domain admins.example.com → Admin", "create 1d", "deactivate 4h", `id="settings-sixsense"`, "SI: ", "enforced by the app")
}
