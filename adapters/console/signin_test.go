package console_test

import (
	"context"
	"crypto/sha256"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/console"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/limit"
)

func TestSignedOutRedirects(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	for _, path := range []string{"/console/", "/console/tasks?app=wiki&status=pending", "/console/tasks/1",
		"/console/accounts?app=wiki", "/console/audit", "/console/audit.csv", "/console/nope"} {
		p := b.get(path)
		wantLoc := "/console/signin?return=" + url.QueryEscape(path)
		if p.status != http.StatusSeeOther || p.location() != wantLoc {
			t.Errorf("GET %s: %d to %q, want 303 to %q", path, p.status, p.location(), wantLoc)
		}
	}
	// A move while signed out moves nothing and leads to the sign-in.
	if p := b.post("/console/tasks/1/claim", nil); p.status != http.StatusSeeOther ||
		!strings.HasPrefix(p.location(), "/console/signin?return=") {
		t.Errorf("POST signed out: %d %s", p.status, p.location())
	}
	// htmx is told where to go instead of swapping the sign-in page into a row.
	p := b.do("POST", "/console/tasks/1/claim", url.Values{}, map[string]string{"HX-Request": "true"})
	if p.status != http.StatusUnauthorized || !strings.HasPrefix(p.header.Get("HX-Redirect"), "/console/signin") {
		t.Errorf("htmx POST signed out: %d %v", p.status, p.header)
	}
	// The sign-in page and the static files need no session.
	want(t, "sign-in form", b.get("/console/signin?return=%2Fconsole%2Faudit"), 200,
		`<label for="token">`, `name="return" value="/console/audit"`)
	for path, ctype := range map[string]string{"/console/static/console.css": "text/css", "/console/static/htmx.min.js": "javascript"} {
		p := b.get(path)
		if p.status != 200 || !strings.Contains(p.header.Get("Content-Type"), ctype) || len(p.body) < 1000 {
			t.Errorf("%s: %d %q, %d bytes", path, p.status, p.header.Get("Content-Type"), len(p.body))
		}
	}
	if p := b.get("/console/static/"); p.status != http.StatusNotFound {
		t.Errorf("static directory listing: %d", p.status)
	}
}

