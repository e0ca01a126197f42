// Package adapters is the app-facing side of scimbridge: it turns changes
// in the shadow directory into work in each downstream app. Each app is
// handled according to its profile, the built-in knowledge of one kind of
// app (package profile).
package adapters

import "github.com/scimbridge/scimbridge/adapters/profile"

// ProfileNames lists the built-in app profiles, sorted: "manual", the
// generic profile for an app where every change is made by hand, and one
// per kind of app scimbridge knows.
func ProfileNames() []string {
	return profile.Names()
}
