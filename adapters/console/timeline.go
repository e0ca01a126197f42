package console

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim/store"
)

// entry is one line of an account's timeline.
type entry struct {
	Time   time.Time
	Kind   string // "audit", "event" or "login"
	What   string
	TaskID int64 // the task the line is about, when one is
	Who    string
	Why    string
}

// The timeline's bounds: it shows recent history, the audit log all of it.
const (
	timelineAudit  = 200 // the newest audit entries of the user
	timelineEvents = 500 // the newest change events of the app searched
)

// timeline merges what is known of a's history, newest first: the audit
// trail, the IdP's change events and the last sign-in.
func (s *server) timeline(ctx context.Context, a account.Account) ([]entry, error) {
	// Events first and the audit after: a change event causes the task
	// that the audit records, so at an equal time it is the older line.
	out, err := s.eventEntries(ctx, a)
	if err != nil {
		return nil, err
	}
	trail, err := s.auditEntries(ctx, a)
	if err != nil {
		return nil, err
	}
	out = append(out, trail...)
	if !a.LastLogin.IsZero() {
		out = append(out, entry{Time: a.LastLogin, Kind: "login", What: "signed in", Who: a.UserName})
	}
	slices.SortStableFunc(out, func(x, y entry) int { return x.Time.Compare(y.Time) })
	slices.Reverse(out)
	return out, nil
}

// auditEntries returns the newest timelineAudit entries of the audit
// trail of a, oldest first. AuditOf pages oldest first, so the pages
// are read to the end; a user's trail is short, and indexed.
func (s *server) auditEntries(ctx context.Context, a account.Account) ([]entry, error) {
	f := queue.AuditFilter{App: a.App, UserID: a.UserID, Limit: timelineAudit}
	var recs []queue.AuditRecord
	for {
		page, err := s.queue().AuditOf(ctx, f)
		if err != nil {
			return nil, fmt.Errorf("timeline of %s in %s: %w", a.UserID, a.App, err)
		}
		recs = append(recs, page...)
		if len(recs) > timelineAudit {
			recs = recs[len(recs)-timelineAudit:]
		}
		if len(page) < timelineAudit {
			break
		}
		f.After = page[len(page)-1].Seq
	}
	out := make([]entry, 0, len(recs))
	for _, r := range recs {
		out = append(out, entry{Time: r.Time, Kind: "audit", What: auditWhat(r.AuditEntry), TaskID: r.TaskID,
			Who: r.Actor, Why: r.Reason})
	}
	return out, nil
}

// auditWhat says what an audit entry changed: "task 12 create: open →
// done"; a new task or account has no state to come from.
func auditWhat(e queue.AuditEntry) string {
	what := e.What
	if e.TaskID != 0 {
		id := strconv.FormatInt(e.TaskID, 10)
		if rest, ok := strings.CutPrefix(what, "task "); ok {
			what = "task " + id + " " + rest
		} else {
			what += " (task " + id + ")"
		}
	}
	from, to := words(e.From), words(e.To)
	switch {
	case from != "" && to != "":
		return what + ": " + from + " → " + to
	case to != "":
		return what + ": " + to
	case from != "":
		return what + ": " + from + " → none"
	}
	return what
}

func words(state string) string { return strings.ReplaceAll(state, "_", " ") }

// eventEntries returns the IdP's change events of a, oldest first. The
// outbox has no index by user, so only the last timelineEvents events
// of the app are searched: older changes of a quiet user do not show.
func (s *server) eventEntries(ctx context.Context, a account.Account) ([]entry, error) {
	events, err := s.cfg.DB.LatestEvents(ctx, a.App, timelineEvents)
	if err != nil {
		return nil, fmt.Errorf("timeline of %s in %s: %w", a.UserID, a.App, err)
	}
	var out []entry
	for _, e := range events {
		user := e.ResourceType == "User" && e.ResourceID == a.UserID
		if !user && e.MemberID != a.UserID {
			continue
		}
		out = append(out, entry{Time: e.Time, Kind: "event", What: eventWhat(e), Who: "the IdP, through SCIM"})
	}
	return out, nil
}

// eventWhat names a change event, with what changed when it says.
func eventWhat(e store.Event) string {
	what := string(e.Type)
	switch {
	case e.MemberID != "":
		what += " (group " + e.ResourceID + ")"
	case len(e.Attributes) > 0:
		what += " (" + strings.Join(e.Attributes, ", ") + ")"
	}
	return what
}
