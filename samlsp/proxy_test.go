package samlsp_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

var aliceInDirectory = samlsp.User{
	ID: "u-1", UserName: "alice", Email: "alice@example.com",
	GivenName: "Alice", FamilyName: "Liddell", Roles: []string{"Sales AE"},
}

func TestProxiedLogin(t *testing.T) {
	for _, tc := range []struct {
		name       string
		binding    string
		app        samlsp.AppConfig
		appRoleOpt string
		nameID     string
		format     string
		role       string
	}{
		{
			name: "POST binding, default role", binding: saml.HTTPPostBinding,
			nameID: "alice@example.com", format: string(saml.EmailAddressNameIDFormat), role: "Insight User",
		},
		{
			name: "Redirect binding, role attribute, userName NameID", binding: saml.HTTPRedirectBinding,
			app:        samlsp.AppConfig{NameID: samlsp.NameIDUserName, RoleAttribute: "role"},
			appRoleOpt: "role",
			nameID:     "alice", format: string(saml.UnspecifiedNameIDFormat), role: "Sales AE",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{app: tc.app, appOptions: samltest.JITAppOptions{Binding: tc.binding, RoleAttribute: tc.appRoleOpt}})
			u := alice
			r.idp.SetUser(&u)
			r.dir.Allow(appName, "alice@example.com", aliceInDirectory)
			b := samltest.NewBrowser(t)

			p := follow(t, b, get(t, b, r.app.AppURL()), nil)
			want := fmt.Sprintf("app %s: user=%s role=%s", appName, tc.nameID, tc.role)
			if p.Status != http.StatusOK || p.Body != want {
				t.Fatalf("first login: %d %q at %s, want %q", p.Status, p.Body, p.URL, want)
			}
			users := r.app.Users()
			if len(users) != 1 || users[0].NameID != tc.nameID || users[0].Role != tc.role || users[0].Email != "alice@example.com" {
				t.Errorf("app users: %+v", users)
			}
			if p := get(t, b, r.app.URL+"/users"); !strings.Contains(p.Body, `"nameID":"`+tc.nameID+`"`) {
				t.Errorf("GET /users: %s", p.Body)
			}
			checkLogins(t, r.dir, samlsp.SourceProxy)
			checkAssertion(t, r, tc.nameID, tc.format, tc.app.RoleAttribute)

			// Second login with the app's cookie gone: scimbridge's session
			// answers without the upstream IdP.
			b.DeleteCookie(r.app.URL, "jit_"+appName+"_session", "/")
			issued := r.idp.Issued()
			p = follow(t, b, get(t, b, r.app.AppURL()), nil)
			if p.Status != http.StatusOK || p.Body != want {
				t.Fatalf("second login: %d %q", p.Status, p.Body)
			}
			if r.idp.Issued() != issued {
				t.Error("the second login went to the upstream IdP")
			}
			if users := r.app.Users(); len(users) != 1 || users[0].Logins != 2 {
				t.Errorf("app users after two logins: %+v", users)
			}
			checkLogins(t, r.dir, samlsp.SourceProxy, samlsp.SourceProxy)
			r.checkLogsClean("alice@example.com")
		})
	}
}

// checkAssertion looks at the assertion the app accepted: signed with
// RSA-SHA256 by scimbridge's IdP key, with the app's NameID and role.
func checkAssertion(t *testing.T, r *rig, nameID, format, roleAttr string) {
	t.Helper()
	x := r.app.LastAssertionXML()
	doc := etree.NewDocument()
	if err := doc.ReadFromString(x); err != nil {
		t.Fatalf("assertion XML: %v", err)
	}
	if m := doc.FindElement("//SignedInfo/SignatureMethod"); m == nil || m.SelectAttrValue("Algorithm", "") != "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" {
		t.Errorf("signature method: %v", m)
	}
	cert := doc.FindElement("//Signature/KeyInfo/X509Data/X509Certificate")
	if cert == nil || strings.TrimSpace(cert.Text()) != base64.StdEncoding.EncodeToString(r.cfg.IdPKey.Cert.Raw) {
		t.Error("the assertion is not signed with the IdP certificate")
	}
	if cert != nil && strings.TrimSpace(cert.Text()) == base64.StdEncoding.EncodeToString(r.cfg.SPKey.Cert.Raw) {
		t.Error("the assertion is signed with the SP key")
	}
	as := r.app.Assertions()
	a := as[len(as)-1]
	if a.Subject.NameID.Value != nameID || a.Subject.NameID.Format != format {
		t.Errorf("NameID %q (%s), want %q (%s)", a.Subject.NameID.Value, a.Subject.NameID.Format, nameID, format)
	}
	attrs := map[string][]string{}
	for _, st := range a.AttributeStatements {
		for _, at := range st.Attributes {
			for _, v := range at.Values {
				attrs[at.Name] = append(attrs[at.Name], v.Value)
			}
		}
	}
	if attrs["email"][0] != "alice@example.com" || attrs["firstName"][0] != "Alice" || attrs["lastName"][0] != "Liddell" {
		t.Errorf("attributes: %v", attrs)
	}
	if roleAttr != "" && (len(attrs[roleAttr]) != 1 || attrs[roleAttr][0] != "Sales AE") {
		t.Errorf("role attribute %s: %v", roleAttr, attrs[roleAttr])
	}
	if roleAttr == "" && len(attrs) != 3 {
		t.Errorf("attributes without a role attribute: %v", attrs)
	}
	now := saml.TimeNow()
	if c := a.Conditions; c.NotBefore.After(now) || c.NotOnOrAfter.Before(now) || c.NotOnOrAfter.Sub(now) > 10*time.Minute {
		t.Errorf("conditions not anchored on now: %v – %v (now %v)", c.NotBefore, c.NotOnOrAfter, now)
	}
}

