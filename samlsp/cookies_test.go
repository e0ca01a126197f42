package samlsp_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// TestHTTPSSignInPage checks what only an https deployment shows: the
// tracker cookie must be SameSite=None and Secure to come back on the
// IdP's cross-site POST, and live 10 minutes; the auto-post page runs only
// its own script, allowed by hash.
func TestHTTPSSignInPage(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	idp := samltest.NewIdP(t)
	svc, err := samlsp.New(ctx, db, samlsp.Config{
		BaseURL: "https://scimbridge.example.com",
		SPKey:   samltest.NewKeyPair(t, "sp"), IdPKey: samltest.NewKeyPair(t, "idp"),
		UpstreamMetadata: idp.Metadata(),
	}, samltest.NewDirectory(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	svc.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "https://scimbridge.example.com/saml/login?return=/console/", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("login: %d %s", rec.Code, rec.Body)
	}
	var tracker *http.Cookie
	for _, c := range rec.Result().Cookies() {
		if strings.HasPrefix(c.Name, "scimbridge_saml_") {
			tracker = c
		}
	}
	if tracker == nil || tracker.SameSite != http.SameSiteNoneMode || !tracker.Secure || !tracker.HttpOnly || tracker.MaxAge != 600 {
		t.Errorf("tracker cookie: %+v", tracker)
	}
	script := regexp.MustCompile(`<script>(.*)</script>`).FindStringSubmatch(rec.Body.String())
	if script == nil {
		t.Fatal("no script on the page")
	}
	sum := sha256.Sum256([]byte(script[1]))
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q does not allow exactly the page's script", csp)
	}
	if !strings.Contains(rec.Body.String(), `action="`+idp.URL+`/sso"`) {
		t.Errorf("the form does not post to the IdP: %s", rec.Body)
	}
}