func TestSignIn(t *testing.T) {
	w := newWorld(t)
	b := w.browser()
	t.Run("bad token", func(t *testing.T) {
		for _, tok := range []string{"", "sbt_nope", w.scim["wiki"]} {
			p := b.post("/console/signin", url.Values{"token": {tok}, "return": {"/console/tasks"}})
			want(t, "sign-in with "+tok, p, http.StatusUnauthorized, `role="alert"`, `value="/console/tasks"`)
			if p.header.Get("Set-Cookie") != "" {
				t.Errorf("a refused sign-in set a cookie: %s", p.header.Get("Set-Cookie"))
			}
		}
		if p := b.get("/console/"); p.status != http.StatusSeeOther {
			t.Errorf("after refused sign-ins, the overview answers %d", p.status)
		}
	})

	var cookie *http.Cookie
	t.Run("good token", func(t *testing.T) {
		p := b.post("/console/signin", url.Values{"token": {w.tokens["Alice Admin"]}, "return": {"/console/tasks?app=wiki"}})
		if p.status != http.StatusSeeOther || p.location() != "/console/tasks?app=wiki" {
			t.Fatalf("sign-in: %d to %q: %s", p.status, p.location(), p.body)
		}
		res := http.Response{Header: p.header}
		for _, c := range res.Cookies() {
			if c.Name == console.CookieName {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || cookie.Path != "/console/" ||
			cookie.Secure || cookie.MaxAge != int((8*time.Hour).Seconds()) {
			t.Fatalf("session cookie %+v", cookie)
		}
		want(t, "overview signed in", b.get("/console/"), 200, `id="whoami">Alice Admin`, "(approver)")
	})

	t.Run("stored hashed", func(t *testing.T) {
		ctx := context.Background()
		var n int
		if err := w.db.ReadSQL().QueryRow(ctx, `SELECT COUNT(*) FROM console_sessions WHERE id_hash = ?`, []byte(cookie.Value)).Scan(&n); err != nil || n != 0 {
			t.Errorf("the raw session id is stored: %d %v", n, err)
		}
		sum := sha256.Sum256([]byte(cookie.Value))
		var actor string
		if err := w.db.ReadSQL().QueryRow(ctx, `SELECT actor FROM console_sessions WHERE id_hash = ?`, sum[:]).Scan(&actor); err != nil || actor != "Alice Admin" {
			t.Errorf("session by its hash: %q %v", actor, err)
		}
	})

	t.Run("return paths stay in the console", func(t *testing.T) {
		for _, back := range []string{"//evil.example/console/", "https://evil.example/console/", "/console//evil.example",
			"/api/v1/tasks", "/console/../api/v1/tasks", "/console/%2e%2e/api", "/console/\\evil", "javascript:alert(1)"} {
			b2 := w.browser()
			p := b2.post("/console/signin", url.Values{"token": {w.tokens["bob"]}, "return": {back}})
			if p.status != http.StatusSeeOther || p.location() != "/console/" {
				t.Errorf("return %q: %d to %q", back, p.status, p.location())
			}
		}
	})

	t.Run("sign out ends the session", func(t *testing.T) {
		p := b.post("/console/signout", nil)
		if p.status != http.StatusSeeOther || p.location() != "/console/signin" || !strings.Contains(p.header.Get("Set-Cookie"), "Max-Age=0") {
			t.Fatalf("sign-out: %d %q %q", p.status, p.location(), p.header.Get("Set-Cookie"))
		}
		if p := b.get("/console/"); p.status != http.StatusSeeOther {
			t.Errorf("after sign-out: %d", p.status)
		}
		// The old cookie, sent again, is worth nothing.
		replay := w.browser()
		u, _ := url.Parse(w.srv.URL + "/console/")
		replay.c.Jar.SetCookies(u, []*http.Cookie{{Name: console.CookieName, Value: cookie.Value, Path: "/console/"}})
		if p := replay.get("/console/"); p.status != http.StatusSeeOther {
			t.Errorf("the signed-out cookie still works: %d", p.status)
		}
	})

	t.Run("sessions expire", func(t *testing.T) {
		b := w.signedIn("bob")
		want(t, "fresh session", b.get("/console/"), 200)
		w.clock.advance(7 * time.Hour)
		want(t, "session at 7 h", b.get("/console/"), 200)
		w.clock.advance(time.Hour + time.Minute)
		if p := b.get("/console/"); p.status != http.StatusSeeOther {
			t.Errorf("session after 8 h: %d", p.status)
		}
	})
}

// TestSecureCookie: on https, the session cookie is Secure.
func TestSecureCookie(t *testing.T) {
	w := newWorld(t)
	h, err := console.New(console.Config{DB: w.db, Engine: w.eng, Secure: true,
		VerifyToken: func(*http.Request, string) (string, error) { return "Alice Admin", nil }})
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest("POST", "https://console.example/console/signin", strings.NewReader("token=x"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if c := rec.Header().Get("Set-Cookie"); rec.Code != http.StatusSeeOther || !strings.Contains(c, "; Secure") ||
		!strings.Contains(c, "HttpOnly") || !strings.Contains(c, "SameSite=Lax") {
		t.Errorf("%d Set-Cookie %q", rec.Code, c)
	}
	if _, err := console.New(console.Config{DB: w.db}); err == nil {
		t.Error("New without an engine or a token check did not fail")
	}
}

// TestSignInAgain: signing in over a live session replaces it.
func TestSignInAgain(t *testing.T) {
	w := newWorld(t)
	b := w.signedIn("bob")
	b.post("/console/signin", url.Values{"token": {w.tokens["bob"]}})
	var n int
	err := w.db.ReadSQL().QueryRow(context.Background(), `SELECT COUNT(*) FROM console_sessions WHERE actor = 'bob'`).Scan(&n)
	if err != nil || n != 1 {
		t.Errorf("bob has %d sessions (%v), want 1", n, err)
	}
	want(t, "signed in again", b.get("/console/"), 200, `id="whoami">bob`)
}

// TestSignInRateLimited: failed sign-ins are counted per client address,
// and once a client has spent them, even a good token is turned away
// with a page that says how long to wait.
func TestSignInRateLimited(t *testing.T) {
	var w *world
	w = newWorldWith(t, func(c *scim.Config) {
		c.FailedAuthPerMinute = 2
		c.Proxies = limit.Proxies{netip.MustParsePrefix("127.0.0.0/8")}
		c.Now = func() time.Time { return w.clock.Now() }
	})
	signIn := func(client, token string) page {
		t.Helper()
		return w.browser().do("POST", "/console/signin", url.Values{"token": {token}, "return": {"/console/"}},
			map[string]string{"X-Forwarded-For": client})
	}
	alice := w.tokens["Alice Admin"]
	for _, s := range []struct {
		name, client, token string
		advance             time.Duration
		status              int
		message, retryAfter string
	}{
		{name: "a wrong token", client: "192.0.2.1", token: "sbt_0123456789abcdef_" + strings.Repeat("x", 43), status: 401, message: "not a valid admin token"},
		{name: "a SCIM token", client: "192.0.2.1", token: w.scim["wiki"], status: 401, message: "not a valid admin token"},
		{name: "then even the right one is turned away", client: "192.0.2.1", token: alice, status: 429,
			message: "Too many failed sign-ins from your network address. Wait 30 seconds, then try again.", retryAfter: "30"},
		{name: "another address signs in", client: "198.51.100.4", token: alice, status: 303},
		{name: "29 seconds on, still waiting", client: "192.0.2.1", token: alice, advance: 29 * time.Second, status: 429,
			message: "Wait a second, then try again.", retryAfter: "1"},
		{name: "30 seconds on, in", client: "192.0.2.1", token: alice, advance: time.Second, status: 303},
	} {
		w.clock.advance(s.advance)
		p := signIn(s.client, s.token)
		want(t, s.name, p, s.status, s.message)
		if got := p.header.Get("Retry-After"); got != s.retryAfter {
			t.Errorf("%s: Retry-After %q, want %q", s.name, got, s.retryAfter)
		}
		if s.status != http.StatusSeeOther && p.header.Get("Set-Cookie") != "" {
			t.Errorf("%s: a refused sign-in set a cookie", s.name)
		}
	}
	if strings.Contains(w.logs.String(), alice) {
		t.Error("the log holds the admin token")
	}
}
