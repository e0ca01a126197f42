package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

// TestSixsenseEndToEnd runs a 6sense-like app behind scimbridge: a real
// SAML service provider that creates users with Insights User at their
// first login. Entra pushes five users into groups mapped to SI and ABM
// roles; SI has 3 seats (enforced), ABM 1 (not enforced).
func TestSixsenseEndToEnd(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann.admin"}
	if code, _, stderr := runCLI(t, environ, "saml", "keygen", "-out", filepath.Join(dir, "saml")); code != 0 {
		t.Fatalf("saml keygen: %s", stderr)
	}
	upstream := samltest.NewIdP(t)
	app := samltest.NewJITApp(t, nil, samltest.JITAppOptions{Name: "sixsense", DefaultRole: "Insights User"})
	write := func(name string, data []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("upstream.xml", upstream.Metadata())
	write("sixsense-sp.xml", app.Metadata())
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
saml:
  sp_key_file: saml/sp.key
  sp_cert_file: saml/sp.crt
  idp_key_file: saml/idp.key
  idp_cert_file: saml/idp.crt
  upstream_metadata_file: upstream.xml
apps:
  - name: sixsense
    profile: sixsense
    simulate_login: true
    seats:
      - {module: SI, limit: 3}
      - {module: ABM, limit: 1}
    role_rules:
      groups:
        - {group: SI Sellers, role: Sales AE / SDR}
        - {group: Marketing, role: Marketing Administrator}
    saml:
      sp_metadata_file: sixsense-sp.xml
`, addr))
	_, stdout, stderr := runCLI(t, environ, "token", "create", "-config", cfg, "-app", "sixsense")
	token := strings.TrimSpace(stdout)
	if token == "" {
		t.Fatalf("token create: %s", stderr)
	}
	srv := serveInProcess(t, cfg, addr, environ)
	base := srv.base

	// The app trusts scimbridge as its IdP; the company IdP knows
	// scimbridge as a service provider.
	if err := app.SetIdPMetadata(get(t, base+"/apps/sixsense/saml/metadata")); err != nil {
		t.Fatal(err)
	}
	if err := upstream.RegisterSP(get(t, base+"/saml/metadata")); err != nil {
		t.Fatal(err)
	}

	scimDo := func(method, path, body string, want int) map[string]any {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/apps/sixsense/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, res.StatusCode, want, b)
		}
		var m map[string]any
		json.Unmarshal(b, &m)
		return m
	}
	ids := map[string]string{}
	names := []string{"ann", "bob", "cat", "dan", "eve"}
	for _, n := range names {
		ids[n] = scimDo("POST", "/Users", fmt.Sprintf(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
			"externalId":"%s-oid","userName":"%s@example.com","active":true,"displayName":"%s Doe",
			"emails":[{"primary":true,"type":"work","value":"%s@example.com"}],"name":{"givenName":"%s","familyName":"Doe"}}`,
			n, n, n, n, n), http.StatusCreated)["id"].(string)
	}
	group := func(name string, members ...string) {
		id := scimDo("POST", "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"`+name+`","members":[]}`,
			http.StatusCreated)["id"].(string)
		var ops []string
		for _, m := range members {
			ops = append(ops, `{"op":"Add","path":"members","value":[{"value":"`+ids[m]+`"}]}`)
		}
		scimDo("PATCH", "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+strings.Join(ops, ",")+`]}`,
			http.StatusNoContent)
	}
	group("SI Sellers", "ann", "bob", "cat", "dan")
	group("Marketing", "eve")

	// Each user's simulated first login makes the app create them.
	waitUntil(t, srv, "5 users in the app", func() bool { return len(app.Users()) == 5 })
	for _, u := range app.Users() {
		if u.Role != "Insights User" {
			t.Errorf("the app gave %s the role %s", u.NameID, u.Role)
		}
	}
	type taskJSON struct {
		ID       int64  `json:"id"`
		Kind     string `json:"kind"`
		Status   string `json:"status"`
		UserName string `json:"userName"`
		Role     string `json:"role"`
	}
	pending := func() map[string]taskJSON {
		_, out, _ := runCLI(t, environ, "tasks", "list", "-config", cfg, "-status", "pending", "-json")
		var list []taskJSON
		json.Unmarshal([]byte(out), &list)
		m := map[string]taskJSON{}
		for _, tk := range list {
			m[strings.TrimSuffix(tk.UserName, "@example.com")+" "+tk.Kind] = tk
		}
		return m
	}
	var tasks map[string]taskJSON
	waitUntil(t, srv, "promotion tasks", func() bool { tasks = pending(); return len(tasks) == 5 })
	for _, k := range []string{"ann set_role", "bob set_role", "cat set_role", "dan free_seat", "eve set_role"} {
		if _, ok := tasks[k]; !ok {
			t.Fatalf("no %q task among %v", k, tasks)
		}
	}
	seats := func() map[string]any {
		_, out, _ := runCLI(t, environ, "seats", "-config", cfg, "-app", "sixsense", "-json")
		var s map[string]any
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("seats -json: %v: %s", err, out)
		}
		return s
	}
	s := seats()
	blocked := s["blocked"].([]any)
	if len(blocked) != 1 || !strings.Contains(blocked[0].(map[string]any)["blockedReason"].(string), "License limit exhausted") {
		t.Errorf("blocked: %v", blocked)
	}
	abm := s["modules"].([]any)[0].(map[string]any)
	if abm["module"] != "ABM" || abm["overProvisioned"] != true {
		t.Errorf("ABM is over its limit of 1 with 5 Insights Users, but: %v", abm)
	}
	for _, n := range []string{"ann", "bob", "cat", "eve"} {
		tk := tasks[n+" set_role"]
		if code, _, stderr := runCLI(t, environ, "tasks", "done", "-config", cfg, fmt.Sprint(tk.ID), "-note", "promoted in Settings > User Management"); code != 0 {
			t.Fatalf("tasks done %d: %s", tk.ID, stderr)
		}
	}

	// ann signs in to the app through scimbridge and the company IdP.
	login := func(who string) *samltest.Page {
		t.Helper()
		upstream.SetUser(&samltest.IdPUser{NameID: who + "@example.com", Email: who + "@example.com"})
		b := samltest.NewBrowser(t)
		p, err := b.Get(app.AppURL())
		if err != nil {
			t.Fatal(err)
		}
		if p, err = b.FollowForms(p, 8); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := login("ann"); p.Status != http.StatusOK || !strings.Contains(p.Body, "ann@example.com") {
		t.Fatalf("ann's proxied login: %d %.300s", p.Status, p.Body)
	}

	// ann leaves: her next login is refused at once, before anyone acts.
	scimDo("PATCH", "/Users/"+ids["ann"], `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Replace","path":"active","value":"False"}]}`, http.StatusOK)
	if p := login("ann"); p.Status != http.StatusForbidden {
		t.Fatalf("ann's login after deactivation: %d %.300s", p.Status, p.Body)
	}
	waitUntil(t, srv, "ann's disable task", func() bool { tasks = pending(); _, ok := tasks["ann deactivate"]; return ok })
	if _, ok := tasks["dan free_seat"]; !ok {
		t.Fatalf("dan must wait while ann holds her seat: %v", tasks)
	}
	if code, _, stderr := runCLI(t, environ, "tasks", "done", "-config", cfg, fmt.Sprint(tasks["ann deactivate"].ID), "-note", "disabled"); code != 0 {
		t.Fatalf("tasks done: %s", stderr)
	}
	// The disable task is verified at once (6sense takes an admin's word),
	// and ann's SI seat goes to dan.
	tasks = pending()
	if tk, ok := tasks["dan set_role"]; !ok || tk.Role != "Sales AE / SDR" {
		t.Fatalf("dan after ann's seat was freed: %v", tasks)
	}
	if _, ok := tasks["dan free_seat"]; ok {
		t.Errorf("dan's free_seat task is still pending: %v", tasks)
	}
	if len(seats()["blocked"].([]any)) != 0 {
		t.Errorf("still blocked: %v", seats()["blocked"])
	}
	// Logs carry no personal data from the SSO side.
	if strings.Contains(srv.logs.String(), "SAMLResponse") {
		t.Errorf("a SAML response reached the logs")
	}
}

func get(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	return b
}

func waitUntil(t *testing.T, srv served, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s\n%s", what, srv.logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}
