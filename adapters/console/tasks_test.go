package console_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

var rowID = regexp.MustCompile(`<tr id="task-(\d+)"`)

// rows lists the task ids of a queue page.
func rows(p page) []string {
	var out []string
	for _, m := range rowID.FindAllStringSubmatch(p.body, -1) {
		out = append(out, m[1])
	}
	return out
}

func TestQueue(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	carol := fmt.Sprint(w.taskOf("carol"))
	cases := []struct {
		name, path string
		want       []string
		next       string // the Next page link, "" when none
	}{
		{"all", "/console/tasks", []string{"1", "2", "3", "4"}, ""},
		{"one app", "/console/tasks?app=wiki", []string{"4"}, ""},
		{"pending", "/console/tasks?status=pending&app=peopleai", []string{"1", "2", "3"}, ""},
		{"awaiting approval", "/console/tasks?status=awaiting_approval", []string{carol}, ""},
		{"done", "/console/tasks?status=done", nil, ""},
		{"a user by id", "/console/tasks?user=" + w.userID["bob"], []string{"2"}, ""},
		{"a user by name in an app", "/console/tasks?app=peopleai&user=BOB@example.com", []string{"2"}, ""},
		{"first page", "/console/tasks?limit=2", []string{"1", "2"}, "/console/tasks?after=2&amp;limit=2"},
		{"second page", "/console/tasks?limit=2&after=2", []string{"3", "4"}, ""},
		{"filtered page", "/console/tasks?status=pending&limit=1&app=peopleai", []string{"1"},
			"/console/tasks?after=1&amp;app=peopleai&amp;limit=1&amp;status=pending"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := b.get(c.path)
			want(t, c.path, p, 200)
			if got := rows(p); !slices.Equal(got, c.want) {
				t.Errorf("rows %v, want %v", got, c.want)
			}
			hasNext := strings.Contains(p.body, `id="next-page"`)
			if hasNext != (c.next != "") || (c.next != "" && !strings.Contains(p.body, `href="`+c.next+`"`)) {
				t.Errorf("next page link: want %q in\n%s", c.next, p.body)
			}
			for _, id := range c.want {
				if !strings.Contains(p.body, `href="/console/tasks/`+id+`"`) {
					t.Errorf("row %s does not link to its task", id)
				}
			}
		})
	}
	for _, path := range []string{"/console/tasks?status=finished", "/console/tasks?app=nope", "/console/tasks?limit=0", "/console/tasks?after=x"} {
		want(t, path, b.get(path), http.StatusBadRequest, `role="alert"`)
	}
	// Claim buttons only where a claim is possible: not on carol's task,
	// which awaits approval.
	p := b.get("/console/tasks")
	if !strings.Contains(p.body, `id="claim-1"`) || strings.Contains(p.body, `id="claim-`+carol+`"`) {
		t.Errorf("claim buttons:\n%s", p.body)
	}
}

func TestTaskPage(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	id := w.taskOf("alice")
	path := fmt.Sprintf("/console/tasks/%d", id)
	p := b.get(path)
	want(t, "task page", p, 200, `<ol class="steps" id="steps">`, "alice@example.com", `class="desired-role">User (Standard)`,
		`id="claim-form"`, `id="done-form"`, `id="fail-form"`, `name="note"`, `<label for="done-note">`, "scimbridge")
	if strings.Count(p.body, "<li>") < 2 {
		t.Errorf("the runbook has fewer than two steps:\n%s", p.body)
	}
	want(t, "no such task", b.get("/console/tasks/999"), http.StatusNotFound, "There is no task 999.")
	want(t, "not a task", b.get("/console/tasks/abc"), http.StatusNotFound)
	want(t, "no such page", b.get("/console/nope"), http.StatusNotFound, "There is no page here.")
}

