package simapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
)

// Person is someone who can sign in at the company IdP.
type Person struct {
	Name   string
	Email  string
	Groups []string
}

// CompanyIdP stands for the company's IdP (Okta, Entra ID) in SAML
// sign-ins. Its sign-in page lets a person pick who they are, without a
// password, since everyone in the demo is made up. It signs assertions,
// with the email and groups as attributes, for the service providers it
// trusts.
type CompanyIdP struct {
	srv    *server
	idp    *saml.IdentityProvider
	page   *template.Template
	people []Person
	notes  notes

	mu      sync.Mutex
	sps     map[string]*saml.EntityDescriptor // by entity ID
	pending map[string]pendingLogin           // sign-ins shown the picker, by id
}

type pendingLogin struct {
	req *saml.IdpAuthnRequest
	at  time.Time
}

// How long, and how many, sign-ins may wait at the picker.
const (
	pendingTTL = 10 * time.Minute
	maxPending = 1000
)

// NewCompanyIdP starts the IdP on 127.0.0.1 with people to pick from;
// log, if not nil, receives crewjam's complaints about bad requests.
func NewCompanyIdP(people []Person, log *slog.Logger) (*CompanyIdP, error) {
	if len(people) == 0 {
		return nil, fmt.Errorf("company IdP: nobody to sign in")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	page, err := template.New("idp").Parse(idpPage)
	if err != nil {
		return nil, fmt.Errorf("company IdP: %w", err)
	}
	kp, err := newKeyPair("company IdP (simulated)")
	if err != nil {
		return nil, fmt.Errorf("company IdP: %w", err)
	}
	srv, err := listen()
	if err != nil {
		return nil, fmt.Errorf("company IdP: %w", err)
	}
	base, err := url.Parse(srv.url)
	if err != nil {
		srv.close(context.Background())
		return nil, fmt.Errorf("company IdP: %w", err)
	}
	p := &CompanyIdP{srv: srv, page: page, people: people, sps: map[string]*saml.EntityDescriptor{}, pending: map[string]pendingLogin{}}
	p.idp = &saml.IdentityProvider{
		Key:                     kp.Key,
		Signer:                  kp.Key,
		Certificate:             kp.Cert,
		Logger:                  crewLog{log},
		MetadataURL:             *base.ResolveReference(&url.URL{Path: "/metadata"}),
		SSOURL:                  *base.ResolveReference(&url.URL{Path: "/sso"}),
		ServiceProviderProvider: (*idpSPs)(p),
		SessionProvider:         noSessions{},
		SignatureMethod:         dsig.RSASHA256SignatureMethod,
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metadata", p.idp.ServeMetadata)
	mux.HandleFunc("/sso", p.serveSSO)
	mux.HandleFunc("POST /login", p.serveLogin)
	srv.setHandler(mux)
	return p, nil
}

// URL is where the IdP answers.
func (p *CompanyIdP) URL() string { return p.srv.url }

// Metadata is the IdP's SAML metadata, for the service providers that
// trust it.
func (p *CompanyIdP) Metadata() ([]byte, error) {
	b, err := xml.MarshalIndent(p.idp.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("company IdP metadata: %w", err)
	}
	return b, nil
}

// Trust registers the service provider with this metadata, as an IdP
// admin adds an app.
func (p *CompanyIdP) Trust(spMetadata []byte) error {
	ed, err := crewsp.ParseMetadata(spMetadata)
	if err != nil {
		return fmt.Errorf("company IdP: the service provider's metadata: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sps[ed.EntityID] = ed
	return nil
}

// Notes returns what the IdP did since the last call, in words.
func (p *CompanyIdP) Notes() []string { return p.notes.take() }

// Close stops the IdP.
func (p *CompanyIdP) Close(ctx context.Context) error { return p.srv.close(ctx) }

// serveSSO checks a service provider's sign-in request and shows the
// picker.
func (p *CompanyIdP) serveSSO(w http.ResponseWriter, r *http.Request) {
	req, err := saml.NewIdpAuthnRequest(p.idp, r)
	if err == nil {
		err = req.Validate()
	}
	if err != nil {
		http.Error(w, "This sign-in request is not valid: "+err.Error(), http.StatusBadRequest)
		return
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		http.Error(w, "no randomness", http.StatusInternalServerError)
		return
	}
	id := hex.EncodeToString(b[:])
	now := time.Now()
	p.mu.Lock()
	for k, v := range p.pending {
		if now.Sub(v.at) > pendingTTL {
			delete(p.pending, k)
		}
	}
	full := len(p.pending) >= maxPending
	if !full {
		p.pending[id] = pendingLogin{req: req, at: now}
	}
	p.mu.Unlock()
	if full {
		http.Error(w, "Too many sign-ins are waiting; try again in a few minutes.", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = p.page.Execute(w, struct {
		ID     string
		SP     string
		People []Person
	}{id, req.ServiceProviderMetadata.EntityID, p.people})
}

// serveLogin answers a pending sign-in for the person picked.
func (p *CompanyIdP) serveLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	id, email := r.PostFormValue("login"), r.PostFormValue("email")
	p.mu.Lock()
	pl, ok := p.pending[id]
	delete(p.pending, id)
	p.mu.Unlock()
	if !ok || time.Since(pl.at) > pendingTTL {
		http.Error(w, "This sign-in has expired or was used; start again from the app.", http.StatusBadRequest)
		return
	}
	var who *Person
	for i := range p.people {
		if strings.EqualFold(p.people[i].Email, email) {
			who = &p.people[i]
		}
	}
	if who == nil {
		http.Error(w, "Nobody by that address works here.", http.StatusForbidden)
		return
	}
	req := pl.req
	req.HTTPRequest = r
	req.Now = saml.TimeNow()
	if err := makeAssertion(req, who); err != nil {
		http.Error(w, "could not sign the assertion: "+err.Error(), http.StatusInternalServerError)
		return
	}
	p.notes.add("signed %s in to %s", who.Email, req.ServiceProviderMetadata.EntityID)
	if err := req.WriteResponse(w); err != nil {
		http.Error(w, "could not answer: "+err.Error(), http.StatusInternalServerError)
	}
}

// makeAssertion is crewjam's assertion for who, with Okta's usual
// attributes only, valid for a few minutes from now.
func makeAssertion(req *saml.IdpAuthnRequest, who *Person) error {
	now := req.Now
	session := &saml.Session{
		ID: "session-" + fmt.Sprint(now.UnixNano()), Index: "index-" + fmt.Sprint(now.UnixNano()),
		CreateTime: now, ExpireTime: now.Add(time.Hour),
		NameID: who.Email, NameIDFormat: string(saml.EmailAddressNameIDFormat), UserEmail: who.Email,
	}
	if err := (saml.DefaultAssertionMaker{}).MakeAssertion(req, session); err != nil {
		return err
	}
	attr := func(name string, values ...string) saml.Attribute {
		a := saml.Attribute{Name: name, NameFormat: "urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified"}
		for _, v := range values {
			a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
		}
		return a
	}
	attrs := []saml.Attribute{attr("email", who.Email)}
	if len(who.Groups) > 0 {
		attrs = append(attrs, attr("groups", who.Groups...))
	}
	a := req.Assertion
	a.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	// crewjam counts from the request's IssueInstant; a person may take
	// their time at the picker.
	a.Conditions.NotBefore = now.Add(-time.Minute)
	a.Conditions.NotOnOrAfter = now.Add(5 * time.Minute)
	for i := range a.Subject.SubjectConfirmations {
		a.Subject.SubjectConfirmations[i].SubjectConfirmationData.NotOnOrAfter = now.Add(5 * time.Minute)
	}
	return nil
}

// idpSPs are the service providers the IdP trusts.
type idpSPs CompanyIdP

func (p *idpSPs) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	ed, ok := p.sps[id]
	if !ok {
		return nil, os.ErrNotExist
	}
	return ed, nil
}

// noSessions is the session provider of crewjam's own handlers, which
// the IdP does not use: sign-ins go through the picker.
type noSessions struct{}

func (noSessions) GetSession(w http.ResponseWriter, _ *http.Request, _ *saml.IdpAuthnRequest) *saml.Session {
	http.Error(w, "start the sign-in from the app", http.StatusBadRequest)
	return nil
}

// crewLog passes crewjam's log lines to slog, as warnings: crewjam logs
// only what went wrong. It never calls the Fatal and Panic kinds; should
// it, the line is logged and the request goes on, rather than the demo
// ending.
type crewLog struct{ log *slog.Logger }

func (l crewLog) warn(msg string) { l.log.Warn("company IdP: " + msg) }

func (l crewLog) Printf(f string, v ...any) { l.warn(fmt.Sprintf(f, v...)) }
func (l crewLog) Print(v ...any)            { l.warn(fmt.Sprint(v...)) }
func (l crewLog) Println(v ...any)          { l.warn(fmt.Sprint(v...)) }
func (l crewLog) Fatal(v ...any)            { l.warn(fmt.Sprint(v...)) }
func (l crewLog) Fatalf(f string, v ...any) { l.warn(fmt.Sprintf(f, v...)) }
func (l crewLog) Fatalln(v ...any)          { l.warn(fmt.Sprint(v...)) }
func (l crewLog) Panic(v ...any)            { l.warn(fmt.Sprint(v...)) }
func (l crewLog) Panicf(f string, v ...any) { l.warn(fmt.Sprintf(f, v...)) }
func (l crewLog) Panicln(v ...any)          { l.warn(fmt.Sprint(v...)) }

const idpPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Company sign-in (simulated)</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>Company sign-in (simulated)</h1>
<p>A stand-in for the company's IdP (Okta or Entra ID). {{.SP}} asks who you are.
Everyone here is made up, so there is no password: pick a person.</p>
{{range .People}}<form method="post" action="/login" style="margin: 0.4em 0">
<input type="hidden" name="login" value="{{$.ID}}"><input type="hidden" name="email" value="{{.Email}}">
<button>{{.Name}}</button> {{.Email}}{{with .Groups}} ({{range $i, $g := .}}{{if $i}}, {{end}}{{$g}}{{end}}){{end}}
</form>
{{end}}
</body></html>
`
