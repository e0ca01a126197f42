package main

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
)

func TestConsoleSettings(t *testing.T) {
	yaml := `public_url: https://scim.example.com
rate_limit: {requests_per_second: 400}
apps:
  - name: grc
    profile: sixclicks
    disable_rules: [trailing-slash]
    rest:
      base_url: https://api.example.com
      rate_per_minute: 60
      secrets:
        token: {env: GRC_TOKEN}
        key: {file: secrets/key}
      actions:
        deactivate: {method: POST, url: "{{.Base}}/x"}
`
	cfg, err := config.Parse("x.yaml", []byte(yaml), profile.Names())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, s := range consoleSettings(cfg)["grc"] {
		lines = append(lines, s.Name+": "+s.Value)
	}
	got := strings.Join(lines, "\n")
	for _, want := range []string{
		"SCIM endpoint: https://scim.example.com/apps/grc/scim/v2/",
		"Rate limit: 400 requests a second per SCIM token, in bursts of 800",
		"Normalisation rules switched off: trailing-slash",
		"API: https://api.example.com, at most 60 calls a minute",
		"Secret key: read from the file secrets/key (not shown)",
		"Secret token: read from the environment variable GRC_TOKEN (not shown)",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("settings lack %q:\n%s", want, got)
		}
	}
}
