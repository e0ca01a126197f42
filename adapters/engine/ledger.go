package engine

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

// ModuleSeats is the seat ledger of one licensed module of an app.
type ModuleSeats struct {
	Module   string
	Limit    int // 0: no limit known
	Enforced bool
	// Used are the active accounts whose role takes a seat of the module;
	// Pending are those a pending task is about to give one.
	Used, Pending int
	// Over says that Used exceeds the limit, which only a module the app
	// does not enforce allows.
	Over bool
}

// Reclaimable is an account that holds seats but has not signed in for
// the app's reclaim period (or has never signed in since it was seen).
type Reclaimable struct {
	UserID, UserName, Role string
	Modules                []string
	LastLogin              time.Time // zero: no login known
}

// Seats is an app's seat ledger.
type Seats struct {
	App          string
	Modules      []ModuleSeats
	Blocked      []account.Account // accounts waiting for a seat
	Reclaimable  []Reclaimable
	ReclaimAfter time.Duration
}

// Seats returns app's seat ledger at now.
func (e *Engine) Seats(ctx context.Context, app string, now time.Time) (Seats, error) {
	cfg, ok := e.apps[app]
	if !ok {
		return Seats{}, fmt.Errorf("app %q is not configured", app)
	}
	p := cfg.Profile
	out := Seats{App: app, ReclaimAfter: p.ReclaimAfter}
	// An app that counts no seats has no ledger: nothing to read, which
	// keeps the console's overview cheap on big apps.
	if !p.Counted() {
		return out, nil
	}
	q := queue.In(e.db.ReadSQL())
	modules, err := moduleSeats(ctx, q, p, app)
	if err != nil {
		return out, err
	}
	out.Modules = modules
	accounts, err := q.Accounts(ctx, app)
	if err != nil {
		return out, err
	}
	cutoff := now.Add(-p.ReclaimAfter)
	for _, a := range accounts {
		if a.State == account.Blocked && a.BlockedReason != "" {
			out.Blocked = append(out.Blocked, a)
		}
		mods := p.RoleModules(a.Observed.Role)
		if !a.Observed.Exists || !a.Observed.Active || len(mods) == 0 {
			continue
		}
		// Without a login, the time the account was first seen counts.
		last := a.LastLogin
		since := last
		if since.IsZero() {
			since = a.Observed.At
		}
		if !since.IsZero() && since.Before(cutoff) {
			out.Reclaimable = append(out.Reclaimable, Reclaimable{UserID: a.UserID, UserName: a.UserName,
				Role: a.Observed.Role, Modules: mods, LastLogin: last})
		}
	}
	return out, nil
}

// SeatUse returns the modules of app's seat ledger alone, without the
// accounts that Seats lists: a count of the app's active accounts by role
// and its pending grants, cheap enough to read on every metrics scrape.
// An app that counts no seats has none.
func (e *Engine) SeatUse(ctx context.Context, app string) ([]ModuleSeats, error) {
	cfg, ok := e.apps[app]
	if !ok {
		return nil, fmt.Errorf("app %q is not configured", app)
	}
	if !cfg.Profile.Counted() {
		return nil, nil
	}
	return moduleSeats(ctx, queue.In(e.db.ReadSQL()), cfg.Profile, app)
}

func moduleSeats(ctx context.Context, q queue.Queue, p *profile.Profile, app string) ([]ModuleSeats, error) {
	held, err := q.ObservedRoles(ctx, app, "")
	if err != nil {
		return nil, err
	}
	grants, err := q.PendingGrants(ctx, app, "")
	if err != nil {
		return nil, err
	}
	var out []ModuleSeats
	for _, m := range p.Modules {
		ms := ModuleSeats{Module: m.Name, Limit: m.Limit, Enforced: m.Enforced}
		for role, n := range held {
			if slices.Contains(p.RoleModules(role), m.Name) {
				ms.Used += n
			}
		}
		for _, g := range grants {
			if slices.Contains(p.RoleModules(g.Role), m.Name) && !slices.Contains(p.RoleModules(g.HeldRole), m.Name) {
				ms.Pending++
			}
		}
		ms.Over = m.Limit > 0 && ms.Used > m.Limit
		out = append(out, ms)
	}
	return out, nil
}

// checkOverLimit notifies, once each time it happens, that a module the
// app does not enforce has more seats in use than were bought.
func (e *Engine) checkOverLimit(ctx context.Context, q queue.Queue, app string) error {
	cfg, ok := e.apps[app]
	if !ok {
		return nil
	}
	p := cfg.Profile
	var held map[string]int
	for _, m := range p.Modules {
		if m.Enforced || m.Limit == 0 {
			continue
		}
		if held == nil {
			var err error
			if held, err = q.ObservedRoles(ctx, app, ""); err != nil {
				return err
			}
		}
		used := 0
		for role, n := range held {
			if slices.Contains(p.RoleModules(role), m.Name) {
				used += n
			}
		}
		flagged, err := q.SeatFlagged(ctx, app, m.Name)
		if err != nil {
			return err
		}
		over := used > m.Limit
		if over == flagged {
			continue
		}
		if err := q.FlagSeats(ctx, app, m.Name, over); err != nil {
			return err
		}
		if over {
			if _, err := q.EnqueueSeats(ctx, app, queue.SeatNotice{Module: m.Name, Used: used, Limit: m.Limit}); err != nil {
				return err
			}
		}
	}
	return nil
}
