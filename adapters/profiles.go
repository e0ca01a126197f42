// Package adapters is the app-facing side of scimbridge: it turns changes
// in the shadow directory into work in each downstream app. Each app is
// handled according to its profile, the built-in knowledge of one kind of
// app.
package adapters

// ProfileNames lists the built-in app profiles. "manual" is the generic
// profile for an app where every change is made by hand.
func ProfileNames() []string {
	return []string{"manual"}
}