func checkLogins(t *testing.T, dir *samltest.Directory, sources ...string) {
	t.Helper()
	logins := dir.Logins()
	if len(logins) != len(sources) {
		t.Fatalf("%d logins recorded, want %d: %+v", len(logins), len(sources), logins)
	}
	for i, l := range logins {
		if l.Source != sources[i] || l.App != appName || l.User.ID != aliceInDirectory.ID {
			t.Errorf("login %d: %+v", i, l)
		}
	}
}

func TestProxiedLoginSurvivesSlowUpstreamLogin(t *testing.T) {
	r := newRig(t, rigOptions{})
	u := alice
	r.idp.SetUser(&u)
	r.dir.Allow(appName, "alice@example.com", aliceInDirectory)
	b := samltest.NewBrowser(t)
	p := follow(t, b, get(t, b, r.app.AppURL()), r.atIdPLogin)
	if !r.atIdPLogin(p) {
		t.Fatalf("not at the IdP's login: %d %s", p.Status, p.URL)
	}
	samltest.ShiftClock(t, 2*time.Minute)
	p = follow(t, b, p, nil)
	if want := "app sixsense: user=alice@example.com role=Insight User"; p.Status != http.StatusOK || p.Body != want {
		t.Fatalf("after a 2-minute upstream login: %d %q at %s", p.Status, p.Body, p.URL)
	}
}

func TestProxiedLoginRefusedByTheDirectory(t *testing.T) {
	for _, tc := range []struct {
		err     error
		message string
	}{
		{samlsp.ErrNotAssigned, "not assigned to this app"},
		{fmt.Errorf("user u-1: %w", samlsp.ErrInactive), "deactivated"},
		{samlsp.ErrUnknownUser, "not known"},
	} {
		t.Run(tc.err.Error(), func(t *testing.T) {
			r := newRig(t, rigOptions{})
			u := alice
			r.idp.SetUser(&u)
			r.dir.Allow(appName, "alice@example.com", aliceInDirectory)
			r.dir.Refuse(appName, "alice@example.com", tc.err)
			b := samltest.NewBrowser(t)
			p := follow(t, b, get(t, b, r.app.AppURL()), nil)
			if p.Status != http.StatusForbidden || !strings.Contains(p.Body, tc.message) || strings.Contains(p.Body, "SAMLResponse") {
				t.Fatalf("refusal page: %d %q", p.Status, p.Body)
			}
			if users := r.app.Users(); len(users) != 0 {
				t.Errorf("the app created %+v", users)
			}
			if logins := r.dir.Logins(); len(logins) != 0 {
				t.Errorf("logins recorded: %+v", logins)
			}
			if !strings.Contains(r.logs.String(), "user_id=u-1") {
				t.Errorf("the log does not name the user id:\n%s", r.logs.String())
			}
			r.checkLogsClean("alice@example.com")
		})
	}
}

// signedInBrowser has a scimbridge session, so that resuming a parked
// request needs no upstream trip.
func signedInBrowser(t *testing.T, r *rig) *samltest.Browser {
	t.Helper()
	b := samltest.NewBrowser(t)
	if p := follow(t, b, get(t, b, r.url+"/console/"), nil); p.Status != http.StatusOK {
		t.Fatalf("sign-in: %d", p.Status)
	}
	return b
}

// parkRequest has the app send b to scimbridge with an AuthnRequest and
// returns the URL that resumes it.
func parkRequest(t *testing.T, r *rig, b *samltest.Browser) string {
	t.Helper()
	b.Client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	defer func() { b.Client.CheckRedirect = nil }()
	p := submit(t, b, get(t, b, r.app.AppURL()), nil)
	if p.Status != http.StatusSeeOther || !strings.HasPrefix(p.Header.Get("Location"), "/saml/resume?id=") {
		t.Fatalf("SSO answered %d %q", p.Status, p.Header.Get("Location"))
	}
	return r.url + p.Header.Get("Location")
}

func TestParkedRequestIsSingleUseAndBoundToTheBrowser(t *testing.T) {
	r := newRig(t, rigOptions{})
	u := alice
	r.idp.SetUser(&u)
	r.dir.Allow(appName, "alice@example.com", aliceInDirectory)
	b := signedInBrowser(t, r)
	resume := parkRequest(t, r, b)

	other := signedInBrowser(t, r)
	if p := get(t, other, resume); p.Status != http.StatusBadRequest {
		t.Errorf("another browser resumed: %d", p.Status)
	}
	if p := get(t, b, resume); p.Status != http.StatusOK || !atResponse(p) {
		t.Fatalf("resume: %d %.200s", p.Status, p.Body)
	}
	if p := get(t, b, resume); p.Status != http.StatusBadRequest {
		t.Errorf("second resume: %d", p.Status)
	}
}

func TestParkedRequestExpires(t *testing.T) {
	r := newRig(t, rigOptions{})
	u := alice
	r.idp.SetUser(&u)
	r.dir.Allow(appName, "alice@example.com", aliceInDirectory)
	b := signedInBrowser(t, r)
	resume := parkRequest(t, r, b)
	samltest.ShiftClock(t, 11*time.Minute)
	if p := get(t, b, resume); p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "expired") {
		t.Errorf("resume after 11 minutes: %d %q", p.Status, p.Body)
	}
	if users := r.app.Users(); len(users) != 0 {
		t.Errorf("the app created %+v", users)
	}
}
