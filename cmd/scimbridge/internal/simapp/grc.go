package simapp

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// GRC is a 6clicks-like app with a user API: users of a type (User,
// Respondent or Advisor) who own items (risks, controls, findings), and
// calls that create, retype, deactivate and reactivate users and hand a
// user's items to another. Every API call needs the bearer token. A call
// whose Idempotency-Key was seen before gets the first answer again and
// changes nothing, as scimbridge's retries expect.
type GRC struct {
	srv   *server
	token string
	page  *template.Template
	notes notes

	mu      sync.Mutex
	users   []*grcUser // in the order they were created; ids u1, u2, …
	items   []*grcItem
	answers map[string]grcAnswer // successful answers by Idempotency-Key
	calls   map[string]int       // API calls by route
	moves   []Reassignment
}

type grcUser struct {
	id, email, kind string
	active          bool
}

type grcItem struct {
	title string
	owner string // a user's id
}

type grcAnswer struct {
	status int
	body   string
}

// Reassignment is one handing over of a user's items.
type Reassignment struct {
	From  string `json:"from"` // email addresses
	To    string `json:"to"`
	Items int    `json:"items"`
}

// GRCUser is a user as the app's state shows it.
type GRCUser struct {
	ID     string   `json:"id"`
	Email  string   `json:"email"`
	Type   string   `json:"type"`
	Active bool     `json:"active"`
	Items  []string `json:"items"`
}

// GRCState is everything the app holds, for people and tests to read.
type GRCState struct {
	Users         []GRCUser      `json:"users"`
	Reassignments []Reassignment `json:"reassignments"`
	// Calls counts the API calls by route, repeats included.
	Calls map[string]int `json:"calls"`
}

// grcItemsPerUser is how many items a new user is given, so that a
// leaver always has something to hand over.
const grcItemsPerUser = 3

// maxAnswers bounds the remembered answers; the demo makes far fewer.
const maxAnswers = 10000

// NewGRC starts the app on 127.0.0.1; its API takes token.
func NewGRC(token string) (*GRC, error) {
	if token == "" {
		return nil, fmt.Errorf("6clicks-like app: the API token is empty")
	}
	page, err := template.New("grc").Parse(grcPage)
	if err != nil {
		return nil, fmt.Errorf("6clicks-like app: %w", err)
	}
	srv, err := listen()
	if err != nil {
		return nil, fmt.Errorf("6clicks-like app: %w", err)
	}
	g := &GRC{srv: srv, token: token, page: page, answers: map[string]grcAnswer{}, calls: map[string]int{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/users", g.api("create", g.create))
	mux.HandleFunc("PATCH /api/users/{id}", g.api("set type", g.setType))
	mux.HandleFunc("POST /api/users/{id}/deactivate", g.api("deactivate", g.deactivate))
	mux.HandleFunc("POST /api/users/{id}/activate", g.api("activate", g.activate))
	mux.HandleFunc("POST /api/users/{id}/reassign", g.api("reassign", g.reassign))
	mux.HandleFunc("GET /state.json", g.serveState)
	mux.HandleFunc("GET /{$}", g.serveHome)
	srv.setHandler(mux)
	return g, nil
}

// URL is where the app answers; its API is under /api/.
func (g *GRC) URL() string { return g.srv.url }

// Notes returns what the app did since the last call, in words.
func (g *GRC) Notes() []string { return g.notes.take() }

// Close stops the app.
func (g *GRC) Close(ctx context.Context) error { return g.srv.close(ctx) }

// api wraps an API handler with the token check, the body limit and
// idempotency. h returns the answer; it runs under g.mu.
func (g *GRC) api(route string, h func(r *http.Request, body []byte) grcAnswer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		want := "Bearer " + g.token
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), []byte(want)) != 1 {
			writeJSON(w, grcAnswer{http.StatusUnauthorized, `{"error":"a valid API token is required"}`})
			return
		}
		var body []byte
		if r.ContentLength != 0 {
			var raw json.RawMessage
			if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10)).Decode(&raw); err != nil {
				writeJSON(w, grcAnswer{http.StatusBadRequest, `{"error":"the body is not JSON"}`})
				return
			}
			body = raw
		}
		key := r.Header.Get("Idempotency-Key")
		g.mu.Lock()
		g.calls[route]++
		if a, ok := g.answers[key]; ok && key != "" {
			g.mu.Unlock()
			g.notes.add("a repeated %s call (same Idempotency-Key): answered as before, nothing done twice", route)
			writeJSON(w, a)
			return
		}
		a := h(r, body)
		if a.status < 300 && key != "" && len(g.answers) < maxAnswers {
			g.answers[key] = a
		}
		g.mu.Unlock()
		writeJSON(w, a)
	}
}

