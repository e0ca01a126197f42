package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// Page sizes of the lists.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
	// maxBulk bounds the tasks one bulk claim may name.
	maxBulk = 200
)

// taskRow is one task in the queue.
type taskRow struct {
	Task     task.Task
	Overdue  bool
	CanClaim bool
	// CanUnclaim: the person claimed it, or is an approver.
	CanUnclaim bool
	// Message says why a claim of the row was refused.
	Message string
}

// tasksData is the queue page.
type tasksData struct {
	Apps     []string
	Statuses []task.Status
	App      string
	Status   string
	User     string
	Kinds    []string
	Kind     string
	Assignee string
	Overdue  bool
	Limit    int
	Rows     []taskRow
	Next     string // the next page's link, when there is one
	Self     string // this page, where the forms come back to
	CanClaim bool
	Notice   string
}

// listParams reads the optional ?app=, ?after= and ?limit= of a list.
func (s *server) listParams(r *http.Request) (app string, after int64, limit int, err error) {
	q := r.URL.Query()
	app = q.Get("app")
	if _, ok := s.cfg.Apps[app]; app != "" && !ok {
		return "", 0, 0, errorf(http.StatusBadRequest, "There is no app %q. The apps are: %s.", app, strings.Join(s.names, ", "))
	}
	limit = DefaultPageSize
	if v := q.Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > MaxPageSize {
			return "", 0, 0, errorf(http.StatusBadRequest, "The page size must be a number from 1 to %d.", MaxPageSize)
		}
	}
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return "", 0, 0, errorf(http.StatusBadRequest, "The page to start after must be a number, 0 or more.")
		}
	}
	return app, after, limit, nil
}

func (s *server) tasks(w http.ResponseWriter, r *http.Request) {
	app, after, limit, err := s.listParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	q := r.URL.Query()
	d := tasksData{Apps: s.names, Statuses: statuses, App: app, Status: q.Get("status"),
		User: strings.TrimSpace(q.Get("user")), Limit: limit, Self: localPath(r.URL.RequestURI()),
		CanClaim: whoOf(r.Context()).Can(Operator), Notice: bulkNotice(q)}
	d.Kind, d.Assignee, d.Overdue = q.Get("kind"), strings.TrimSpace(q.Get("assignee")), q.Get("overdue") == "true"
	for _, k := range profile.Kinds() {
		d.Kinds = append(d.Kinds, string(k))
	}
	d.Kinds = append(d.Kinds, "free_seat")
	if d.Kind != "" && !slices.Contains(d.Kinds, d.Kind) {
		s.fail(w, r, errorf(http.StatusBadRequest, "%q is not a kind of task.", d.Kind))
		return
	}
	f := queue.Filter{App: app, Kind: d.Kind, Assignee: d.Assignee, After: after, Limit: limit + 1}
	if d.Overdue {
		f.OverdueAt = s.cfg.Now()
	}
	switch {
	case d.Status == "pending":
		f.Pending = true
	case d.Status == "" || task.Known(task.Status(d.Status)):
		f.Status = task.Status(d.Status)
	default:
		s.fail(w, r, errorf(http.StatusBadRequest, "%q is not a task status.", d.Status))
		return
	}
	if d.User != "" {
		f.UserID = d.User
		// Within an app, a user name finds the user as well as an id.
		if app != "" {
			acct, found, err := s.queue().AccountNamed(r.Context(), app, d.User)
			if err != nil {
				s.fail(w, r, err)
				return
			}
			if found {
				f.UserID = acct.UserID
			}
		}
	}
	list, err := s.queue().Tasks(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if len(list) > limit {
		list = list[:limit]
		next := strconv.FormatInt(list[limit-1].ID, 10)
		lim := ""
		if limit != DefaultPageSize {
			lim = strconv.Itoa(limit)
		}
		overdue := ""
		if d.Overdue {
			overdue = "true"
		}
		d.Next = query("/console/tasks", "app", app, "status", d.Status, "user", d.User, "kind", d.Kind,
			"assignee", d.Assignee, "overdue", overdue, "limit", lim, "after", next)
	}
	for _, t := range list {
		d.Rows = append(d.Rows, s.row(r, t))
	}
	s.render(w, r, http.StatusOK, "tasks", view{Title: "Tasks", Nav: "tasks", Page: d})
}

// row is t as the queue shows it to the person r acts for.
func (s *server) row(r *http.Request, t task.Task) taskRow {
	me := whoOf(r.Context())
	return taskRow{Task: t, Overdue: t.Overdue(s.cfg.Now()), CanClaim: me.Can(Operator) && t.Status == task.Open,
		CanUnclaim: canUnclaim(me, t)}
}

// canUnclaim: a claimed task goes back by the hand of whoever claimed
// it, or of an approver.
func canUnclaim(me who, t task.Task) bool {
	return t.Status == task.Claimed && (me.Can(Approver) || me.Can(Operator) && t.By == me.Actor)
}

// bulkNotice says what a bulk claim did, from the query it came back
// with.
func bulkNotice(q url.Values) string {
	if !q.Has("claimed") {
		return ""
	}
	claimed, _ := strconv.Atoi(q.Get("claimed"))
	refused, _ := strconv.Atoi(q.Get("refused"))
	msg := fmt.Sprintf("Claimed %d %s.", claimed, plural(claimed, "task", "tasks"))
	if refused > 0 {
		msg += fmt.Sprintf(" %d could not be claimed: someone else claimed or closed %s first.", refused, plural(refused, "it", "them"))
	}
	return msg
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// bulkClaim claims the tasks ticked on the queue page. Only claims come
// in bulk: reporting a task done needs its own note.
func (s *server) bulkClaim(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, errorf(http.StatusBadRequest, "The form could not be read."))
		return
	}
	me := whoOf(r.Context())
	if !me.Can(Operator) {
		s.fail(w, r, errorf(http.StatusForbidden, "Your role (%s) cannot claim tasks.", me.Role))
		return
	}
	ids := r.PostForm["id"]
	if len(ids) > maxBulk {
		s.fail(w, r, errorf(http.StatusBadRequest, "Claim at most %d tasks at once.", maxBulk))
		return
	}
	claimed, refused := 0, 0
	for _, v := range ids {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			refused++
			continue
		}
		_, err = s.cfg.Engine.Claim(r.Context(), id, me.Actor)
		if _, _, known := moveMessage(err, id); err != nil && !known {
			s.fail(w, r, err)
			return
		}
		if err != nil {
			refused++
			continue
		}
		claimed++
	}
	back, err := url.Parse(localPath(r.PostForm.Get("return")))
	if err != nil {
		back = &url.URL{Path: Prefix}
	}
	q := back.Query()
	q.Set("claimed", strconv.Itoa(claimed))
	q.Set("refused", strconv.Itoa(refused))
	back.RawQuery = q.Encode()
	http.Redirect(w, r, back.String(), http.StatusSeeOther)
}
