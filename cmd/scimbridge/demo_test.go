package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/simapp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

// TestDemo runs "scimbridge demo" in-process without pauses and checks
// what the script left behind: in scimbridge, through the admin API and
// the console, and in the stand-in apps.
func TestDemo(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "demo")
	addr := freeAddr(t)
	var stdout, stderr lockedBuffer
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	exited := make(chan int, 1)
	go func() {
		e := &env{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }}
		exited <- run(ctx, e, []string{"demo", "-listen", addr, "-dir", dir, "-pace", "0"})
	}()
	deadline := time.After(60 * time.Second)
	for !strings.Contains(stdout.String(), "The script is done.") {
		select {
		case code := <-exited:
			t.Fatalf("the demo ended with %d before its script did\n%s\n%s", code, stdout.String(), stderr.String())
		case <-deadline:
			t.Fatalf("the script did not finish in 60 s\n%s", stdout.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	out := stdout.String()
	find := func(pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no %s in the output:\n%s", pattern, out)
		}
		return m[1]
	}
	token := find(`Admin token  (sbt_\S+)`)
	jitURL := find(`6sense +(http://127\.0\.0\.1:\d+)/`)
	grcURL := find(`6clicks +(http://127\.0\.0\.1:\d+)/`)
	base := "http://" + addr
	if got := find(`Console +(\S+)`); got != base+"/console/" {
		t.Errorf("console URL %s, want %s/console/", got, base)
	}
	for _, want := range []string{"[10/10]", "Things to try", "Claim People.ai task", "keep running", dir} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q", want)
		}
	}
	// The story is told; the server's log lines went to the log file.
	if strings.Contains(out, "level=") {
		t.Errorf("log lines in the output:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "scimbridge.log")); err != nil || !strings.Contains(string(b), "scimbridge is serving") {
		t.Errorf("the log file: %v %.300s", err, b)
	}

	getJSON := func(url string, auth bool, v any) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if auth {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
		}
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatalf("GET %s: %v: %s", url, err, b)
		}
	}
	type taskJSON struct {
		ID       int64             `json:"id"`
		Kind     string            `json:"kind"`
		Status   string            `json:"status"`
		UserName string            `json:"userName"`
		Role     string            `json:"role"`
		Executor string            `json:"executor"`
		Params   map[string]string `json:"params"`
	}
	tasks := func(app string) map[string][]taskJSON {
		var page struct{ Tasks []taskJSON }
		getJSON(base+"/api/v1/tasks?limit=1000&app="+app, true, &page)
		m := map[string][]taskJSON{}
		for _, tk := range page.Tasks {
			k := strings.TrimSuffix(tk.UserName, "@example.com") + " " + tk.Kind + " " + tk.Status
			m[k] = append(m[k], tk)
		}
		return m
	}

	// People.ai and SixMap: tasks for admins.
	people := tasks("peopleai")
	for _, k := range []string{"maya.chen create open", "priya.natarajan create open", "sara.kim create awaiting_approval",
		"luis.ortega create cancelled"} {
		if len(people[k]) != 1 {
			t.Errorf("People.ai: %d tasks %q, want one; all: %v", len(people[k]), k, people)
		}
	}
	sixmap := tasks("sixmap")
	restores := sixmap["erik.lund restore open"]
	if len(restores) != 2 || restores[0].Role != "Organization manager" || restores[1].Params["setting"] == "" {
		t.Errorf("SixMap: Erik's restore tasks: %+v", restores)
	}
	if ch := sixmap["chloe.dubois change_email open"]; len(ch) != 1 || ch[0].Params["previous_email"] != "chloe.martin@example.com" {
		t.Errorf("SixMap: Chloe's email change: %+v", ch)
	}
	if len(sixmap["ben.okafor set_role open"]) != 1 || len(sixmap["luis.ortega deactivate verified"])+len(sixmap["luis.ortega deactivate done"]) != 1 {
		t.Errorf("SixMap: the mover's and the leaver's tasks: %v", sixmap)
	}

	// 6sense: every user created by a simulated login, once.
	var jitUsers []simapp.JITUser
	getJSON(jitURL+"/users.json", false, &jitUsers)
	var names []string
	for _, u := range jitUsers {
		names = append(names, strings.TrimSuffix(u.NameID, "@example.com"))
		if u.Role != "Insights User" || u.Logins != 1 {
			t.Errorf("6sense stand-in: %+v", u)
		}
	}
	if got := strings.Join(names, " "); got != "jonas.weber luis.ortega maya.chen priya.natarajan sara.kim tom.becker" {
		t.Errorf("6sense stand-in users: %s", got)
	}
	sixsense := tasks("sixsense")
	if len(sixsense["maya.chen create verified"]) != 1 || sixsense["maya.chen create verified"][0].Executor != "saml" ||
		len(sixsense["maya.chen set_role open"]) != 1 || len(sixsense["maya.chen free_seat cancelled"])+len(sixsense["maya.chen free_seat superseded"]) != 1 {
		t.Errorf("6sense: Maya's tasks: %v", sixsense)
	}

	// 6clicks: created through the API; each leaver's items handed over
	// exactly once. (Whether a Security member was first created as
	// Respondent, before the IdP pushed the groups, depends on timing.)
	var grc simapp.GRCState
	getJSON(grcURL+"/state.json", false, &grc)
	if grc.Calls["create"] != 7 || grc.Calls["reassign"] != 2 || grc.Calls["deactivate"] != 2 || grc.Calls["activate"] != 1 || grc.Calls["set type"] < 1 {
		t.Errorf("6clicks stand-in calls: %v", grc.Calls)
	}
	if want := []simapp.Reassignment{{From: "luis.ortega@example.com", To: "dana.ruiz@example.com", Items: 3},
		{From: "erik.lund@example.com", To: "dana.ruiz@example.com", Items: 3}}; fmt.Sprint(grc.Reassignments) != fmt.Sprint(want) {
		t.Errorf("reassignments: %v, want %v", grc.Reassignments, want)
	}
	byEmail := map[string]simapp.GRCUser{}
	for _, u := range grc.Users {
		byEmail[strings.TrimSuffix(u.Email, "@example.com")] = u
	}
	if u := byEmail["luis.ortega"]; u.Active || len(u.Items) != 0 {
		t.Errorf("the leaver in 6clicks: %+v", u)
	}
	if u := byEmail["dana.ruiz"]; len(u.Items) != 9 || u.Type != "User" {
		t.Errorf("the receiver in 6clicks: %+v", u)
	}
	if u := byEmail["erik.lund"]; !u.Active || u.Type != "User" || len(u.Items) != 0 {
		t.Errorf("the returner in 6clicks: %+v", u)
	}
	if u := byEmail["ben.okafor"]; u.Type != "User" {
		t.Errorf("the mover in 6clicks: %+v", u)
	}

	// The console takes the printed token.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.PostForm(base+"/console/signin", url.Values{"token": {token}, "return": {"/console/"}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) == 0 {
		t.Fatalf("console sign-in: %d %v", res.StatusCode, res.Header)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/console/", nil)
	req.AddCookie(res.Cookies()[0])
	res, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || !strings.Contains(string(page), "peopleai") {
		t.Errorf("the overview after sign-in: %d %.300s", res.StatusCode, page)
	}

	// Through scimbridge's SSO proxy and the company IdP: Priya gets in,
	// Luis, who left, does not.
	idpURL := find(`company IdP +(http://127\.0\.0\.1:\d+)/`)
	signIn := func(who string) *samltest.Page {
		t.Helper()
		b := samltest.NewBrowser(t)
		p, err := b.Get(jitURL + "/app")
		for i := 0; err == nil && i < 8 && p.Status == http.StatusOK; i++ {
			if _, ok := p.Form(); !ok {
				break
			}
			var pick url.Values
			if strings.HasPrefix(p.URL.String(), idpURL+"/sso") {
				pick = url.Values{"email": {who + "@example.com"}}
			}
			p, err = b.Submit(p, pick)
		}
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := signIn("priya.natarajan"); p.Status != http.StatusOK || !strings.Contains(p.Body, "Signed in to 6sense as priya.natarajan@example.com") {
		t.Errorf("Priya's sign-in: %d %.500s", p.Status, p.Body)
	}
	if p := signIn("luis.ortega"); p.Status != http.StatusForbidden {
		t.Errorf("Luis's sign-in after he left: %d %.500s", p.Status, p.Body)
	}

	// Ctrl-C stops everything.
	cancel()
	select {
	case code := <-exited:
		if code != 0 || !strings.Contains(stdout.String(), "Stopped.") {
			t.Errorf("exit %d after cancel\n%s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not stop")
	}
	for _, u := range []string{base + "/healthz", jitURL + "/", grcURL + "/", idpURL + "/metadata"} {
		if res, err := http.Get(u); err == nil {
			res.Body.Close()
			t.Errorf("%s still answers after the demo stopped", u)
		}
	}
}

func TestDemoFlags(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	notDemo := t.TempDir()
	if err := os.WriteFile(filepath.Join(notDemo, "thesis.tex"), []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-pace", "-1s"}, 2, "-pace -1s is negative"},
		{[]string{"-listen", "8080"}, 2, `-listen "8080" is not a host:port`},
		{[]string{"-dir", notDemo}, 2, "is not empty and holds no earlier demo"},
		{[]string{"-dir", filepath.Join(notDemo, "thesis.tex")}, 1, "not a directory"},
		{[]string{"-dir", filepath.Join(t.TempDir(), "new"), "-listen", busy.Addr().String()}, 1, "choose another address with -listen"},
		{[]string{"extra"}, 2, `unexpected argument "extra"`},
	} {
		code, _, stderr := runCLI(t, nil, append([]string{"demo"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("demo %v: exit %d %q, want %d and %q", c.args, code, stderr, c.code, c.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(notDemo, "thesis.tex")); err != nil || string(b) != "mine" {
		t.Errorf("the demo touched a directory that is not its own: %v %q", err, b)
	}
	// The default address, taken, gives way to a free port, and says so.
	var said strings.Builder
	got, err := demoAddr(&said, busy.Addr().String(), false)
	if err != nil || got == busy.Addr().String() || !strings.Contains(said.String(), "is taken, so scimbridge listens on "+got) {
		t.Errorf("demoAddr of a taken default: %q %v %q", got, err, said.String())
	}
	code, stdout, _ := runCLI(t, nil, "demo", "-help")
	for _, want := range []string{"Usage: scimbridge demo", "-listen", "-dir", "-pace", "-keep-running", "Ctrl-C"} {
		if code != 0 || !strings.Contains(stdout, want) {
			t.Errorf("demo -help: exit %d, lacks %q:\n%s", code, want, stdout)
		}
	}
}

// TestDemoDirAfresh: an earlier demo's directory is started afresh,
// removing only what a demo writes.
func TestDemoDirAfresh(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{demoMarker: "", "scimbridge.yaml": "old", "scimbridge.db": "old", "notes.txt": "mine"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "saml"), 0o700); err != nil {
		t.Fatal(err)
	}
	got, err := demoDir(dir)
	if err != nil || got != dir {
		t.Fatalf("demoDir: %q %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, " ") != ".scimbridge-demo notes.txt" {
		t.Errorf("left: %v", names)
	}
	fresh, err := demoDir("")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(fresh)
	if _, err := os.Stat(filepath.Join(fresh, demoMarker)); err != nil || !strings.HasPrefix(fresh, os.TempDir()) {
		t.Errorf("a new demo directory %s: %v", fresh, err)
	}
}
