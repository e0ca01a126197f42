package console_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

// section returns the account section of app on an account page.
func section(t *testing.T, p page, app string) string {
	t.Helper()
	start := strings.Index(p.body, `id="account-`+app+`"`)
	if start < 0 {
		t.Fatalf("no account section of %s:\n%s", app, p.body)
	}
	rest := p.body[start:]
	if end := strings.Index(rest, "</section>"); end >= 0 {
		rest = rest[:end]
	}
	return rest
}

var timelineItem = regexp.MustCompile(`(?s)<li data-kind="(audit|event|login)">(.*?)</li>`)

// timeline returns the lines of an account page's timeline as
// "kind: text", newest first, with the markup and spacing taken out.
func timeline(p page) []string {
	var out []string
	tags := regexp.MustCompile(`<[^>]*>`)
	for _, m := range timelineItem.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1]+": "+strings.Join(strings.Fields(tags.ReplaceAllString(m[2], " ")), " "))
	}
	return out
}

// hasLine reports whether a line of lines contains every part.
func hasLine(lines []string, parts ...string) bool {
	for _, l := range lines {
		all := true
		for _, part := range parts {
			all = all && strings.Contains(l, part)
		}
		if all {
			return true
		}
	}
	return false
}

func TestAccountPage(t *testing.T) {
	w := populated(t)
	alice := w.userID["alice"]
	// alice also has a wiki account, which her peopleai page shows.
	w.createUser("wiki", "alice", "example.com")
	w.dispatch()
	b := w.signedIn("vic") // any role reads it
	path := "/console/users/peopleai/" + alice

	p := b.get(path)
	want(t, "account page", p, 200, "alice@example.com in peopleai", `id="timeline"`)
	pai := section(t, p, "peopleai")
	for _, part := range []string{`data-state="pending"`, `class="desired-exists">yes`, `class="desired-active">active`,
		`class="desired-role">User (Standard)`, `class="observed-exists">no`, `class="observed-source">nothing yet`} {
		if !strings.Contains(pai, part) {
			t.Errorf("before the task is done, the peopleai account lacks %q:\n%s", part, pai)
		}
	}
	// The wiki account is hers too, matched by name, and links to its page.
	wiki := section(t, p, "wiki")
	if !strings.Contains(wiki, `data-state="pending"`) || !strings.Contains(wiki, `href="/console/users/wiki/`+w.userID["alice"]+`"`) {
		t.Errorf("wiki account:\n%s", wiki)
	}
	if strings.Contains(p.body, `id="account-sixsense"`) {
		t.Error("an account of sixsense, where alice has none")
	}
	id := peopleaiTask(t, w, alice)
	lines := timeline(p)
	if !hasLine(lines, "audit:", fmt.Sprintf("task %d create: open", id)) || !hasLine(lines, "event:", "user.created") {
		t.Errorf("timeline before the task is done: %q", lines)
	}

	if _, err := w.eng.Done(context.Background(), id, "Alice Admin", "added in People.ai", ""); err != nil {
		t.Fatal(err)
	}
	p = b.get(path)
	want(t, "after done", p, 200)
	pai = section(t, p, "peopleai")
	for _, part := range []string{`class="observed-exists">yes`, `class="observed-active">active`, `class="observed-role">User (Standard)`} {
		if !strings.Contains(pai, part) {
			t.Errorf("after the task is done, the peopleai account lacks %q:\n%s", part, pai)
		}
	}
	if strings.Contains(pai, "nothing yet") || strings.Contains(pai, `data-state="pending"`) {
		t.Errorf("the account is still unobserved or pending:\n%s", pai)
	}
	lines = timeline(p)
	if move := fmt.Sprintf("task %d create: open → done", id); !hasLine(lines, "audit:", move, "by Alice Admin", "added in People.ai") {
		t.Errorf("the timeline lacks %q by Alice Admin: %q", move, lines)
	}
	if !strings.Contains(p.body, fmt.Sprintf(`href="/console/tasks/%d"`, id)) {
		t.Errorf("the timeline does not link to task %d", id)
	}
	newestFirst(t, p)
}

