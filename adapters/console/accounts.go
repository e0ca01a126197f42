package console

import (
	"net/http"
	"slices"

	"github.com/scimbridge/scimbridge/adapters/account"
)

// accountsData is the accounts page of one app, or the list of apps to
// choose from.
type accountsData struct {
	Apps     []string
	App      string
	State    string
	States   []account.State
	Accounts []account.Account
	Next     string // the next page's link, when there is one
}

func (s *server) accounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := accountsData{Apps: s.names, App: q.Get("app"), State: q.Get("state"), States: accountStates}
	title := "Accounts"
	if d.App != "" {
		if _, ok := s.cfg.Apps[d.App]; !ok {
			s.fail(w, r, errorf(http.StatusNotFound, "There is no app %q.", d.App))
			return
		}
		if d.State != "" && !slices.Contains(accountStates, account.State(d.State)) {
			s.fail(w, r, errorf(http.StatusBadRequest, "%q is not an account state.", d.State))
			return
		}
		// Pages by user name: an app may have a hundred thousand accounts.
		afterName, afterID := q.Get("after_name"), q.Get("after_id")
		list, err := s.queue().AccountsPage(r.Context(), d.App, account.State(d.State), afterName, afterID, DefaultPageSize+1)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(list) > DefaultPageSize {
			list = list[:DefaultPageSize]
			last := list[len(list)-1]
			d.Next = query("/console/accounts", "app", d.App, "state", d.State, "after_name", last.UserName, "after_id", last.UserID)
		}
		d.Accounts = list
		title = "Accounts of " + d.App
	}
	s.render(w, r, http.StatusOK, "accounts", view{Title: title, Nav: "accounts", Page: d})
}
