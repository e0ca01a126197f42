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
		list, err := s.queue().Accounts(r.Context(), d.App)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, a := range list {
			if d.State == "" || a.State == account.State(d.State) {
				d.Accounts = append(d.Accounts, a)
			}
		}
		title = "Accounts of " + d.App
	}
	s.render(w, r, http.StatusOK, "accounts", view{Title: title, Nav: "accounts", Page: d})
}
