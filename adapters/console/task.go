package console

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// taskData is the task page.
type taskData struct {
	Task    task.Task
	Overdue bool
	Params  []param
	History []queue.AuditRecord
	Files   []queue.Evidence
	// What the person may do with the task as it stands.
	CanClaim, CanUnclaim, CanWork, CanApprove bool
	// Note and Evidence are what the person typed, kept when a report
	// was refused.
	Note, Evidence string
	// Form names the form a refused report came from.
	Form string
}

type param struct{ Name, Value string }

// taskID reads the task id of the path, or a 404.
func taskID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, errorf(http.StatusNotFound, "There is no task %q.", v)
	}
	return id, nil
}

// readTask reads task id, or a 404.
func (s *server) readTask(ctx context.Context, id int64) (task.Task, error) {
	t, err := s.queue().Task(ctx, id)
	if errors.Is(err, queue.ErrNotFound) {
		return t, errorf(http.StatusNotFound, "There is no task %d.", id)
	}
	return t, err
}

func (s *server) task(w http.ResponseWriter, r *http.Request) {
	id, err := taskID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.showTask(w, r, id, http.StatusOK, "", taskData{})
}

// showTask renders the task page of id with status and, when set, msg
// above it; d carries what a refused form held.
func (s *server) showTask(w http.ResponseWriter, r *http.Request, id int64, status int, msg string, d taskData) {
	t, err := s.readTask(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	trail, err := s.queue().AuditOf(r.Context(), queue.AuditFilter{App: t.App, UserID: t.UserID, TaskID: t.ID})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Files, err = s.queue().EvidenceOf(r.Context(), t.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	me := whoOf(r.Context())
	d.Task, d.History, d.Overdue = t, trail, t.Overdue(s.cfg.Now())
	d.CanClaim = me.Can(Operator) && t.Status == task.Open
	d.CanUnclaim = canUnclaim(me, t)
	d.CanWork = me.Can(Operator) && (t.Status == task.Open || t.Status == task.Claimed)
	d.CanApprove = me.Can(Approver) && t.Status == task.AwaitingApproval
	for k, v := range t.Params {
		d.Params = append(d.Params, param{k, v})
	}
	slices.SortFunc(d.Params, func(a, b param) int { return strings.Compare(a.Name, b.Name) })
	s.render(w, r, status, "task", view{Title: "Task " + strconv.FormatInt(t.ID, 10), Nav: "tasks", Message: msg, Page: d})
}

// moveMessage returns the status and the words for an error of the
// engine's moves that the person can act on; known is false for the
// server's own failures.
func moveMessage(err error, id int64) (status int, msg string, known bool) {
	var bad *task.MoveError
	var se *statusError
	switch {
	case err == nil:
		return http.StatusOK, "", true
	case errors.As(err, &se):
		return se.status, se.msg, true
	case errors.Is(err, engine.ErrOwnRequest):
		return http.StatusForbidden, "You requested this; another approver must decide.", true
	case errors.Is(err, engine.ErrNotClaimer):
		return http.StatusForbidden, "Someone else claimed this task; only they, or an approver, can give it back.", true
	case errors.Is(err, engine.ErrNoteRequired):
		return http.StatusBadRequest, noteMissing, true
	case errors.As(err, &bad):
		return http.StatusConflict, "Task " + strconv.FormatInt(bad.ID, 10) + " is " + strings.ReplaceAll(string(bad.From), "_", " ") +
			" now, so it cannot become " + strings.ReplaceAll(string(bad.To), "_", " ") +
			". Someone may have moved it since the page was loaded.", true
	case errors.Is(err, queue.ErrNotFound):
		return http.StatusNotFound, "There is no task " + strconv.FormatInt(id, 10) + ".", true
	}
	return 0, "", false
}

const noteMissing = "A note is required: say what was done or what went wrong."

// move is one action of the task page: who may do it, and what it does.
type move struct {
	need string // the least role
	verb string // for a refusal: "claim tasks"
	form string // the form's name, to keep what it held
	do   func(ctx context.Context, id int64, me who, rep report) (task.Task, error)
	// noteMissing, when set, refuses a blank note with these words
	// before the engine is asked.
	noteMissing string
	// files allows evidence files in the form.
	files bool
}

// report is what a person wrote, and attached, in an action's form.
type report struct {
	note, evidence string
	files          []queue.Evidence
}

// readReport reads the form of r: multipart with files when m allows
// them, a plain form otherwise.
func readReport(w http.ResponseWriter, r *http.Request, m move) (report, error) {
	limit := int64(64 << 10)
	if m.files {
		limit = maxEvidenceBody
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit)
	var err error
	multi := m.files && strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data")
	if multi {
		// Beyond 1 MB, parts wait in temporary files, removed below.
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return report{}, errorf(http.StatusRequestEntityTooLarge, "The form is larger than %d MB; attach fewer or smaller files.", limit>>20)
		}
		return report{}, errorf(http.StatusBadRequest, "The form could not be read.")
	}
	rep := report{note: strings.TrimSpace(r.PostForm.Get("note")), evidence: strings.TrimSpace(r.PostForm.Get("evidence"))}
	if multi {
		defer r.MultipartForm.RemoveAll()
		rep.files, err = readEvidence(r.MultipartForm)
	}
	return rep, err
}

// act serves the POST of m: the engine moves the task, and the browser
// comes back to the task page (or, from the queue, the page it came
// from); htmx gets the queue's row instead.
func (s *server) act(m move) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := taskID(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		me := whoOf(r.Context())
		rep, err := readReport(w, r, m)
		var se *statusError
		if err != nil && !errors.As(err, &se) {
			s.fail(w, r, err)
			return
		}
		if err == nil {
			switch {
			case !me.Can(m.need):
				err = errorf(http.StatusForbidden, "Your role (%s) cannot %s.", me.Role, m.verb)
			case m.noteMissing != "" && rep.note == "":
				err = errorf(http.StatusBadRequest, "%s", m.noteMissing)
			default:
				_, err = m.do(r.Context(), id, me, rep)
			}
		}
		note, evidence := rep.note, rep.evidence
		status, msg, known := moveMessage(err, id)
		if !known {
			s.fail(w, r, err)
			return
		}
		if htmx(r) {
			t, rerr := s.readTask(r.Context(), id)
			if rerr != nil {
				s.fail(w, r, rerr)
				return
			}
			row := s.row(r, t)
			row.Message = msg
			s.fragment(w, r, status, "tasks", "task-row", row)
			return
		}
		if err != nil {
			if status == http.StatusForbidden && !me.Can(m.need) {
				s.fail(w, r, err)
				return
			}
			s.showTask(w, r, id, status, msg, taskData{Note: note, Evidence: evidence, Form: m.form})
			return
		}
		back := "/console/tasks/" + strconv.FormatInt(id, 10)
		if v := r.PostForm.Get("return"); v != "" {
			back = localPath(v)
		}
		http.Redirect(w, r, back, http.StatusSeeOther)
	}
}

