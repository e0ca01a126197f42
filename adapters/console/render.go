package console

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/task"
)

//go:embed templates/*.html
var templates embed.FS

// pageNames are the templates of full pages; each defines "title" and
// "content" for the layout, and may define fragments of its own.
var pageNames = []string{"overview", "tasks", "task", "accounts", "account", "audit", "import", "settings", "signin", "error"}

// pages are the parsed templates by page name.
type pages map[string]*template.Template

var funcs = template.FuncMap{
	"when": when,
	"human": func(s any) string {
		return strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	},
	"join": strings.Join,
	"inc":  func(i int) int { return i + 1 },
	"bytes": func(n int64) string {
		switch {
		case n >= 1<<20:
			return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
		case n >= 1<<10:
			return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
		}
		return fmt.Sprintf("%d bytes", n)
	},
	// link reports whether v may be shown as a link: evidence is free
	// text, and only a web address becomes one.
	"link": func(v string) bool {
		u, err := url.Parse(v)
		return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
	},
}

// when shows a time in UTC to the minute; zero is "never".
func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func parsePages() (pages, error) {
	out := pages{}
	for _, name := range pageNames {
		t, err := template.New(name).Funcs(funcs).ParseFS(templates,
			"templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, fmt.Errorf("console: template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// view is what the layout renders around a page.
type view struct {
	Title string
	Nav   string // the section of the nav to mark current
	Who   who
	// Message, when set, is an error shown above the page's content.
	Message string
	Page    any
}

// render writes page as a full HTML page with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	v.Who = whoOf(r.Context())
	s.execute(w, r, status, name, "layout", v)
}

// fragment writes one template of a page, for htmx to swap in.
func (s *server) fragment(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	s.execute(w, r, status, name, tmpl, data)
}

func (s *server) execute(w http.ResponseWriter, r *http.Request, status int, name, tmpl string, data any) {
	t, ok := s.pages[name]
	if !ok {
		s.log.ErrorContext(r.Context(), "console: no such template", "page", name)
		http.Error(w, internalMessage, http.StatusInternalServerError)
		return
	}
	// Rendered to a buffer first, so that a failure half-way shows an
	// error rather than half a page.
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, tmpl, data); err != nil {
		s.log.ErrorContext(r.Context(), "console: render failed", "page", name, "template", tmpl, "error", err)
		http.Error(w, internalMessage, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// fail answers with the error page for err.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := s.public(r, err)
	s.render(w, r, status, "error", view{Title: http.StatusText(status), Message: msg})
}

// htmx reports whether htmx sent r and swaps a fragment of the answer.
func htmx(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// statuses are the task statuses in the order filters list them.
var statuses = []task.Status{task.AwaitingApproval, task.Open, task.Claimed, task.Done, task.Verified,
	task.Failed, task.Cancelled, task.Superseded, task.Rejected}

// query builds a console link: path with the non-empty values of kv
// (name, value, name, value…).
func query(path string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return path
	}
	return path + "?" + q.Encode()
}
