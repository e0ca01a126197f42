package console

import (
	"context"
	"net/http"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// accountStates are shown in every app, with zeros, in this order.
var accountStates = []account.State{account.Pending, account.Active, account.AwaitingLogin, account.Blocked,
	account.Deactivated, account.Absent, account.Deleted}

// appSummary is one app on the overview.
type appSummary struct {
	Name     string
	Profile  string
	Accounts []stateCount
	// Pending counts the tasks that wait for someone: Open, Claimed and
	// Awaiting (approval); Overdue those of them past their deadline.
	Pending, Open, Claimed, Awaiting, Overdue int
	Modules                                   []engine.ModuleSeats
	Blocked, Reclaimable                      int
	ReclaimDays                               int
	// Drift is what imports found in the app that nobody asked for, open.
	Drift int
	Chart *chart
}

type stateCount struct {
	State account.State
	N     int
}

func (s *server) overview(w http.ResponseWriter, r *http.Request) {
	var apps []appSummary
	for _, name := range s.names {
		a, err := s.summary(r.Context(), name)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		apps = append(apps, a)
	}
	s.render(w, r, http.StatusOK, "overview", view{Title: "Overview", Nav: "overview", Page: apps})
}

func (s *server) summary(ctx context.Context, name string) (appSummary, error) {
	q := s.queue()
	now := s.cfg.Now()
	out := appSummary{Name: name, Profile: s.cfg.Apps[name].Profile.Name}
	accounts, err := q.CountAccounts(ctx, name)
	if err != nil {
		return out, err
	}
	for _, st := range accountStates {
		out.Accounts = append(out.Accounts, stateCount{st, accounts[st]})
	}
	counts, err := q.CountTasks(ctx, name, now)
	if err != nil {
		return out, err
	}
	out.Open, out.Claimed, out.Awaiting = counts.ByStatus[task.Open], counts.ByStatus[task.Claimed], counts.ByStatus[task.AwaitingApproval]
	out.Pending = out.Open + out.Claimed + out.Awaiting
	out.Overdue = counts.Overdue
	if out.Drift, err = q.CountDrift(ctx, name); err != nil {
		return out, err
	}
	if out.Chart, err = s.chart(ctx, name); err != nil {
		return out, err
	}
	seats, err := s.cfg.Engine.Seats(ctx, name, now)
	if err != nil {
		return out, err
	}
	out.Modules = seats.Modules
	out.Blocked, out.Reclaimable = len(seats.Blocked), len(seats.Reclaimable)
	out.ReclaimDays = int(seats.ReclaimAfter / (24 * time.Hour))
	return out, nil
}

func (s *server) queue() queue.Queue { return queue.In(s.cfg.DB.ReadSQL()) }
