package engine

import (
	"context"
	"encoding/json"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim/store"
)

// Params of a reassign action.
const (
	ParamTargetUser  = "target_user_id"     // the receiver's SCIM id
	ParamTargetEmail = "target_email"       // the receiver's email
	ParamTargetAppID = "target_app_user_id" // the receiver's id in the app, when known
	ParamCandidates  = "candidates"         // when an admin must choose: whom they might choose
	ParamWhy         = "why"                // and why scimbridge did not
)

// maxCandidates bounds the users a choose-the-receiver task suggests.
const maxCandidates = 5

// reassignTargets sets, on each reassign action, who receives the
// leaver's items: the manager when the profile says so and they can, else
// the app's default reassignee. When neither can (inactive, gone, the
// leaver themself, or none configured) the action names candidates
// instead, and an admin chooses.
func (e *Engine) reassignTargets(ctx context.Context, q queue.Queue, p *profile.Profile, leaver account.Account, u store.User, actions []plan.Action) ([]plan.Action, error) {
	for i, a := range actions {
		if a.Kind != profile.Reassign {
			continue
		}
		target, why, err := e.pickReceiver(ctx, q, p, leaver, u)
		if err != nil {
			return nil, err
		}
		if target != nil {
			actions[i].Params = map[string]string{ParamTargetUser: target.UserID, ParamTargetEmail: target.Email}
			if target.AppUserID != "" {
				actions[i].Params[ParamTargetAppID] = target.AppUserID
			}
			continue
		}
		names, err := q.ActiveAccounts(ctx, leaver.App, leaver.UserID, maxCandidates)
		if err != nil {
			return nil, err
		}
		actions[i].Params = map[string]string{ParamCandidates: strings.Join(names, ", "), ParamWhy: why}
	}
	return actions, nil
}

// pickReceiver returns the account that receives the leaver's items, or
// nil and why there is none.
func (e *Engine) pickReceiver(ctx context.Context, q queue.Queue, p *profile.Profile, leaver account.Account, u store.User) (*account.Account, string, error) {
	var reasons []string
	if p.ReassignTo.ToManager {
		if id := managerOf(u); id != "" {
			a, found, err := q.Account(ctx, leaver.App, id)
			if err != nil {
				return nil, "", err
			}
			why := canReceive(a, found, leaver, "the manager")
			if why == "" {
				return &a, "", nil
			}
			reasons = append(reasons, why)
		}
	}
	name := p.ReassignTo.Default
	if name == "" {
		reasons = append(reasons, "no default reassignee is configured (reassign.default)")
		return nil, strings.Join(reasons, "; "), nil
	}
	a, found, err := q.AccountNamed(ctx, leaver.App, name)
	if err != nil {
		return nil, "", err
	}
	why := canReceive(a, found, leaver, "the default reassignee "+name)
	if why == "" {
		return &a, "", nil
	}
	reasons = append(reasons, why)
	return nil, strings.Join(reasons, "; "), nil
}

// canReceive says why account a cannot take over items, or "" when it can.
func canReceive(a account.Account, found bool, leaver account.Account, who string) string {
	switch {
	case !found || !a.Desired.Exists:
		return who + " is not a user of the app"
	case a.UserID == leaver.UserID:
		return who + " is the leaver"
	case !a.Desired.Active:
		return who + " is deactivated"
	case !a.Observed.Exists || !a.Observed.Active:
		return who + " has no active account in the app yet"
	}
	return ""
}

// managerOf returns the SCIM id of u's manager from the enterprise
// extension, or "".
func managerOf(u store.User) string {
	if len(u.Attributes) == 0 {
		return ""
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(u.Attributes, &doc) != nil {
		return ""
	}
	var ext struct {
		Manager struct {
			Value string `json:"value"`
		} `json:"manager"`
	}
	if raw, ok := doc["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]; ok && json.Unmarshal(raw, &ext) == nil {
		return ext.Manager.Value
	}
	return ""
}