func writeJSON(w http.ResponseWriter, a grcAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(a.status)
	fmt.Fprintln(w, a.body)
}

func errorAnswer(status int, format string, args ...any) grcAnswer {
	b, _ := json.Marshal(map[string]string{"error": fmt.Sprintf(format, args...)})
	return grcAnswer{status, string(b)}
}

// grcTypes are the user types the app knows.
func grcType(t string) bool { return slices.Contains([]string{"User", "Respondent", "Advisor"}, t) }

// user finds a user by id; g.mu is held.
func (g *GRC) user(id string) *grcUser {
	for _, u := range g.users {
		if u.id == id {
			return u
		}
	}
	return nil
}

func itemTitle(n int) string {
	titles := [...]string{
		"Risk: vendor data breach", "Control: quarterly access review", "Finding: stale admin accounts",
		"Policy: acceptable use review", "Assessment: payroll provider", "Control: backup restore test",
		"Risk: phishing of finance staff", "Finding: unencrypted laptop", "Assessment: ISO 27001 A.5.15",
	}
	return fmt.Sprintf("#%d %s", n+1, titles[n%len(titles)])
}

func (g *GRC) create(_ *http.Request, body []byte) grcAnswer {
	var b struct {
		Email string `json:"email"`
		Type  string `json:"type"`
	}
	if err := json.Unmarshal(body, &b); err != nil || !strings.Contains(b.Email, "@") {
		return errorAnswer(http.StatusBadRequest, "email is required")
	}
	if !grcType(b.Type) {
		return errorAnswer(http.StatusBadRequest, "type %q is not User, Respondent or Advisor", b.Type)
	}
	for _, u := range g.users {
		if strings.EqualFold(u.email, b.Email) {
			return errorAnswer(http.StatusConflict, "a user with the email %s exists", b.Email)
		}
	}
	u := &grcUser{id: fmt.Sprintf("u%d", len(g.users)+1), email: b.Email, kind: b.Type, active: true}
	g.users = append(g.users, u)
	for range grcItemsPerUser {
		g.items = append(g.items, &grcItem{title: itemTitle(len(g.items)), owner: u.id})
	}
	g.notes.add("added %s as %s (id %s), who owns %d items", u.email, u.kind, u.id, grcItemsPerUser)
	return grcAnswer{http.StatusCreated, fmt.Sprintf(`{"data":{"id":%q}}`, u.id)}
}

func (g *GRC) setType(r *http.Request, body []byte) grcAnswer {
	u := g.user(r.PathValue("id"))
	if u == nil {
		return errorAnswer(http.StatusNotFound, "no user %s", r.PathValue("id"))
	}
	var b struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &b); err != nil || !grcType(b.Type) {
		return errorAnswer(http.StatusBadRequest, "type must be User, Respondent or Advisor")
	}
	g.notes.add("changed %s from %s to %s", u.email, u.kind, b.Type)
	u.kind = b.Type
	return grcAnswer{http.StatusOK, `{}`}
}

func (g *GRC) deactivate(r *http.Request, _ []byte) grcAnswer {
	u := g.user(r.PathValue("id"))
	if u == nil {
		return errorAnswer(http.StatusNotFound, "no user %s", r.PathValue("id"))
	}
	u.active = false
	g.notes.add("deactivated %s", u.email)
	return grcAnswer{http.StatusOK, `{}`}
}