func TestClaimAndDone(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	id := w.taskOf("dave")
	path := fmt.Sprintf("/console/tasks/%d", id)

	p := b.post(path+"/claim", nil)
	if p.status != http.StatusSeeOther || p.location() != path {
		t.Fatalf("claim: %d to %q: %s", p.status, p.location(), p.body)
	}
	want(t, "claimed", b.get(path), 200, `data-status="claimed"`, `id="done-form"`)
	want(t, "claim again", b.post(path+"/claim", nil), http.StatusConflict,
		fmt.Sprintf("Task %d is claimed now, so it cannot become claimed.", id))

	// No note: refused, on the task page, which keeps the evidence typed.
	p = b.post(path+"/done", url.Values{"note": {"  "}, "evidence": {"https://tickets.example.com/7"}})
	want(t, "done without a note", p, http.StatusBadRequest, "A note is required", `value="https://tickets.example.com/7"`, `id="done-form"`)
	want(t, "still claimed", b.get(path), 200, `data-status="claimed"`)

	p = b.post(path+"/done", url.Values{"note": {"added in the wiki"}, "evidence": {"https://tickets.example.com/7"}})
	if p.status != http.StatusSeeOther || p.location() != path {
		t.Fatalf("done: %d to %q: %s", p.status, p.location(), p.body)
	}
	// The manual profile takes an admin's word: verified at once.
	p = b.get(path)
	want(t, "done", p, 200, `data-status="verified"`, "added in the wiki",
		`<a href="https://tickets.example.com/7" rel="noreferrer noopener">`, "<td>Alice Admin</td><td>open</td><td>claimed</td>")
	if strings.Contains(p.body, `id="done-form"`) {
		t.Error("a verified task still offers the done form")
	}
}

// TestClaimFromQueue: the queue's claim button with htmx swaps the row;
// without, it comes back to the queue. Bulk claims claim what they can.
func TestClaimFromQueue(t *testing.T) {
	w := populated(t)
	b := w.signedIn("olga") // an operator
	p := b.do("POST", "/console/tasks/1/claim", url.Values{"return": {"/console/tasks?status=pending"}},
		map[string]string{"HX-Request": "true"})
	want(t, "htmx claim", p, 200, `<tr id="task-1" data-status="claimed"`)
	if strings.Contains(p.body, "<html") || strings.Contains(p.body, `id="claim-1"`) {
		t.Errorf("htmx claim answered more than the row, or the row can still be claimed:\n%s", p.body)
	}
	p = b.do("POST", "/console/tasks/1/claim", url.Values{}, map[string]string{"HX-Request": "true"})
	want(t, "htmx claim again", p, http.StatusConflict, `<tr id="task-1"`, "cannot become claimed")

	p = b.post("/console/tasks/2/claim", url.Values{"return": {"/console/tasks?status=pending"}})
	if p.status != http.StatusSeeOther || p.location() != "/console/tasks?status=pending" {
		t.Errorf("claim from the queue: %d to %q", p.status, p.location())
	}

	carol := fmt.Sprint(w.taskOf("carol"))
	p = b.post("/console/tasks/claim", url.Values{"id": {"1", "4", carol}, "return": {"/console/tasks?app=peopleai"}})
	if p.status != http.StatusSeeOther {
		t.Fatalf("bulk claim: %d: %s", p.status, p.body)
	}
	loc, _ := url.Parse(p.location())
	if loc.Path != "/console/tasks" || loc.Query().Get("app") != "peopleai" || loc.Query().Get("claimed") != "1" ||
		loc.Query().Get("refused") != "2" {
		t.Errorf("bulk claim came back to %q", p.location())
	}
	want(t, "after the bulk claim", b.get(p.location()), 200, "Claimed 1 task. 2 could not be claimed")
	q := queue.In(w.db.ReadSQL())
	for id, status := range map[int64]string{1: "claimed", 2: "claimed", 4: "claimed", w.taskOf("carol"): "awaiting_approval"} {
		tk, err := q.Task(context.Background(), id)
		if err != nil || string(tk.Status) != status {
			t.Errorf("task %d: %s %v, want %s", id, tk.Status, err, status)
		}
	}
	want(t, "bulk claim of nothing", b.post("/console/tasks/claim", url.Values{}), http.StatusSeeOther)
}

