package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/account"
)

// accountData is the page of one user's account in one app.
type accountData struct {
	App    string
	UserID string
	// Accounts are the account in App first, then the same person's
	// accounts in the other apps, by app.
	Accounts []account.Account
	Timeline []entry
	// Trail is the audit log of this user in App.
	Trail string
}

// accountRoutes adds the account page and the redirect to it by user
// name, which the accounts list and searches by name use.
func (s *server) accountRoutes() {
	s.page("GET /console/users/{app}/{id}", s.account)
	s.page("GET /console/users/{app}", s.accountByName)
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	app, id := r.PathValue("app"), r.PathValue("id")
	if _, ok := s.cfg.Apps[app]; !ok {
		s.fail(w, r, errorf(http.StatusNotFound, "There is no app %q.", app))
		return
	}
	a, found, err := s.queue().Account(ctx, app, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !found {
		s.fail(w, r, errorf(http.StatusNotFound, "There is no account %q in %s.", id, app))
		return
	}
	d := accountData{App: app, UserID: id, Trail: query("/console/audit", "app", app, "user", id)}
	if d.Accounts, err = s.namesakes(ctx, a); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Timeline, err = s.timeline(ctx, a); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account", view{Title: a.UserName + " in " + app, Nav: "accounts", Page: d})
}

// namesakes returns a and the accounts of the same user name in the
// other apps: SCIM ids are the IdP's per app, so the name is what ties a
// person's accounts together.
func (s *server) namesakes(ctx context.Context, a account.Account) ([]account.Account, error) {
	out := []account.Account{a}
	for _, app := range s.names {
		if app == a.App {
			continue
		}
		other, found, err := s.queue().AccountNamed(ctx, app, a.UserName)
		if err != nil {
			return nil, err
		}
		// AccountNamed also matches an id equal to the name; only the
		// name counts here.
		if found && strings.EqualFold(other.UserName, a.UserName) {
			out = append(out, other)
		}
	}
	return out, nil
}

// accountByName sends ?name= (a user name, or an id) to its account's
// page in the app.
func (s *server) accountByName(w http.ResponseWriter, r *http.Request) {
	app := r.PathValue("app")
	if _, ok := s.cfg.Apps[app]; !ok {
		s.fail(w, r, errorf(http.StatusNotFound, "There is no app %q.", app))
		return
	}
	name := strings.TrimSpace(r.URL.Query().Get("name"))
	if name == "" {
		s.fail(w, r, errorf(http.StatusBadRequest, "Give a user name: /console/users/%s?name=…", app))
		return
	}
	a, found, err := s.queue().AccountNamed(r.Context(), app, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !found {
		s.fail(w, r, errorf(http.StatusNotFound, "There is no account %q in %s.", name, app))
		return
	}
	http.Redirect(w, r, "/console/users/"+url.PathEscape(app)+"/"+url.PathEscape(a.UserID), http.StatusSeeOther)
}