func (g *GRC) activate(r *http.Request, body []byte) grcAnswer {
	u := g.user(r.PathValue("id"))
	if u == nil {
		return errorAnswer(http.StatusNotFound, "no user %s", r.PathValue("id"))
	}
	var b struct {
		Type string `json:"type"`
	}
	if len(body) > 0 {
		if err := json.Unmarshal(body, &b); err != nil || (b.Type != "" && !grcType(b.Type)) {
			return errorAnswer(http.StatusBadRequest, "type must be User, Respondent or Advisor")
		}
	}
	u.active = true
	if b.Type != "" {
		u.kind = b.Type
	}
	g.notes.add("reactivated %s as %s; items handed over when they left stay where they went", u.email, u.kind)
	return grcAnswer{http.StatusOK, `{}`}
}

func (g *GRC) reassign(r *http.Request, body []byte) grcAnswer {
	from := g.user(r.PathValue("id"))
	if from == nil {
		return errorAnswer(http.StatusNotFound, "no user %s", r.PathValue("id"))
	}
	var b struct {
		To string `json:"to"`
	}
	if err := json.Unmarshal(body, &b); err != nil || b.To == "" {
		return errorAnswer(http.StatusBadRequest, "to is required: the id of the user who takes the items")
	}
	to := g.user(b.To)
	switch {
	case to == nil:
		return errorAnswer(http.StatusNotFound, "no user %s", b.To)
	case !to.active:
		return errorAnswer(http.StatusConflict, "%s is inactive and cannot own items", to.email)
	case to == from:
		return errorAnswer(http.StatusBadRequest, "a user cannot take over their own items")
	}
	n := 0
	for _, it := range g.items {
		if it.owner == from.id {
			it.owner = to.id
			n++
		}
	}
	g.moves = append(g.moves, Reassignment{From: from.email, To: to.email, Items: n})
	g.notes.add("handed the %d items of %s to %s", n, from.email, to.email)
	return grcAnswer{http.StatusOK, fmt.Sprintf(`{"moved":%d}`, n)}
}

// State is a copy of everything the app holds.
func (g *GRC) State() GRCState {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := GRCState{Users: []GRCUser{}, Reassignments: slices.Clone(g.moves), Calls: map[string]int{}}
	for k, v := range g.calls {
		s.Calls[k] = v
	}
	if s.Reassignments == nil {
		s.Reassignments = []Reassignment{}
	}
	for _, u := range g.users {
		gu := GRCUser{ID: u.id, Email: u.email, Type: u.kind, Active: u.active, Items: []string{}}
		for _, it := range g.items {
			if it.owner == u.id {
				gu.Items = append(gu.Items, it.title)
			}
		}
		s.Users = append(s.Users, gu)
	}
	return s
}

func (g *GRC) serveState(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(g.State())
}

const grcPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>6clicks (simulated)</title></head>
<body style="font-family: sans-serif; max-width: 60em; margin: 2em auto">
<h1>6clicks (simulated)</h1>
<p>A stand-in for 6clicks with a user API, which scimbridge calls instead of opening tasks
(the <code>rest</code> section of the app <code>sixclicks</code> in the demo's config).
Administration &gt; Users:</p>
<table border="1" cellpadding="4" style="border-collapse: collapse">
<tr><th>id</th><th>email</th><th>type</th><th>status</th><th>items owned</th></tr>
{{range .Users}}<tr><td>{{.ID}}</td><td>{{.Email}}</td><td>{{.Type}}</td><td>{{if .Active}}active{{else}}inactive{{end}}</td>
<td>{{range $i, $t := .Items}}{{if $i}}<br>{{end}}{{$t}}{{else}}none{{end}}</td></tr>
{{else}}<tr><td colspan="5">No users yet.</td></tr>{{end}}
</table>
<h2>Reassignments</h2>
<ul>{{range .Reassignments}}<li>{{.Items}} items of {{.From}} to {{.To}}</li>{{else}}<li>none yet</li>{{end}}</ul>
<p>The same as JSON: <a href="/state.json">/state.json</a>.</p>
</body></html>
`

func (g *GRC) serveHome(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = g.page.Execute(w, g.State())
}
