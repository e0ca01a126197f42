package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

// TestConsoleSSO signs in to the console through an in-test company IdP
// over SAML: a member of the approver group gets in as an approver, a
// member of no console group is refused.
func TestConsoleSSO(t *testing.T) {
	dir := t.TempDir()
	addr := freeAddr(t)
	environ := map[string]string{"SCIMBRIDGE_ACTOR": "ann.admin"}
	if code, _, stderr := runCLI(t, environ, "saml", "keygen", "-out", filepath.Join(dir, "saml")); code != 0 {
		t.Fatalf("saml keygen: %s", stderr)
	}
	idp := samltest.NewIdP(t)
	if err := os.WriteFile(filepath.Join(dir, "idp.xml"), idp.Metadata(), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: %s
database: data.db
log:
  format: json
saml:
  sp_key_file: saml/sp.key
  sp_cert_file: saml/sp.crt
  idp_key_file: saml/idp.key
  idp_cert_file: saml/idp.crt
  upstream_metadata_file: idp.xml
console:
  admin_group: it-staff
  approver_group: it-leads
apps:
  - name: acme
`, addr))
	srv := serveInProcess(t, cfg, addr, environ)
	if err := idp.RegisterSP(get(t, srv.base+"/saml/metadata")); err != nil {
		t.Fatal(err)
	}
	signIn := func(email string, groups ...string) *samltest.Page {
		t.Helper()
		idp.SetUser(&samltest.IdPUser{NameID: email, Email: email, Groups: groups})
		b := samltest.NewBrowser(t)
		p, err := b.Get(srv.base + "/console/tasks")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(p.Body, `id="sso"`) {
			t.Fatalf("the sign-in page offers no company sign-in: %d %.300s", p.Status, p.Body)
		}
		if p, err = b.Get(srv.base + "/console/sso?return=%2Fconsole%2Ftasks"); err != nil {
			t.Fatal(err)
		}
		// Post the auto-submitting forms of the SAML round trip, and stop
		// once back on the console, whose pages have forms of their own.
		for i := 0; i < 6 && !strings.HasPrefix(p.URL.Path, "/console/"); i++ {
			if p, err = b.Submit(p, nil); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	p := signIn("lee@example.com", "it-staff", "it-leads")
	if p.Status != http.StatusOK || !strings.Contains(p.URL.Path, "/console/tasks") ||
		!strings.Contains(p.Body, "lee@example.com") || !strings.Contains(p.Body, "(approver)") {
		t.Fatalf("an approver's sign-in: %d %s %.400s", p.Status, p.URL, p.Body)
	}
	p = signIn("sam@example.com", "sales")
	if p.Status != http.StatusForbidden || !strings.Contains(p.Body, "ask to be added to the group it-staff") {
		t.Fatalf("a stranger's sign-in: %d %.400s", p.Status, p.Body)
	}
	if strings.Contains(srv.logs.String(), "sam@example.com") || strings.Contains(srv.logs.String(), "SAMLResponse") {
		t.Error("the sign-in put personal data in the logs")
	}
}
