package main

import (
	"fmt"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
)

// engineApps maps each configured app to its effective profile and the
// adapter the profile's executor names.
func engineApps(cfg *config.Config) (map[string]engine.App, error) {
	adapters := engine.Adapters()
	apps := make(map[string]engine.App, len(cfg.Apps))
	for _, a := range cfg.Apps {
		ad, ok := adapters[a.Profile.Executor]
		if !ok {
			return nil, fmt.Errorf("app %q: profile %q names executor %q, which this scimbridge does not have", a.Name, a.Profile.Name, a.Profile.Executor)
		}
		apps[a.Name] = engine.App{Profile: a.Profile, Adapter: ad}
	}
	return apps, nil
}
