package main

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/console"
)

// secWorld is the real server, run in-process on loopback over a real
// SQLite file, as an attacker and its legitimate clients meet it. The
// server trusts loopback as a proxy, so that X-Forwarded-For plays
// clients from several addresses.
type secWorld struct {
	t      *testing.T
	srv    served
	hc     *http.Client
	tokens map[string]string // "acme", "beta", "tiny": SCIM tokens; "admin": an admin token
}

func newSecWorld(t *testing.T) *secWorld {
	t.Helper()
	addr := freeAddr(t)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`listen: %s
database: data.db
log: {level: debug, format: json}
trusted_proxies: [127.0.0.1]
rate_limit:
  failed_auth_per_minute: 5
apps:
  - name: acme
  - name: beta
  - name: tiny
    rate_limit: {requests_per_second: 1, burst: 3}
`, addr))
	w := &secWorld{t: t, tokens: map[string]string{},
		hc: &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	for _, app := range []string{"acme", "beta", "tiny"} {
		code, stdout, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-app", app)
		if code != 0 {
			t.Fatalf("token create -app %s: %s", app, stderr)
		}
		w.tokens[app] = strings.TrimSpace(stdout)
	}
	code, stdout, stderr := runCLI(t, nil, "token", "create", "-config", cfg, "-admin", "-name", "ops-bot")
	if code != 0 {
		t.Fatalf("token create -admin: %s", stderr)
	}
	w.tokens["admin"] = strings.TrimSpace(stdout)
	w.srv = serveInProcess(t, cfg, addr, nil)
	return w
}

// call is one request of a client at address from.
type call struct {
	method, path string
	from         string            // X-Forwarded-For
	token        string            // bearer token, "" for none
	form         url.Values        // a form body
	body         string            // a JSON body
	header       map[string]string // more headers
	cookie       *http.Cookie
}

type answer struct {
	status int
	header http.Header
	body   string
}

func (w *secWorld) do(c call) answer {
	w.t.Helper()
	var body io.Reader
	switch {
	case c.form != nil:
		body = strings.NewReader(c.form.Encode())
	case c.body != "":
		body = strings.NewReader(c.body)
	}
	req, err := http.NewRequest(c.method, w.srv.base+c.path, body)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("X-Forwarded-For", c.from)
	switch {
	case c.form != nil:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case c.body != "":
		req.Header.Set("Content-Type", "application/scim+json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if c.cookie != nil {
		req.AddCookie(c.cookie)
	}
	res, err := w.hc.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		w.t.Fatal(err)
	}
	return answer{res.StatusCode, res.Header, string(raw)}
}

// sessionCookie returns the console session cookie a are set, or nil.
func sessionCookie(a answer) *http.Cookie {
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		if c.Name == console.CookieName && c.Value != "" {
			return c
		}
	}
	return nil
}

// expectation is one request of a scenario and what it must get.
type expectation struct {
	name   string
	call   call
	status int
	// has are strings the body must hold. retry bounds the Retry-After
	// header, in seconds: the limits run on the real clock, so a slow
	// machine may see a second less. 0: no header.
	has   []string
	retry int
}

func (w *secWorld) expect(steps []expectation) {
	w.t.Helper()
	for _, s := range steps {
		a := w.do(s.call)
		if a.status != s.status {
			w.t.Fatalf("%s: status %d, want %d: %s", s.name, a.status, s.status, a.body)
		}
		for _, h := range s.has {
			if !strings.Contains(a.body, h) {
				w.t.Errorf("%s: the answer lacks %q: %s", s.name, h, a.body)
			}
		}
		got := a.header.Get("Retry-After")
		if n, err := strconv.Atoi(got); s.retry == 0 && got != "" || s.retry > 0 && (err != nil || n < 1 || n > s.retry || n < s.retry-1) {
			w.t.Errorf("%s: Retry-After %q, want %d s (or a second less)", s.name, got, s.retry)
		}
	}
}

