package samltest

import (
	"crypto/x509"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/scimbridge/scimbridge/samlsp"
)

// IdPUser is who is signed in at the IdP.
type IdPUser struct {
	NameID       string
	NameIDFormat string // default emailAddress
	Email        string
	Groups       []string
	// Attributes are sent as they are, by Name.
	Attributes map[string][]string
}

// IdP is an upstream IdP like Okta: it signs with RSA-SHA256, encrypts
// assertions for SPs whose metadata has a certificate (unless told not
// to), and sends the email and groups as attributes named "email" and
// "groups". Its sign-in takes two steps, like a real login page: the SSO
// endpoint checks the AuthnRequest and shows a form; submitting the form
// issues the response for the current user. A clock moved in between
// models a slow sign-in.
type IdP struct {
	URL  string
	Key  samlsp.KeyPair
	idp  *saml.IdentityProvider
	t    testing.TB
	mu   sync.Mutex
	user *IdPUser
	sps  map[string]*saml.EntityDescriptor
	// pending AuthnRequests shown a login form, by form id.
	pending map[string]*saml.IdpAuthnRequest
	encrypt bool
	hook    func(*saml.Assertion)
	issued  int
}

// NewIdP starts an IdP with nobody signed in.
func NewIdP(t testing.TB) *IdP {
	t.Helper()
	srv, setHandler := NewLateServer(t)
	p := &IdP{
		URL:     srv.URL,
		Key:     NewKeyPair(t, "upstream idp"),
		t:       t,
		sps:     map[string]*saml.EntityDescriptor{},
		pending: map[string]*saml.IdpAuthnRequest{},
		encrypt: true,
	}
	base, _ := url.Parse(srv.URL)
	p.idp = &saml.IdentityProvider{
		Key:                     p.Key.Key,
		Signer:                  p.Key.Key,
		Certificate:             p.Key.Cert,
		Logger:                  testLogger{t},
		MetadataURL:             *base.ResolveReference(&url.URL{Path: "/metadata"}),
		SSOURL:                  *base.ResolveReference(&url.URL{Path: "/sso"}),
		ServiceProviderProvider: (*idpSPs)(p),
		SessionProvider:         (*idpSessions)(p),
		AssertionMaker:          (*idpAssertions)(p),
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", p.idp.ServeMetadata)
	mux.HandleFunc("/sso", p.serveSSO)
	mux.HandleFunc("POST /login", p.serveLogin)
	mux.HandleFunc("GET /start", p.serveStart)
	setHandler(mux)
	return p
}

// Metadata is the IdP's metadata XML.
func (p *IdP) Metadata() []byte {
	b, err := xml.MarshalIndent(p.idp.Metadata(), "", "  ")
	if err != nil {
		p.t.Fatalf("idp metadata: %v", err)
	}
	return b
}

// Certificate is the IdP's signing certificate.
func (p *IdP) Certificate() *x509.Certificate { return p.Key.Cert }

// RegisterSP trusts the SP with this metadata.
func (p *IdP) RegisterSP(metadata []byte) error {
	ed, err := crewsp.ParseMetadata(metadata)
	if err != nil {
		return fmt.Errorf("register SP: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sps[ed.EntityID] = ed
	return nil
}

// SetUser signs u in; nil signs everybody out (the login form then
// answers 403).
func (p *IdP) SetUser(u *IdPUser) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.user = u
}

// SetEncryptAssertions chooses whether assertions are encrypted for SPs
// that publish a certificate (default true).
func (p *IdP) SetEncryptAssertions(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.encrypt = on
}

// SetAssertionHook lets a test change each assertion before it is signed
// (nil: no change).
func (p *IdP) SetAssertionHook(f func(*saml.Assertion)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.hook = f
}

// Issued is how many responses the IdP has issued.
func (p *IdP) Issued() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.issued
}

// serveSSO checks the AuthnRequest now and shows the login form.
func (p *IdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	req, err := saml.NewIdpAuthnRequest(p.idp, r)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		http.Error(w, "bad AuthnRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	id := fmt.Sprintf("login-%d", time.Now().UnixNano())
	p.mu.Lock()
	p.pending[id] = req
	p.mu.Unlock()
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, `<!DOCTYPE html><html><body><h1>Sign in</h1><form method="post" action="/login"><input type="hidden" name="login" value="%s"><button>Sign in</button></form></body></html>`, id)
}

// serveLogin is the login form's submission: it answers the pending
// request for the current user, at the current time.
func (p *IdP) serveLogin(w http.ResponseWriter, r *http.Request) {
	id := r.PostFormValue("login")
	p.mu.Lock()
	req, ok := p.pending[id]
	delete(p.pending, id)
	p.mu.Unlock()
	if !ok {
		http.Error(w, "no such login", http.StatusBadRequest)
		return
	}
	req.HTTPRequest = r
	req.Now = saml.TimeNow()
	session := (*idpSessions)(p).GetSession(w, r, req)
	if session == nil {
		return
	}
	if err := (*idpAssertions)(p).MakeAssertion(req, session); err != nil {
		http.Error(w, "make assertion: "+err.Error(), http.StatusInternalServerError)
		return
	}
	if err := req.WriteResponse(w); err != nil {
		http.Error(w, "write response: "+err.Error(), http.StatusInternalServerError)
	}
}

// serveStart is an IdP-initiated sign-in (a dashboard tile):
// /start?sp=<entity ID>&RelayState=...
func (p *IdP) serveStart(w http.ResponseWriter, r *http.Request) {
	p.idp.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), r.URL.Query().Get("RelayState"))
}