// peopleaiTask returns the id of the peopleai task of the user with id.
func peopleaiTask(t *testing.T, w *world, id string) int64 {
	t.Helper()
	list, err := queue.In(w.db.ReadSQL()).Tasks(context.Background(), queue.Filter{App: "peopleai", UserID: id})
	if err != nil || len(list) != 1 {
		t.Fatalf("peopleai tasks of %s: %v %v", id, list, err)
	}
	return list[0].ID
}

var datetime = regexp.MustCompile(`<li data-kind="[a-z]+">\s*<time datetime="([^"]+)"`)

// newestFirst fails the test unless the timeline runs newest first.
func newestFirst(t *testing.T, p page) {
	t.Helper()
	m := datetime.FindAllStringSubmatch(p.body, -1)
	for i := 1; i < len(m); i++ {
		if m[i][1] > m[i-1][1] {
			t.Errorf("the timeline is not newest first: %s after %s", m[i][1], m[i-1][1])
		}
	}
}

func TestAccountDeactivatedThroughSCIM(t *testing.T) {
	w := populated(t)
	w.patchActive("peopleai", "bob", false)
	w.dispatch()
	b := w.signedIn("olga")
	p := b.get("/console/users/peopleai/" + w.userID["bob"])
	want(t, "deactivated", p, 200)
	if lines := timeline(p); !hasLine(lines, "event:", "user.deactivated", "by the IdP") {
		t.Errorf("the timeline lacks user.deactivated: %q", lines)
	}
	if pai := section(t, p, "peopleai"); !strings.Contains(pai, `class="desired-active">inactive`) {
		t.Errorf("the IdP's deactivation is not desired:\n%s", pai)
	}
	newestFirst(t, p)
}

// patchActive sets user name's active flag in app through SCIM, as Okta
// does when it unassigns someone.
func (w *world) patchActive(app, name string, active bool) {
	w.t.Helper()
	body := fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"replace","value":{"active":%t}}]}`, active)
	req, err := http.NewRequest("PATCH", w.srv.URL+"/apps/"+app+"/scim/v2/Users/"+w.userID[name], strings.NewReader(body))
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
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(res.Body)
		w.t.Fatalf("patch %s: status %d: %s", name, res.StatusCode, b)
	}
}

func TestAccountNotFound(t *testing.T) {
	w := populated(t)
	b := w.signedIn("vic")
	for path, msg := range map[string]string{
		"/console/users/nope/" + w.userID["alice"]: `There is no app &#34;nope&#34;.`,
		"/console/users/wiki/" + w.userID["alice"]: "There is no account",
		"/console/users/peopleai/no-such-id":       "There is no account",
	} {
		want(t, path, b.get(path), http.StatusNotFound, msg, `role="alert"`)
	}
	// Signed out: the sign-in page, and back here afterwards.
	path := "/console/users/peopleai/" + w.userID["alice"]
	p := w.browser().get(path)
	if p.status != http.StatusSeeOther || p.location() != "/console/signin?return="+url.QueryEscape(path) {
		t.Errorf("signed out: %d to %q", p.status, p.location())
	}
}

func TestAccountByName(t *testing.T) {
	w := populated(t)
	b := w.signedIn("vic")
	p := b.get("/console/users/peopleai?name=" + url.QueryEscape("BOB@Example.com"))
	if p.status != http.StatusSeeOther || p.location() != "/console/users/peopleai/"+w.userID["bob"] {
		t.Fatalf("by name: %d to %q: %s", p.status, p.location(), p.body)
	}
	want(t, "followed", b.get(p.location()), 200, "bob@example.com in peopleai")
	want(t, "not an account", b.get("/console/users/peopleai?name=dave@example.com"), http.StatusNotFound,
		"There is no account")
	want(t, "no app", b.get("/console/users/nope?name=bob@example.com"), http.StatusNotFound, "There is no app")
	want(t, "no name", b.get("/console/users/peopleai"), http.StatusBadRequest, "Give a user name")
}
