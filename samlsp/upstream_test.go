package samlsp_test

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"

	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

const sessionCookie = "scimbridge_session"

func TestUpstreamLoginKeepsAnOpaqueServerSideSession(t *testing.T) {
	groups := make([]string, 100)
	for i := range groups {
		groups[i] = fmt.Sprintf("okta-group-with-a-rather-long-name-%03d", i)
	}
	for _, tc := range []struct {
		name   string
		groups []string
	}{
		{"one group", []string{"sales"}},
		{"100 long groups", groups},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			u := alice
			u.Groups = tc.groups
			r.idp.SetUser(&u)
			b := samltest.NewBrowser(t)
			p := follow(t, b, get(t, b, r.url+"/console/queue?page=2"), nil)
			want := fmt.Sprintf("console /console/queue?page=2 subject=alice@example.com email=alice@example.com groups=%d", len(tc.groups))
			if p.Status != http.StatusOK || p.Body != want {
				t.Fatalf("after sign-in: %d %q, want %q", p.Status, p.Body, want)
			}
			var id string
			for _, c := range b.Cookies(r.url + "/console/") {
				if c.Name == sessionCookie {
					id = c.Value
				}
			}
			if len(id) == 0 || len(id) > 64 || strings.Contains(id, "alice") || strings.Contains(id, ".") {
				t.Errorf("session cookie %q is not a short opaque id", id)
			}
			var stored, subject string
			if err := r.db.ReadSQL().QueryRow(r.ctx, `SELECT id_hash, subject FROM samlsp_sessions`).Scan(&stored, &subject); err != nil {
				t.Fatal(err)
			}
			if stored == id || subject != "alice@example.com" {
				t.Errorf("stored session: id_hash=%q subject=%q; want a hash of the cookie and alice", stored, subject)
			}
			issued := r.idp.Issued()
			if p := get(t, b, r.url+"/console/other"); p.Status != http.StatusOK || !strings.HasPrefix(p.Body, "console /console/other") {
				t.Errorf("second request: %d %q", p.Status, p.Body)
			}
			if r.idp.Issued() != issued {
				t.Error("the second request went back to the IdP")
			}
		})
	}
}

func TestLogoutDeletesTheSession(t *testing.T) {
	r := newRig(t, rigOptions{})
	u := alice
	r.idp.SetUser(&u)
	b := samltest.NewBrowser(t)
	if p := follow(t, b, get(t, b, r.url+"/console/"), nil); p.Status != http.StatusOK {
		t.Fatalf("sign-in: %d %s", p.Status, p.Body)
	}
	var oldID string
	for _, c := range b.Cookies(r.url + "/") {
		if c.Name == sessionCookie {
			oldID = c.Value
		}
	}
	p, err := b.Post(r.url+"/saml/logout", url.Values{})
	if err != nil || p.Status != http.StatusOK {
		t.Fatalf("logout: %v %v", p, err)
	}
	var n int
	if err := r.db.ReadSQL().QueryRow(r.ctx, `SELECT count(*) FROM samlsp_sessions`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("sessions after logout: %d (%v)", n, err)
	}
	// Even the old cookie, kept by someone, opens nothing.
	b2 := samltest.NewBrowser(t)
	b2.SetCookie(r.url+"/", &http.Cookie{Name: sessionCookie, Value: oldID, Path: "/"})
	for _, br := range []*samltest.Browser{b, b2} {
		p := get(t, br, r.url+"/console/")
		if p.URL.Path != "/saml/login" || strings.Contains(p.Body, "console") {
			t.Errorf("after logout /console/ gave %d at %s", p.Status, p.URL)
		}
	}
}

func TestSlowUpstreamLogin(t *testing.T) {
	for _, tc := range []struct {
		atIdP time.Duration
		ok    bool
	}{
		{2 * time.Minute, true},
		{11 * time.Minute, false},
	} {
		t.Run(tc.atIdP.String(), func(t *testing.T) {
			r := newRig(t, rigOptions{})
			u := alice
			r.idp.SetUser(&u)
			b := samltest.NewBrowser(t)
			p := follow(t, b, get(t, b, r.url+"/console/"), r.atIdPLogin)
			if !r.atIdPLogin(p) {
				t.Fatalf("not at the IdP's login: %d %s", p.Status, p.URL)
			}
			samltest.ShiftClock(t, tc.atIdP)
			p = follow(t, b, p, nil)
			if got := p.Status == http.StatusOK && strings.HasPrefix(p.Body, "console /console/"); got != tc.ok {
				t.Fatalf("signed in = %v, want %v: %d %.200s", got, tc.ok, p.Status, p.Body)
			}
			if !tc.ok && p.Status != http.StatusForbidden {
				t.Errorf("status %d, want 403", p.Status)
			}
		})
	}
}