type idpSPs IdP

// GetServiceProvider returns a registered SP, without its encryption
// certificate when encryption is off.
func (p *idpSPs) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ed, ok := p.sps[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	if p.encrypt {
		return ed, nil
	}
	plain := *ed
	plain.SPSSODescriptors = append([]saml.SPSSODescriptor(nil), ed.SPSSODescriptors...)
	for i := range plain.SPSSODescriptors {
		var keep []saml.KeyDescriptor
		for _, k := range plain.SPSSODescriptors[i].KeyDescriptors {
			if k.Use == "signing" {
				keep = append(keep, k)
			}
		}
		plain.SPSSODescriptors[i].KeyDescriptors = keep
	}
	return &plain, nil
}

type idpSessions IdP

// GetSession is the current user, or a 403 when nobody is signed in.
func (p *idpSessions) GetSession(w http.ResponseWriter, _ *http.Request, _ *saml.IdpAuthnRequest) *saml.Session {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.user == nil {
		http.Error(w, "nobody is signed in at the IdP", http.StatusForbidden)
		return nil
	}
	u := p.user
	format := u.NameIDFormat
	if format == "" {
		format = string(saml.EmailAddressNameIDFormat)
	}
	now := saml.TimeNow()
	s := &saml.Session{
		ID: fmt.Sprintf("session-%d", now.UnixNano()), Index: fmt.Sprintf("index-%d", now.UnixNano()),
		CreateTime: now, ExpireTime: now.Add(time.Hour),
		NameID: u.NameID, NameIDFormat: format,
	}
	add := func(name string, values ...string) {
		if len(values) == 0 {
			return
		}
		a := saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
		for _, v := range values {
			a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
		}
		s.CustomAttributes = append(s.CustomAttributes, a)
	}
	if u.Email != "" {
		add("email", u.Email)
	}
	add("groups", u.Groups...)
	for name, values := range u.Attributes {
		add(name, values...)
	}
	return s
}

type idpAssertions IdP

// MakeAssertion is crewjam's default with Okta-style attributes only and
// the validity window anchored on now (crewjam anchors it on the
// request's IssueInstant).
func (p *idpAssertions) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	a := req.Assertion
	a.AttributeStatements = []saml.AttributeStatement{{Attributes: session.CustomAttributes}}
	a.Conditions.NotBefore = req.Now.Add(-time.Minute)
	a.Conditions.NotOnOrAfter = req.Now.Add(5 * time.Minute)
	for i := range a.Subject.SubjectConfirmations {
		a.Subject.SubjectConfirmations[i].SubjectConfirmationData.NotOnOrAfter = req.Now.Add(5 * time.Minute)
	}
	p.mu.Lock()
	hook := p.hook
	p.issued++
	p.mu.Unlock()
	if hook != nil {
		hook(a)
	}
	return nil
}

type testLogger struct{ t testing.TB }

func (l testLogger) Printf(format string, v ...interface{}) { l.t.Logf("idp: "+format, v...) }
func (l testLogger) Print(v ...interface{})                 { l.t.Log(append([]interface{}{"idp:"}, v...)...) }
func (l testLogger) Println(v ...interface{})               { l.t.Log(append([]interface{}{"idp:"}, v...)...) }
func (l testLogger) Fatal(v ...interface{})                 { l.t.Fatal(v...) }
func (l testLogger) Fatalf(format string, v ...interface{}) { l.t.Fatalf(format, v...) }
func (l testLogger) Fatalln(v ...interface{})               { l.t.Fatal(v...) }
func (l testLogger) Panic(v ...interface{})                 { panic(fmt.Sprint(v...)) }
func (l testLogger) Panicf(format string, v ...interface{}) { panic(fmt.Sprintf(format, v...)) }
func (l testLogger) Panicln(v ...interface{})               { panic(fmt.Sprint(v...)) }
