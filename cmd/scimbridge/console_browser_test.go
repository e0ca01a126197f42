package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestConsoleInBrowser drives the admin console of the real server in
// headless Chromium: sign in with an admin token, read the overview,
// filter the queue, claim a task in place (htmx), finish it with a note,
// approve a task as a second admin, and see the overview change. Each
// page is saved as a screenshot.
func TestConsoleInBrowser(t *testing.T) {
	ctx := newBrowser(t)
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann.admin"}
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
apps:
  - name: peopleai
    profile: peopleai
    role_rules:
      domains:
        - {domain: admins.example.com, role: Admin}
`, addr))
	token := func(args ...string) string {
		t.Helper()
		code, out, stderr := runCLI(t, environ, append([]string{"token", "create", "-config", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("token create: %s", stderr)
		}
		return strings.TrimSpace(out)
	}
	scimToken, alice, bob := token("-app", "peopleai"), token("-admin", "-name", "alice"), token("-admin", "-name", "bob")
	srv := serveInProcess(t, cfg, addr, environ)
	for _, name := range []string{"jane@example.com", "boss@admins.example.com"} {
		req, _ := http.NewRequest("POST", srv.base+"/apps/peopleai/scim/v2/Users", strings.NewReader(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","active":true}`))
		req.Header.Set("Authorization", "Bearer "+scimToken)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
	}
	ids := map[string]int64{}
	waitUntil(t, srv, "two tasks", func() bool {
		_, out, _ := runCLI(t, environ, "tasks", "list", "-config", cfg, "-json")
		var list []struct {
			ID       int64  `json:"id"`
			UserName string `json:"userName"`
		}
		json.Unmarshal([]byte(out), &list)
		for _, tk := range list {
			ids[tk.UserName] = tk.ID
		}
		return len(list) == 2
	})
	jane, boss := ids["jane@example.com"], ids["boss@admins.example.com"]

	attr := func(sel, name string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).getAttribute(%q)`, sel, name)))
		if err != nil {
			t.Fatalf("%s[%s]: %v", sel, name, err)
		}
		return v
	}
	signIn := func(tok string) {
		t.Helper()
		err := chromedp.Do(ctx,
			chromedp.Navigate(srv.base+"/console/"),
			chromedp.WaitVisible(chromedp.ID("token")),
			chromedp.SendKeys(chromedp.ID("token"), tok),
			chromedp.Click(chromedp.ID("signin")),
			chromedp.WaitVisible(chromedp.ID("overview-peopleai")),
		)
		if err != nil {
			t.Fatalf("sign in: %v\n%s", err, srv.logs.String())
		}
	}

	signIn(alice)
	if p := attr("#overview-peopleai", "data-pending"); p != "2" {
		t.Errorf("overview: %s pending, want 2", p)
	}
	if who, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("whoami"))); !strings.Contains(who, "alice") {
		t.Errorf("signed in as %q", who)
	}
	screenshot(t, ctx, "overview")

	// The queue, filtered to open tasks: jane's create; boss's awaits approval.
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.base+"/console/tasks"),
		chromedp.WaitVisible(chromedp.ID("f-status")),
		chromedp.SetValue(chromedp.ID("f-status"), "open"),
		chromedp.Submit(chromedp.ID("f-status")),
		chromedp.WaitVisible(chromedp.ID(fmt.Sprintf("claim-%d", jane))),
	)
	if err != nil {
		t.Fatalf("filter: %v", err)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("tr[id^=task-]").length`)); n != 1 {
		t.Errorf("%d open tasks listed, want jane's only", n)
	}
	screenshot(t, ctx, "queue")
	// Claim in place: htmx swaps the row, the page does not reload.
	err = chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`window.stayed = true`),
		chromedp.Click(chromedp.ID(fmt.Sprintf("claim-%d", jane))),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`document.querySelector("#task-%d").dataset.status === "claimed"`, jane),
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	if stayed, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.stayed === true`)); !stayed {
		t.Error("claiming reloaded the page instead of swapping the row")
	}
	// On the task's page, the runbook's first step goes to the clipboard
	// in one click (the script shows the copy buttons).
	err = chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/console/tasks/%d", srv.base, jane)),
		chromedp.WaitVisible(chromedp.CSS(`button[data-copy-from="step-0"]`)),
		chromedp.Click(chromedp.CSS(`button[data-copy-from="step-0"]`)),
		chromedp.Poll[chromedp.Void](`document.querySelector('button[data-copy-from="step-0"]').textContent === "Copied"`,
			chromedp.WithPollingTimeout(10*time.Second)),
	)
	if err != nil {
		t.Fatalf("copy a runbook step: %v", err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.ID("copy-status"))); got != "Copied step 1" {
		t.Errorf("the copy was announced as %q", got)
	}
	// Done with a note and a screenshot as evidence.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100 is a PNG
	if err != nil {
		t.Fatal(err)
	}
	evidence := filepath.Join(dir, "people-ai-settings.png")
	if err := os.WriteFile(evidence, shot, 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.ID("done-note")),
		chromedp.SendKeys(chromedp.ID("done-note"), "added in People.ai settings"),
		chromedp.SetUploadFiles(chromedp.ID("done-file"), []string{evidence}),
		chromedp.Click(chromedp.ID(fmt.Sprintf("done-%d", jane))),
		// The form posts and the task's page comes back (PRG).
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#task-%d[data-status="done"]`, jane))),
	)
	if err != nil {
		t.Fatalf("done: %v", err)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("#evidence-files a"))); got != "people-ai-settings.png" {
		t.Errorf("evidence files list %q", got)
	}
	screenshot(t, ctx, "task")

	// bob approves boss's Admin account.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("form.signout button")), chromedp.WaitVisible(chromedp.ID("token"))); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	signIn(bob)
	err = chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/console/tasks/%d", srv.base, boss)),
		chromedp.Click(chromedp.ID(fmt.Sprintf("approve-%d", boss))),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#task-%d[data-status="open"]`, boss))),
		chromedp.Navigate(srv.base+"/console/"),
		chromedp.WaitVisible(chromedp.ID("overview-peopleai")),
	)
	if err != nil {
		t.Fatalf("approve: %v", err)
	}
	if p, a := attr("#overview-peopleai", "data-pending"), attr("#overview-peopleai", "data-awaiting"); p != "1" || a != "0" {
		t.Errorf("overview after the work: %s pending, %s awaiting approval; want 1 and 0", p, a)
	}
	screenshot(t, ctx, "overview-after")
	// jane's account: what the IdP wants against what People.ai has, and
	// her timeline.
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.base+"/console/accounts?app=peopleai"),
		chromedp.Click(chromedp.CSS(`#accounts a[href^="/console/users/peopleai/"]`)),
		chromedp.WaitVisible(chromedp.ID("timeline")),
	)
	if err != nil {
		t.Fatalf("account page: %v", err)
	}
	screenshot(t, ctx, "account")

	// People.ai's export shows jane: upload it, read the diff, apply it;
	// her done task is verified.
	export := filepath.Join(dir, "peopleai-users.csv")
	if err := os.WriteFile(export, []byte("email,status,role\njane@example.com,active,User (Standard)\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.base+"/console/import?app=peopleai"),
		chromedp.WaitVisible(chromedp.ID("i-file")),
		chromedp.SetUploadFiles(chromedp.ID("i-file"), []string{export}),
		chromedp.Click(chromedp.ID("preview")),
		chromedp.WaitVisible(chromedp.CSS(`#report[data-applied="false"]`)),
	)
	if err != nil {
		t.Fatalf("upload: %v\n%s", err, srv.logs.String())
	}
	if n := attr("#summary-verify", "data-count"); n != "1" {
		t.Errorf("the diff verifies %s tasks, want jane's", n)
	}
	screenshot(t, ctx, "reconcile")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.ID("apply")),
		chromedp.WaitVisible(chromedp.CSS(`#report[data-applied="true"]`)),
		chromedp.Navigate(fmt.Sprintf("%s/console/tasks/%d", srv.base, jane)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#task-%d[data-status="verified"]`, jane))),
	)
	if err != nil {
		t.Fatalf("apply: %v\n%s", err, srv.logs.String())
	}
	// The audit log names who did what.
	_, out, _ := runCLI(t, environ, "audit", "-config", cfg, "-app", "peopleai")
	if !strings.Contains(out, "alice") || !strings.Contains(out, "bob") {
		t.Errorf("audit:\n%s", out)
	}
}
