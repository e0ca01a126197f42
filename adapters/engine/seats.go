package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// cascadeLimit bounds the blocked accounts one replan looks at again:
// the longest waiting get a freed seat first.
const cascadeLimit = 20

// seatUse is how many users, other than the one being planned, hold a
// seat of each module and each single-holder role, or have a pending
// task that gives them one.
type seatUse struct {
	modules map[string]int
	roles   map[string]int
}

func (e *Engine) seatUse(ctx context.Context, q queue.Queue, p *profile.Profile, app, userID string) (seatUse, error) {
	u := seatUse{modules: map[string]int{}, roles: map[string]int{}}
	held, err := q.ObservedRoles(ctx, app, userID)
	if err != nil {
		return u, err
	}
	for role, n := range held {
		u.roles[strings.ToLower(role)] += n
		for _, m := range p.RoleModules(role) {
			u.modules[m] += n
		}
	}
	grants, err := q.PendingGrants(ctx, app, userID)
	if err != nil {
		return u, err
	}
	// A grant takes only the seats its user does not hold already.
	for _, g := range grants {
		if !strings.EqualFold(g.Role, g.HeldRole) {
			u.roles[strings.ToLower(g.Role)]++
		}
		has := p.RoleModules(g.HeldRole)
		for _, m := range p.RoleModules(g.Role) {
			if !slices.Contains(has, m) {
				u.modules[m]++
			}
		}
	}
	return u, nil
}

// noSeat says why the app has no seat for one more holder of role, or ""
// when it has one. Only modules the app enforces block; a module without
// a known limit never does.
func noSeat(p *profile.Profile, u seatUse, role, heldRole string) string {
	if p.SingleHolder(role) && u.roles[strings.ToLower(role)] > 0 {
		return fmt.Sprintf("%s can be held by one user only, and another user holds it or is about to", role)
	}
	has := p.RoleModules(heldRole)
	for _, name := range p.RoleModules(role) {
		m, _ := p.Module(name)
		if !m.Enforced || m.Limit == 0 || slices.Contains(has, name) || u.modules[name] < m.Limit {
			continue
		}
		if m.Refusal != "" {
			return fmt.Sprintf("%s (%s: %d of %d seats in use)", m.Refusal, m.Name, u.modules[name], m.Limit)
		}
		return fmt.Sprintf("no free %s seat: %d of %d in use", m.Name, u.modules[name], m.Limit)
	}
	return ""
}

// grants reports whether an action of kind gives its account a role.
func grants(kind profile.ActionKind) bool {
	return kind == profile.Create || kind == profile.SetRole || kind == profile.Reactivate
}

// checkSeats replaces each action that would give a role the app has no
// seat for with a FreeSeat action, unless a pending task already holds
// that seat. It returns why the account is blocked, or "".
func (e *Engine) checkSeats(ctx context.Context, q queue.Queue, p *profile.Profile, acct account.Account,
	actions []plan.Action, pending []task.Task) ([]plan.Action, string, error) {
	if !p.Counted() {
		return actions, "", nil
	}
	var (
		use    *seatUse
		reason string
	)
	out := slices.Clone(actions)
	for i, a := range out {
		if !grants(a.Kind) || slices.ContainsFunc(pending, func(t task.Task) bool {
			return t.Kind == string(a.Kind) && t.Role == a.Role
		}) {
			continue
		}
		if use == nil {
			u, err := e.seatUse(ctx, q, p, acct.App, acct.UserID)
			if err != nil {
				return nil, "", err
			}
			use = &u
		}
		held := ""
		if acct.Observed.Exists && acct.Observed.Active {
			held = acct.Observed.Role
		}
		if why := noSeat(p, *use, a.Role, held); why != "" {
			out[i] = plan.Action{Kind: plan.FreeSeat, Role: a.Role, PreviousRole: a.PreviousRole}
			reason = why
		}
	}
	return out, reason, nil
}

// freeSeatSteps are the steps of a FreeSeat task.
func freeSeatSteps(p *profile.Profile, acct account.Account, role, reason string) []string {
	modules := strings.Join(p.RoleModules(role), ", ")
	if p.SingleHolder(role) {
		modules = role
	}
	return []string{
		fmt.Sprintf("%s cannot get the role %s in %s now: %s.", acct.Email, role, acct.App, reason),
		fmt.Sprintf("Free a seat: have the IdP unassign or deactivate a user who no longer needs %s, and finish that user's deactivation task; or buy more seats and raise the limit in scimbridge's configuration (apps[].seats).", modules),
		fmt.Sprintf("scimbridge plans the role for %s as soon as a seat is free and closes this task by itself.", acct.Email),
	}
}