// The moves of the task page, built once by routes.

func (s *server) claimMove() move {
	return move{need: Operator, verb: "claim tasks", form: "claim",
		do: func(ctx context.Context, id int64, me who, _ report) (task.Task, error) {
			return s.cfg.Engine.Claim(ctx, id, me.Actor)
		}}
}

// unclaimMove gives a claimed task back; an approver may free a task
// someone else claimed.
func (s *server) unclaimMove() move {
	return move{need: Operator, verb: "give tasks back", form: "unclaim",
		do: func(ctx context.Context, id int64, me who, _ report) (task.Task, error) {
			return s.cfg.Engine.Unclaim(ctx, id, me.Actor, me.Can(Approver))
		}}
}

func (s *server) doneMove() move {
	return move{need: Operator, verb: "report tasks done", form: "done", noteMissing: noteMissing, files: true,
		do: func(ctx context.Context, id int64, me who, rep report) (task.Task, error) {
			return s.cfg.Engine.Done(ctx, id, me.Actor, rep.note, rep.evidence, rep.files...)
		}}
}

func (s *server) failMove() move {
	return move{need: Operator, verb: "report tasks failed", form: "fail", noteMissing: noteMissing,
		do: func(ctx context.Context, id int64, me who, rep report) (task.Task, error) {
			return s.cfg.Engine.Fail(ctx, id, me.Actor, rep.note)
		}}
}

func (s *server) approveMove() move {
	return move{need: Approver, verb: "approve requests", form: "approve",
		do: func(ctx context.Context, id int64, me who, _ report) (task.Task, error) {
			return s.cfg.Engine.Approve(ctx, id, me.Actor)
		}}
}

// rejectMove asks for a note, which the engine leaves optional: people
// reading the audit log later deserve the reason.
func (s *server) rejectMove() move {
	return move{need: Approver, verb: "reject requests", form: "reject",
		noteMissing: "A note is required: say why the request is refused.",
		do: func(ctx context.Context, id int64, me who, rep report) (task.Task, error) {
			return s.cfg.Engine.Reject(ctx, id, me.Actor, rep.note)
		}}
}