// TestApproval: a request is what an actor's move plans. When alice
// reports carol's Admin task failed, the replanned task awaits approval
// on alice's word; alice cannot approve it, bob can.
func TestApproval(t *testing.T) {
	w := populated(t)
	alice, bob := w.signedIn("Alice Admin"), w.signedIn("bob")
	first := w.taskOf("carol")
	path := fmt.Sprintf("/console/tasks/%d", first)
	want(t, "awaiting approval", bob.get(path), 200, `id="approve-form"`, `id="reject-form"`, `<label for="reject-note">`)
	if p := bob.post(path+"/approve", nil); p.status != http.StatusSeeOther {
		t.Fatalf("bob approves: %d %s", p.status, p.body)
	}
	want(t, "fail without a note", alice.post(path+"/fail", url.Values{"note": {""}}), http.StatusBadRequest, "A note is required")
	if p := alice.post(path+"/fail", url.Values{"note": {"the console was down"}}); p.status != http.StatusSeeOther {
		t.Fatalf("alice fails it: %d %s", p.status, p.body)
	}
	again := w.taskOf("carol")
	if again == first {
		t.Fatal("failing the task planned no new one")
	}
	path = fmt.Sprintf("/console/tasks/%d", again)
	want(t, "own approval", alice.post(path+"/approve", nil), http.StatusForbidden,
		"You requested this; another approver must decide.", `data-status="awaiting_approval"`)
	want(t, "own rejection", alice.post(path+"/reject", url.Values{"note": {"no"}}), http.StatusForbidden,
		"You requested this; another approver must decide.")
	want(t, "reject without a note", bob.post(path+"/reject", url.Values{}), http.StatusBadRequest, "say why")
	if p := bob.post(path+"/approve", nil); p.status != http.StatusSeeOther || p.location() != path {
		t.Fatalf("bob approves: %d %q %s", p.status, p.location(), p.body)
	}
	want(t, "approved", bob.get(path), 200, `data-status="open"`, "<td>bob</td><td>awaiting approval</td><td>open</td>")
}

func TestRoles(t *testing.T) {
	w := populated(t)
	vic, olga := w.signedIn("vic"), w.signedIn("olga")
	id := w.taskOf("alice")
	path := fmt.Sprintf("/console/tasks/%d", id)
	p := vic.get(path)
	want(t, "viewer's task page", p, 200, "(viewer)")
	if strings.Contains(p.body, `id="claim-form"`) || strings.Contains(p.body, `id="done-form"`) {
		t.Error("a viewer is offered actions")
	}
	if p := vic.get("/console/tasks"); strings.Contains(p.body, `id="claim-`) || strings.Contains(p.body, `id="bulk-claim"`) {
		t.Error("a viewer is offered claims on the queue")
	}
	want(t, "viewer claims", vic.post(path+"/claim", nil), http.StatusForbidden, "Your role (viewer) cannot claim tasks.")
	want(t, "viewer bulk-claims", vic.post("/console/tasks/claim", url.Values{"id": {fmt.Sprint(id)}}), http.StatusForbidden)
	want(t, "viewer reports done", vic.post(path+"/done", url.Values{"note": {"x"}}), http.StatusForbidden)

	carol := fmt.Sprintf("/console/tasks/%d", w.taskOf("carol"))
	if p := olga.get(carol); strings.Contains(p.body, `id="approve-form"`) {
		t.Error("an operator is offered approval")
	}
	want(t, "operator approves", olga.post(carol+"/approve", nil), http.StatusForbidden, "Your role (operator) cannot approve requests.")
	want(t, "operator rejects", olga.post(carol+"/reject", url.Values{"note": {"no"}}), http.StatusForbidden)
	if p := olga.post(path+"/claim", nil); p.status != http.StatusSeeOther {
		t.Errorf("operator claims: %d %s", p.status, p.body)
	}
	q := queue.In(w.db.ReadSQL())
	for tid, status := range map[int64]string{id: "claimed", w.taskOf("carol"): "awaiting_approval"} {
		if tk, _ := q.Task(context.Background(), tid); string(tk.Status) != status {
			t.Errorf("task %d is %s, want %s", tid, tk.Status, status)
		}
	}
}

