package main

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/console"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
)

// consoleSettings lists, per app, the settings that live in the config
// file rather than in the profile, for the console's settings page.
// Secrets appear only as where they are read from.
func consoleSettings(cfg *config.Config) map[string][]console.Setting {
	out := map[string][]console.Setting{}
	tokenRate, appRates := cfg.TokenRates()
	for _, a := range cfg.Apps {
		var s []console.Setting
		add := func(name, format string, args ...any) {
			s = append(s, console.Setting{Name: name, Value: fmt.Sprintf(format, args...)})
		}
		add("SCIM endpoint", "%s/apps/%s/scim/v2/", cfg.PublicURL, a.Name)
		rate, own := appRates[a.Name]
		if !own {
			rate = tokenRate
		}
		if rate = rate.Effective(); !rate.Off() {
			add("Rate limit", "%v requests a second per SCIM token, in bursts of %d", rate.PerSecond, rate.Burst)
		}
		if len(a.DisableRules) > 0 {
			add("Normalisation rules switched off", "%s", strings.Join(a.DisableRules, ", "))
		}
		if a.Profile.SimulateLogin {
			add("First logins", "simulated")
		}
		if a.SAML != nil {
			add("SAML", "scimbridge is the app's IdP; NameID %s; metadata %s", nonEmpty(a.SAML.NameID, "email"), a.SAML.SPMetadataFile)
		}
		if a.OktaApp != "" {
			add("Okta event hook", "logins of the Okta app %s", a.OktaApp)
		}
		if r := a.REST; r != nil {
			add("API", "%s, at most %d calls a minute", r.BaseURL, r.RatePerMinute)
			for _, name := range slices.Sorted(maps.Keys(r.Secrets)) {
				ref := r.Secrets[name]
				where := "the environment variable " + ref.Env
				if ref.File != "" {
					where = "the file " + ref.File
				}
				add("Secret "+name, "read from %s (not shown)", where)
			}
		}
		out[a.Name] = s
	}
	return out
}

func nonEmpty(v, fallback string) string {
	if v == "" {
		return fallback
	}
	return v
}