// TestSecurity drives the server as hostile clients would, beside the
// legitimate ones.
func TestSecurity(t *testing.T) {
	w := newSecWorld(t)
	tok := w.tokens
	users := "/apps/acme/scim/v2/Users"

	t.Run("a token works only on its own app's endpoint", func(t *testing.T) {
		from := "198.51.100.1"
		var steps []expectation
		for _, app := range []string{"acme", "beta"} {
			for _, owner := range []string{"acme", "beta", "admin"} {
				status := http.StatusUnauthorized
				if owner == app {
					status = http.StatusOK
				}
				steps = append(steps, expectation{name: owner + "'s token on " + app,
					call: call{method: "GET", path: "/apps/" + app + "/scim/v2/Users", from: from, token: tok[owner]}, status: status})
			}
		}
		steps = append(steps, expectation{name: "a token on an app that does not exist",
			call: call{method: "GET", path: "/apps/gone/scim/v2/Users", from: from, token: tok["acme"]}, status: 401})
		// Five failures above spent the address's budget: the sixth
		// request from it is turned away.
		steps = append(steps, expectation{name: "then the address is over its failures",
			call: call{method: "GET", path: users, from: from, token: tok["acme"]}, status: 429, retry: 12})
		w.expect(steps)
	})

	t.Run("admin and SCIM tokens stay on their side", func(t *testing.T) {
		from := "198.51.100.2"
		w.expect([]expectation{
			{name: "admin token on the admin API", call: call{method: "GET", path: "/api/v1/apps", from: from, token: tok["admin"]}, status: 200},
			{name: "SCIM token on the admin API", call: call{method: "GET", path: "/api/v1/apps", from: from, token: tok["acme"]}, status: 401,
				has: []string{"a valid admin token is required"}},
			{name: "SCIM token on an unknown API path", call: call{method: "GET", path: "/api/v1/nope", from: from, token: tok["acme"]}, status: 401},
			{name: "admin token on SCIM", call: call{method: "GET", path: users, from: from, token: tok["admin"]}, status: 401,
				has: []string{`"status":"401"`}},
			{name: "SCIM token typed into the console", call: call{method: "POST", path: "/console/signin", from: from,
				form: url.Values{"token": {tok["acme"]}}}, status: 401, has: []string{"not a valid admin token"}},
		})
	})

	t.Run("guessing tokens is slow and logged", func(t *testing.T) {
		attacker, bystander := "203.0.113.66", "198.51.100.3"
		guess := func(i int) string { return fmt.Sprintf("sbt_%016x_%s", i, strings.Repeat("G", 43)) }
		var steps []expectation
		for i := range 5 {
			steps = append(steps, expectation{name: fmt.Sprintf("guess %d", i+1),
				call: call{method: "GET", path: users, from: attacker, token: guess(i)}, status: 401})
		}
		steps = append(steps,
			expectation{name: "the sixth guess is not even checked", call: call{method: "GET", path: users, from: attacker, token: guess(5)},
				status: 429, retry: 12, has: []string{"too many failed authentications from this address", `"status":"429"`}},
			expectation{name: "nor is a good token from the attacker's address", call: call{method: "GET", path: users, from: attacker, token: tok["acme"]},
				status: 429, retry: 12},
			expectation{name: "the admin API shares the budget", call: call{method: "GET", path: "/api/v1/apps", from: attacker, token: tok["admin"]},
				status: 429, retry: 12, has: []string{`"status":429`}},
			expectation{name: "so does the console's sign-in", call: call{method: "POST", path: "/console/signin", from: attacker,
				form: url.Values{"token": {tok["admin"]}}}, status: 429, retry: 12,
				has: []string{"Too many failed sign-ins from your network address. Wait 1"}},
			expectation{name: "another address is served", call: call{method: "GET", path: users, from: bystander, token: tok["acme"]}, status: 200},
		)
		w.expect(steps)
		logs := w.srv.logs.String()
		if n := strings.Count(logs, `"client":"`+attacker+`"`); n != 6 {
			t.Errorf("%d log lines name the attacker, want its 5 failures and one warning", n)
		}
		if n := strings.Count(logs, "too many failed authentications: refusing the client"); n < 1 {
			t.Error("no warning that a client ran out")
		}
		for i := range 6 {
			if strings.Contains(logs, guess(i)[21:]) {
				t.Errorf("guess %d is in the log", i+1)
			}
		}
	})

	t.Run("console sign-in failures are limited per address", func(t *testing.T) {
		from := "203.0.113.7"
		var steps []expectation
		for i := range 5 {
			steps = append(steps, expectation{name: fmt.Sprintf("wrong token %d", i+1),
				call:   call{method: "POST", path: "/console/signin", from: from, form: url.Values{"token": {fmt.Sprintf("guess-%d", i)}}},
				status: 401, has: []string{"not a valid admin token"}})
		}
		steps = append(steps,
			expectation{name: "then a clear refusal", call: call{method: "POST", path: "/console/signin", from: from,
				form: url.Values{"token": {tok["admin"]}}}, status: 429, retry: 12,
				has: []string{"Too many failed sign-ins from your network address", "then try again"}},
			expectation{name: "an empty form is no guess", call: call{method: "POST", path: "/console/signin", from: "198.51.100.4",
				form: url.Values{"token": {""}}}, status: 401, has: []string{"Enter an admin token."}},
		)
		w.expect(steps)
	})

	t.Run("a token over its rate", func(t *testing.T) {
		from := "198.51.100.5"
		tiny := "/apps/tiny/scim/v2/Users"
		w.expect([]expectation{
			{name: "burst 1", call: call{method: "GET", path: tiny, from: from, token: tok["tiny"]}, status: 200},
			{name: "burst 2", call: call{method: "GET", path: tiny, from: from, token: tok["tiny"]}, status: 200},
			{name: "burst 3", call: call{method: "GET", path: tiny, from: from, token: tok["tiny"]}, status: 200},
			{name: "over", call: call{method: "GET", path: tiny, from: from, token: tok["tiny"]}, status: 429, retry: 1,
				has: []string{`"detail":"too many requests with this token: at most 1 a second, in bursts of 3; retry after 1 s","status":"429"`}},
			{name: "another app's tokens have no limit", call: call{method: "GET", path: users, from: from, token: tok["acme"]}, status: 200},
		})
	})

	t.Run("console forms from another site are refused", func(t *testing.T) {
		from := "198.51.100.6"
		signin := url.Values{"token": {tok["admin"]}}
		for _, c := range []struct {
			name   string
			header map[string]string
			status int
		}{
			{"a cross-site form", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, 403},
			{"a foreign Origin alone", map[string]string{"Origin": "https://evil.example"}, 403},
			{"a same-site sibling", map[string]string{"Sec-Fetch-Site": "same-site"}, 403},
			{"the console's own form", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": w.srv.base}, 303},
		} {
			a := w.do(call{method: "POST", path: "/console/signin", from: from, form: signin, header: c.header})
			if a.status != c.status {
				t.Errorf("%s: status %d, want %d: %s", c.name, a.status, c.status, a.body)
			}
			if got := sessionCookie(a) != nil; got != (c.status == 303) {
				t.Errorf("%s: session cookie set: %v", c.name, got)
			}
		}
		// A signed-in admin's browser, lured to another site, cannot act.
		a := w.do(call{method: "POST", path: "/console/signin", from: from, form: signin})
		session := sessionCookie(a)
		if session == nil {
			t.Fatalf("sign-in: %d, no session", a.status)
		}
		a = w.do(call{method: "POST", path: "/console/signout", from: from, cookie: session, form: url.Values{},
			header: map[string]string{"Sec-Fetch-Site": "cross-site"}})
		if a.status != http.StatusForbidden || !strings.Contains(a.body, "sent from another site") {
			t.Errorf("cross-site sign-out: %d %s", a.status, a.body)
		}
		if a := w.do(call{method: "GET", path: "/console/", from: from, cookie: session}); a.status != http.StatusOK {
			t.Errorf("the session did not survive the cross-site sign-out: %d", a.status)
		}
	})

	t.Run("a session id planted before sign-in is never honoured", func(t *testing.T) {
		from := "198.51.100.8"
		planted := &http.Cookie{Name: console.CookieName, Value: "attacker-chosen-session-id-0123456789abcdef"}
		w.expect([]expectation{{name: "the planted id opens nothing", call: call{method: "GET", path: "/console/", from: from, cookie: planted},
			status: http.StatusSeeOther}})
		a := w.do(call{method: "POST", path: "/console/signin", from: from, cookie: planted, form: url.Values{"token": {tok["admin"]}}})
		issued := sessionCookie(a)
		if a.status != http.StatusSeeOther || issued == nil {
			t.Fatalf("sign-in: %d, cookie %v", a.status, issued)
		}
		if issued.Value == planted.Value || len(issued.Value) < 43 {
			t.Errorf("sign-in kept or issued a weak session id %q", issued.Value)
		}
		if !issued.HttpOnly || issued.SameSite != http.SameSiteLaxMode || issued.Path != console.Prefix {
			t.Errorf("session cookie attributes: %+v", issued)
		}
		w.expect([]expectation{
			{name: "the planted id still opens nothing", call: call{method: "GET", path: "/console/", from: from, cookie: planted}, status: http.StatusSeeOther},
			{name: "the issued one does", call: call{method: "GET", path: "/console/", from: from, cookie: issued}, status: http.StatusOK},
		})
	})

	t.Run("hostile bodies", func(t *testing.T) {
		from := "198.51.100.9"
		deep := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"d","x":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
		w.expect([]expectation{
			{name: "nesting", call: call{method: "POST", path: users, from: from, token: tok["acme"], body: deep}, status: 400,
				has: []string{`"scimType":"invalidSyntax"`, "deeper than 32 levels"}},
			{name: "size", call: call{method: "POST", path: users, from: from, token: tok["acme"], body: `{"x":"` + strings.Repeat("x", 2<<20) + `"}`},
				status: 413, has: []string{`"status":"413"`}},
			{name: "filter injection", call: call{method: "GET", path: users + "?filter=" + url.QueryEscape(`userName eq "x' OR 1=1 --"`), from: from, token: tok["acme"]},
				status: 200, has: []string{`"totalResults":0`}},
		})
	})
}

// TestNoSecretsInLogs runs a whole day of work through the server and
// checks that its log holds none of the people's names and emails, no
// token and no session cookie.
func TestNoSecretsInLogs(t *testing.T) {
	w := newSecWorld(t)
	tok := w.tokens
	from := "198.51.100.20"
	people := []struct{ given, family, email string }{
		{"Zephyrine", "Quackenbush", "zephyrine.quackenbush@example.org"},
		{"Octavian", "Wolstenholme", "o.wolstenholme@example.org"},
	}
	secrets := []string{tok["acme"], tok["beta"], tok["tiny"], tok["admin"]}
	personal := []string{"Nightjar Taskforce"}
	var ids []string
	for _, p := range people {
		a := w.do(call{method: "POST", path: "/apps/acme/scim/v2/Users", from: from, token: tok["acme"], body: fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":%q,"name":{"givenName":%q,"familyName":%q},`+
				`"displayName":"%s %s","emails":[{"value":%q,"type":"work","primary":true}],"active":true}`,
			p.email, p.given, p.family, p.given, p.family, p.email)})
		if a.status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", p.email, a.status, a.body)
		}
		id := a.body[strings.Index(a.body, `"id":"`)+6:]
		ids = append(ids, id[:strings.Index(id, `"`)])
		personal = append(personal, p.given, p.family, p.email)
	}
	steps := []call{
		{method: "GET", path: "/apps/acme/scim/v2/Users?filter=" + url.QueryEscape(`emails[value eq "`+people[0].email+`"]`), token: tok["acme"]},
		{method: "GET", path: "/apps/acme/scim/v2/Users?filter=" + url.QueryEscape(`name.familyName co "Wolsten"`), token: tok["acme"]},
		{method: "POST", path: "/apps/acme/scim/v2/Groups", token: tok["acme"], body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],` +
			`"displayName":"Nightjar Taskforce","members":[{"value":"` + ids[0] + `"},{"value":"` + ids[1] + `"}]}`},
		{method: "PATCH", path: "/apps/acme/scim/v2/Users/" + ids[1], token: tok["acme"], body: `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],` +
			`"Operations":[{"op":"Replace","path":"active","value":"False"}]}`},
		{method: "POST", path: "/apps/acme/scim/v2/Users", token: tok["acme"], body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + people[0].email + `"}`},
		{method: "POST", path: "/apps/acme/scim/v2/Users", token: tok["acme"], body: `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"` + people[0].email + `","active":"maybe"}`},
		{method: "GET", path: "/apps/acme/scim/v2/Users/" + ids[0], token: tok["beta"]},
		{method: "GET", path: "/api/v1/apps/acme/accounts", token: tok["admin"]},
		{method: "GET", path: "/api/v1/tasks?app=acme", token: tok["admin"]},
		{method: "GET", path: "/api/v1/apps", token: tok["acme"]},
	}
	for _, c := range steps {
		c.from = from
		if a := w.do(c); a.status >= 500 {
			t.Fatalf("%s %s: %d %s", c.method, c.path, a.status, a.body)
		}
	}
	a := w.do(call{method: "POST", path: "/console/signin", from: from, form: url.Values{"token": {tok["admin"]}}})
	session := sessionCookie(a)
	if session == nil {
		t.Fatalf("sign-in: %d", a.status)
	}
	secrets = append(secrets, session.Value)
	for _, path := range []string{"/console/", "/console/tasks", "/console/accounts?app=acme",
		"/console/accounts?app=acme&q=" + url.QueryEscape(people[1].family), "/console/audit", "/console/audit.csv"} {
		if a := w.do(call{method: "GET", path: path, from: from, cookie: session}); a.status != http.StatusOK {
			t.Errorf("GET %s: %d", path, a.status)
		}
	}
	w.do(call{method: "POST", path: "/console/signout", from: from, cookie: session, form: url.Values{}})
	w.srv.stop()

	logs := w.srv.logs.String()
	if !strings.Contains(logs, `"msg":"request"`) || !strings.Contains(logs, "authentication failed") {
		t.Fatalf("the log is not the one expected:\n%s", logs)
	}
	for _, s := range personal {
		if strings.Contains(logs, s) {
			t.Errorf("personal data %q is in the log", s)
		}
	}
	for _, s := range secrets {
		if strings.Contains(logs, s) || strings.Contains(logs, s[len(s)/2:]) {
			t.Errorf("a secret (%.8s…) is in the log", s)
		}
	}
}