// TestCrossOrigin: a form posted from another site moves nothing.
func TestCrossOrigin(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	evil := map[string]string{"Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}
	for _, path := range []string{"/console/tasks/1/claim", "/console/tasks/claim", "/console/signout", "/console/signin"} {
		p := b.do("POST", path, url.Values{"id": {"1"}, "token": {w.tokens["bob"]}}, evil)
		want(t, "cross-origin "+path, p, http.StatusForbidden, "sent from another site")
	}
	if tk, _ := queue.In(w.db.ReadSQL()).Task(context.Background(), 1); tk.Status != "open" {
		t.Errorf("task 1 is %s after cross-site posts", tk.Status)
	}
	want(t, "still signed in", b.get("/console/"), 200)
	same := map[string]string{"Origin": w.srv.URL, "Sec-Fetch-Site": "same-origin"}
	if p := b.do("POST", "/console/tasks/1/claim", url.Values{}, same); p.status != http.StatusSeeOther {
		t.Errorf("same-origin claim: %d %s", p.status, p.body)
	}
}

func TestOverview(t *testing.T) {
	w := populated(t)
	w.createUser("sixsense", "ann", "sellers.example.com")
	w.createUser("sixsense", "ben", "sellers.example.com")
	w.dispatch()
	ctx := context.Background()
	for _, u := range []string{"ann", "ben"} {
		err := w.eng.RecordLogin(ctx, engine.Login{App: "sixsense", UserID: w.userID[u], At: time.Now().Add(-time.Hour),
			Source: engine.LoginAdmin, Actor: "Alice Admin"})
		if err != nil {
			t.Fatal(err)
		}
	}
	b := w.signedIn("Alice Admin")
	p := b.get("/console/")
	want(t, "overview", p, 200,
		`id="overview-peopleai" data-pending="3" data-overdue="0" data-awaiting="1"`,
		`id="overview-wiki" data-pending="1" data-overdue="0" data-awaiting="0"`,
		`href="/console/tasks?app=peopleai&amp;status=pending"`)
	section := func(app string) string {
		i := strings.Index(p.body, `id="overview-`+app+`"`)
		j := strings.Index(p.body[i:], "</section>")
		return p.body[i : i+j]
	}
	for app, parts := range map[string][]string{
		"peopleai": {`<tr data-state="pending"><th scope="row">pending</th><td class="num">3</td>`,
			`<tr data-state="active"><th scope="row">active</th><td class="num">0</td>`},
		"wiki": {`<tr data-state="pending"><th scope="row">pending</th><td class="num">1</td>`},
		// ABM is not enforced: both first logins took a seat of one.
		"sixsense": {`id="seats-ABM" data-used="2" data-pending="0" data-limit="1" class="over"`, "Over-provisioned",
			`id="seats-SI" data-used="0" data-pending="0" data-limit="1"`,
			`<strong class="blocked">0</strong>`},
	} {
		s := section(app)
		for _, part := range parts {
			if !strings.Contains(s, part) {
				t.Errorf("%s: lacks %q:\n%s", app, part, s)
			}
		}
	}
	if strings.Contains(section("peopleai"), "Over-provisioned") {
		t.Error("peopleai is marked over-provisioned")
	}
	// The numbers are the queue's.
	counts, err := queue.In(w.db.ReadSQL()).CountTasks(ctx, "peopleai", time.Now())
	if err != nil || counts.ByStatus["open"] != 2 || counts.ByStatus["awaiting_approval"] != 1 {
		t.Errorf("peopleai counts %v %v", counts, err)
	}
}

func TestAccountsPage(t *testing.T) {
	w := populated(t)
	b := w.signedIn("vic")
	want(t, "choose an app", b.get("/console/accounts"), 200, `href="/console/accounts?app=peopleai"`)
	p := b.get("/console/accounts?app=peopleai")
	want(t, "accounts", p, 200, `id="account-`+w.userID["carol"]+`" data-state="pending"`, "carol@admins.example.com",
		"<td>Admin</td>", `<th scope="colgroup" colspan="2">Desired (from the IdP)</th>`)
	if p := b.get("/console/accounts?app=peopleai&state=active"); strings.Contains(p.body, `id="account-`) {
		t.Error("the active filter lists pending accounts")
	}
	want(t, "no such app", b.get("/console/accounts?app=nope"), http.StatusNotFound)
	want(t, "no such state", b.get("/console/accounts?app=wiki&state=happy"), http.StatusBadRequest)
}

// TestInternalErrorHidden closes the database under the console: the
// page says only that something went wrong; the log has the cause.
func TestInternalErrorHidden(t *testing.T) {
	w := populated(t)
	b := w.signedIn("Alice Admin")
	w.db.Close()
	p := b.get("/console/tasks")
	want(t, "closed database", p, http.StatusInternalServerError, "Something went wrong; the error is in scimbridge&#39;s log.")
	for _, internal := range []string{"sql", "closed", "database"} {
		if strings.Contains(strings.ToLower(p.body), internal) {
			t.Errorf("the page leaks %q", internal)
		}
	}
	if !strings.Contains(w.logs.String(), "closed") {
		t.Errorf("the log lacks the cause:\n%s", w.logs.String())
	}
}
