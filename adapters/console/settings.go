package console

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/profile"
)

// Setting is one line of an app's settings as the settings page shows
// it. The caller masks secrets: Value never holds one, only where it is
// read from.
type Setting struct {
	Name, Value string
}

// appSettings is one app's effective configuration.
type appSettings struct {
	Name      string
	P         *profile.Profile
	Deadlines []Setting
	Automatic []Setting
	Extra     []Setting
}

func (s *server) settings(w http.ResponseWriter, r *http.Request) {
	var out []appSettings
	for _, name := range s.names {
		a := s.cfg.Apps[name]
		st := appSettings{Name: name, P: a.Profile, Extra: s.cfg.Settings[name]}
		for _, k := range profile.Kinds() {
			if d, ok := a.Profile.Deadlines[k]; ok && (k != profile.Reassign || a.Profile.Adapter == profile.AdapterReassign) &&
				((k != profile.Restore && k != profile.ChangeEmail) || a.Profile.Adapter == profile.AdapterRestore) {
				st.Deadlines = append(st.Deadlines, Setting{string(k), humanDuration(d)})
			}
		}
		for k, x := range a.Automatic {
			st.Automatic = append(st.Automatic, Setting{string(k), x})
		}
		slices.SortFunc(st.Automatic, func(a, b Setting) int { return strings.Compare(a.Name, b.Name) })
		out = append(out, st)
	}
	s.render(w, r, http.StatusOK, "settings", view{Title: "Settings", Nav: "settings", Page: out})
}

// humanDuration writes d in days or hours, as admins write deadlines.
func humanDuration(d time.Duration) string {
	switch {
	case d > 0 && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d > 0 && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.String()
}
