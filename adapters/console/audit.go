package console

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/csvcell"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

// auditData is a page of the audit log.
type auditData struct {
	Apps    []string
	App     string
	User    string
	Entries []queue.AuditRecord
	Next    string
	CSV     string // the export of everything the filters select
}

func (s *server) audit(w http.ResponseWriter, r *http.Request) {
	app, after, limit, err := s.listParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	user := strings.TrimSpace(r.URL.Query().Get("user"))
	list, err := s.queue().AuditOf(r.Context(), queue.AuditFilter{App: app, User: user, After: after, Limit: limit + 1})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := auditData{Apps: s.names, App: app, User: user, CSV: query("/console/audit.csv", "app", app, "user", user)}
	if len(list) > limit {
		list = list[:limit]
		lim := ""
		if limit != DefaultPageSize {
			lim = strconv.Itoa(limit)
		}
		d.Next = query("/console/audit", "app", app, "user", user, "limit", lim,
			"after", strconv.FormatInt(list[limit-1].Seq, 10))
	}
	d.Entries = list
	s.render(w, r, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Page: d})
}

// csvChunk is how many entries the export reads at a time, so that a
// long trail streams rather than sits in memory.
const csvChunk = 1000

// auditCSV exports the entries the filters select, oldest first.
func (s *server) auditCSV(w http.ResponseWriter, r *http.Request) {
	app, _, _, err := s.listParams(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	user := strings.TrimSpace(r.URL.Query().Get("user"))
	f := queue.AuditFilter{App: app, User: user, Limit: csvChunk}
	// The first chunk is read before the headers go, so that a failure
	// can still be an error page.
	list, err := s.queue().AuditOf(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="scimbridge-audit.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	out := csv.NewWriter(w)
	out.Write([]string{"seq", "time", "actor", "app", "user_id", "user_name", "task_id", "what", "from", "to", "reason"})
	for len(list) > 0 {
		for _, e := range list {
			task := ""
			if e.TaskID != 0 {
				task = strconv.FormatInt(e.TaskID, 10)
			}
			out.Write(csvcell.Row(strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.Actor, e.App,
				e.UserID, e.UserName, task, e.What, e.From, e.To, e.Reason))
		}
		if len(list) < csvChunk {
			break
		}
		f.After = list[len(list)-1].Seq
		if list, err = s.queue().AuditOf(r.Context(), f); err != nil {
			// Too late for an error page: the export ends short, and says so.
			s.log.ErrorContext(r.Context(), "console: audit export failed", "error", err)
			out.Write([]string{"error", "the export ended early; the error is in scimbridge's log"})
			break
		}
	}
	out.Flush()
	if err := out.Error(); err != nil {
		s.log.WarnContext(r.Context(), "console: audit export not sent in full", "error", err)
	}
}
