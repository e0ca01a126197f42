package console_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/console"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// world is the real SCIM handler and the console over real SQLite, as
// the server mounts them, with the engine that turns SCIM changes into
// tasks. App peopleai uses the People.ai profile, where users of
// admins.example.com get Admin, which needs approval; wiki uses the
// manual profile; sixsense is a just-in-time app whose ABM seats (not
// enforced) are limited to 1 and SI seats (enforced) to 1.
type world struct {
	t      *testing.T
	srv    *httptest.Server
	db     *sqlite.DB
	eng    *engine.Engine
	logs   *syncBuffer
	clock  *clock
	scim   map[string]string // SCIM tokens by app
	tokens map[string]string // admin tokens by actor
	userID map[string]string // SCIM user ids by short name
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// clock is the console's clock: the real time, moved on by tests.
type clock struct {
	mu   sync.Mutex
	skew time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skew)
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skew += d
}

// roles of the test's admins; anyone else is an approver.
var roles = map[string]string{"vic": console.Viewer, "olga": console.Operator}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, func(*scim.Config) {})
}

// newWorldWith is newWorld with the SCIM server's configuration tuned.
func newWorldWith(t *testing.T, tune func(*scim.Config)) *world {
	t.Helper()
	ctx := context.Background()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	if err := queue.Migrate(ctx, db); err != nil {
		t.Fatal(err)
	}
	builtin, err := profile.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	peopleai, err := builtin["peopleai"].With(profile.Override{RoleRules: &profile.RoleRules{
		Domains: []profile.DomainRule{{Domain: "admins.example.com", Role: "Admin"}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	sixsense, err := builtin["sixsense"].With(profile.Override{
		Seats: []profile.SeatLimit{{Module: "SI", Limit: 1}, {Module: "ABM", Limit: 1}},
	})
	if err != nil {
		t.Fatal(err)
	}
	jit, err := engine.AdapterFor(sixsense)
	if err != nil {
		t.Fatal(err)
	}
	apps := map[string]engine.App{
		"peopleai": {Profile: peopleai, Adapter: plan.Manual{}},
		"wiki":     {Profile: builtin["manual"], Adapter: plan.Manual{}},
		"sixsense": {Profile: sixsense, Adapter: jit},
	}
	clk := &clock{}
	scfg := scim.Config{Store: db, Apps: []string{"peopleai", "wiki", "sixsense"}, Logger: log}
	tune(&scfg)
	sc, err := scim.NewServer(scfg)
	if err != nil {
		t.Fatal(err)
	}
	eng := engine.New(db, apps, log)
	h, err := console.New(console.Config{DB: db, Engine: eng, Apps: apps, VerifyToken: console.VerifyWith(sc.AdminActor),
		RoleOf: func(actor string) string {
			if r, ok := roles[actor]; ok {
				return r
			}
			return console.Approver
		},
		Logger: log, Now: clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/apps/", sc.Handler())
	mux.Handle(console.Prefix, h)
	w := &world{t: t, srv: httptest.NewServer(mux), db: db, eng: eng, logs: logs, clock: clk,
		scim: map[string]string{}, tokens: map[string]string{}, userID: map[string]string{}}
	t.Cleanup(func() { w.srv.Close(); sc.Close(); db.Close() })
	for _, app := range []string{"peopleai", "wiki", "sixsense"} {
		if w.scim[app], _, err = scim.IssueToken(ctx, db, app, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, actor := range []string{"Alice Admin", "bob", "vic", "olga"} {
		if w.tokens[actor], _, err = scim.IssueAdminToken(ctx, db, actor, "test"); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

// createUser pushes user name@domain to app through SCIM, as Okta does.
func (w *world) createUser(app, name, domain string) {
	w.t.Helper()
	email := name + "@" + domain
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,
		"name":{"givenName":%q,"familyName":"Doe"},"emails":[{"primary":true,"type":"work","value":%q}],
		"displayName":"%s Doe","active":true}`, email, name, email, name)
	req, err := http.NewRequest("POST", w.srv.URL+"/apps/"+app+"/scim/v2/Users", strings.NewReader(body))
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+w.scim[app])
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		w.t.Fatalf("create %s: status %d: %s", email, res.StatusCode, b)
	}
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindSubmatch(b)
	if id == nil {
		w.t.Fatalf("create %s: no id in %s", email, b)
	}
	w.userID[name] = string(id[1])
}

// dispatch runs the engine until the outbox is drained.
func (w *world) dispatch() {
	w.t.Helper()
	for {
		n, err := w.eng.Dispatch(context.Background())
		if err != nil {
			w.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

// populated is a world with alice, bob and carol (an Admin, so her task
// awaits approval) in peopleai and dave in wiki, each with a create task.
func populated(t *testing.T) *world {
	w := newWorld(t)
	w.createUser("peopleai", "alice", "example.com")
	w.createUser("peopleai", "bob", "example.com")
	w.createUser("peopleai", "carol", "admins.example.com")
	w.createUser("wiki", "dave", "example.com")
	w.dispatch()
	return w
}

// taskOf returns the id of the newest task of user (short name).
func (w *world) taskOf(user string) int64 {
	w.t.Helper()
	list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{UserID: w.userID[user]})
	if err != nil || len(list) == 0 {
		w.t.Fatalf("no task of %s: %v", user, err)
	}
	return list[len(list)-1].ID
}

// browser is one person's cookie jar; it follows no redirects, so that
// tests see them.
type browser struct {
	w *world
	c *http.Client
}

func (w *world) browser() *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		w.t.Fatal(err)
	}
	return &browser{w: w, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// signedIn returns a browser signed in as actor.
func (w *world) signedIn(actor string) *browser {
	w.t.Helper()
	b := w.browser()
	p := b.post("/console/signin", url.Values{"token": {w.tokens[actor]}, "return": {"/console/"}})
	if p.status != http.StatusSeeOther || p.location() != "/console/" {
		w.t.Fatalf("sign-in as %s: %d %s: %s", actor, p.status, p.location(), p.body)
	}
	return b
}

// page is an answer.
type page struct {
	status int
	header http.Header
	body   string
}

func (p page) location() string { return p.header.Get("Location") }

func (b *browser) do(method, path string, form url.Values, header map[string]string) page {
	b.w.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
		header = maps.Clone(header)
		if header == nil {
			header = map[string]string{}
		}
		header["Content-Type"] = "application/x-www-form-urlencoded"
	}
	return b.send(method, path, body, header)
}

// send sends body with header and holds the answer to the console's
// rules.
func (b *browser) send(method, path string, body io.Reader, header map[string]string) page {
	b.w.t.Helper()
	p := b.fetch(method, path, body, header)
	checkHeaders(b.w.t, method+" "+path, p)
	return p
}

// fetch sends body with header and returns the answer unchecked.
func (b *browser) fetch(method, path string, body io.Reader, header map[string]string) page {
	b.w.t.Helper()
	req, err := http.NewRequest(method, b.w.srv.URL+path, body)
	if err != nil {
		b.w.t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		b.w.t.Fatal(err)
	}
	return page{res.StatusCode, res.Header, string(raw)}
}

func (b *browser) get(path string) page {
	b.w.t.Helper()
	return b.do("GET", path, nil, nil)
}

func (b *browser) post(path string, form url.Values) page {
	b.w.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", path, form, nil)
}

// want fails the test unless p has status and contains every part.
func want(t *testing.T, what string, p page, status int, parts ...string) {
	t.Helper()
	if p.status != status {
		t.Fatalf("%s: status %d, want %d:\n%s", what, p.status, status, p.body)
	}
	for _, part := range parts {
		if !strings.Contains(p.body, part) {
			t.Errorf("%s: the page lacks %q:\n%s", what, part, p.body)
		}
	}
}

var (
	scriptTag  = regexp.MustCompile(`(?i)<script\b[^>]*>`)
	styleAttr  = regexp.MustCompile(`(?i)<[^>]*\sstyle\s*=`)
	styleTag   = regexp.MustCompile(`(?i)<style\b`)
	inlineHook = regexp.MustCompile(`(?i)<[^>]*\s(on[a-z]+|hx-on[:a-z-]*)\s*=`)
)

// checkHeaders holds every answer to the console's security rules: the
// headers, and HTML that the CSP would not have to block.
func checkHeaders(t *testing.T, what string, p page) {
	t.Helper()
	if got := p.header.Get("Content-Security-Policy"); !strings.Contains(got, "script-src 'self'") ||
		!strings.Contains(got, "frame-ancestors 'none'") || !strings.Contains(got, "style-src 'self'") {
		t.Errorf("%s: CSP %q", what, got)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" || p.header.Get("Referrer-Policy") != "same-origin" {
		t.Errorf("%s: headers %v", what, p.header)
	}
	if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") {
		return
	}
	if p.header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, p.header.Get("Content-Type"))
	}
	for _, tag := range scriptTag.FindAllString(p.body, -1) {
		if !strings.Contains(tag, " src=") {
			t.Errorf("%s: inline script %s", what, tag)
		}
	}
	for _, re := range []*regexp.Regexp{styleAttr, styleTag, inlineHook} {
		if m := re.FindString(p.body); m != "" {
			t.Errorf("%s: inline style or handler %q", what, m)
		}
	}
	if strings.Contains(p.body, "Something went wrong") != (p.status >= 500) {
		t.Errorf("%s: status %d with body:\n%s", what, p.status, p.body)
	}
}