// TestHostileResponses sends the ACS responses it must refuse, and checks
// that nothing of them reaches the logs.
func TestHostileResponses(t *testing.T) {
	for _, tc := range []struct {
		name string
		// respond returns the page after the attack and the SAMLResponse
		// it used.
		respond   func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string)
		logReason string
	}{
		{
			name: "IdP-initiated",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				spID := r.url + "/saml/metadata"
				p := get(t, b, r.idp.URL+"/start?"+url.Values{"sp": {spID}, "RelayState": {"/console/"}}.Encode())
				f, _ := p.Form()
				return submit(t, b, p, nil), f.Values.Get("SAMLResponse")
			},
			logReason: "does not answer a pending sign-in",
		},
		{
			name: "replayed with its tracker cookie",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				tracker := trackerCookies(b, r.url+"/saml/acs")
				f, _ := p.Form()
				if ok := submit(t, b, p, nil); ok.Status != http.StatusOK {
					t.Fatalf("first use: %d", ok.Status)
				}
				// An attacker with both the response and the tracker cookie.
				b2 := samltest.NewBrowser(t)
				for _, c := range tracker {
					b2.SetCookie(r.url+"/saml/acs", &http.Cookie{Name: c.Name, Value: c.Value, Path: "/saml/acs"})
				}
				return submit(t, b2, p, nil), f.Values.Get("SAMLResponse")
			},
			logReason: "assertion replayed",
		},
		{
			name: "replayed in the same browser",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				f, _ := p.Form()
				submit(t, b, p, nil)
				return submit(t, b, p, nil), f.Values.Get("SAMLResponse")
			},
			logReason: "does not answer a pending sign-in",
		},
		{
			name: "tampered NameID",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				r.idp.SetEncryptAssertions(false)
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				f, _ := p.Form()
				raw, err := base64.StdEncoding.DecodeString(f.Values.Get("SAMLResponse"))
				if err != nil || !strings.Contains(string(raw), ">alice@example.com<") {
					t.Fatalf("response not plaintext: %v", err)
				}
				forged := base64.StdEncoding.EncodeToString([]byte(strings.Replace(string(raw), ">alice@example.com<", ">admin@example.com<", 1)))
				return submit(t, b, p, url.Values{"SAMLResponse": {forged}}), forged
			},
			logReason: "signature",
		},
		{
			name: "signed, encrypted, no Conditions",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				r.idp.SetAssertionHook(func(a *saml.Assertion) { a.Conditions = nil })
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				f, _ := p.Form()
				return submit(t, b, p, nil), f.Values.Get("SAMLResponse")
			},
			logReason: "lacks Subject or Conditions",
		},
		{
			name: "signed, plaintext, no Conditions",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				r.idp.SetEncryptAssertions(false)
				r.idp.SetAssertionHook(func(a *saml.Assertion) { a.Conditions = nil })
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				f, _ := p.Form()
				return submit(t, b, p, nil), f.Values.Get("SAMLResponse")
			},
			logReason: "lacks Subject or Conditions",
		},
		{
			name: "RelayState pointing off-site",
			respond: func(t *testing.T, r *rig, b *samltest.Browser) (*samltest.Page, string) {
				p := follow(t, b, get(t, b, r.url+"/console/"), atResponse)
				f, _ := p.Form()
				return submit(t, b, p, url.Values{"RelayState": {"https://evil.example/"}}), f.Values.Get("SAMLResponse")
			},
			logReason: "no pending sign-in",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			u := alice
			r.idp.SetUser(&u)
			b := samltest.NewBrowser(t)
			p, response := tc.respond(t, r, b)
			if p.Status != http.StatusForbidden {
				t.Errorf("status %d at %s, want 403: %.200s", p.Status, p.URL, p.Body)
			}
			if p.URL.Host != strings.TrimPrefix(r.url, "http://") {
				t.Errorf("ended at %s, off-site", p.URL)
			}
			if !strings.Contains(r.logs.String(), tc.logReason) {
				t.Errorf("the logs do not give the reason %q:\n%s", tc.logReason, r.logs.String())
			}
			r.checkLogsClean(response, response[:40], "alice@example.com", "alice")
			// The service still works.
			if p := get(t, samltest.NewBrowser(t), r.url+"/saml/metadata"); p.Status != http.StatusOK {
				t.Errorf("metadata after the attack: %d", p.Status)
			}
		})
	}
}

func TestReturnPathStaysOnSite(t *testing.T) {
	for _, target := range []string{"https://evil.example/", "//evil.example", "/\\evil.example", "/saml/acs"} {
		t.Run(target, func(t *testing.T) {
			r := newRig(t, rigOptions{})
			u := alice
			r.idp.SetUser(&u)
			b := samltest.NewBrowser(t)
			p := follow(t, b, get(t, b, r.url+"/saml/login?"+url.Values{"return": {target}}.Encode()), nil)
			if p.URL.Host != strings.TrimPrefix(r.url, "http://") || p.URL.Path != "/" {
				t.Errorf("landed at %s, want / on scimbridge", p.URL)
			}
		})
	}
}

func submit(t *testing.T, b *samltest.Browser, p *samltest.Page, override url.Values) *samltest.Page {
	t.Helper()
	next, err := b.Submit(p, override)
	if err != nil {
		t.Fatal(err)
	}
	return next
}

func trackerCookies(b *samltest.Browser, acs string) []*http.Cookie {
	var out []*http.Cookie
	for _, c := range b.Cookies(acs) {
		if strings.HasPrefix(c.Name, "scimbridge_saml_") {
			out = append(out, c)
		}
	}
	return out
}
