package main

import (
	"fmt"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
)

// engineApps maps each configured app to its effective profile and the
// adapter the profile names.
func engineApps(cfg *config.Config) (map[string]engine.App, error) {
	apps := make(map[string]engine.App, len(cfg.Apps))
	for _, a := range cfg.Apps {
		ad, err := engine.AdapterFor(a.Profile)
		if err != nil {
			return nil, fmt.Errorf("app %q: %w", a.Name, err)
		}
		app := engine.App{Profile: a.Profile, Adapter: ad}
		if a.REST != nil {
			app.Automatic = map[profile.ActionKind]string{}
			for kind := range a.REST.Actions {
				app.Automatic[profile.ActionKind(kind)] = executorREST
			}
		}
		apps[a.Name] = app
	}
	return apps, nil
}
