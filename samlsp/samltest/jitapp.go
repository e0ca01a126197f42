package samltest

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"
	"github.com/crewjam/saml/xmlenc"
)

// JITAppOptions shape a JITApp.
type JITAppOptions struct {
	// Name tells apps apart in cookie names (default "app").
	Name string
	// DefaultRole is a new user's role (default "Insight User").
	DefaultRole string
	// RoleAttribute, if set, is the SAML attribute whose first value, when
	// present, sets the user's role at each login.
	RoleAttribute string
	// Binding of the app's AuthnRequest: saml.HTTPPostBinding (default) or
	// saml.HTTPRedirectBinding.
	Binding string
}

// JITUser is a user the app created at a first login.
type JITUser struct {
	NameID  string    `json:"nameID"`
	Email   string    `json:"email"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	Logins  int       `json:"logins"`
}

// JITApp is a SaaS app that knows users only through SAML, like 6sense:
// a crewjam SP that creates a user at its first valid login. It accepts
// IdP-initiated responses (for simulated logins), tracks its own pending
// requests for 10 minutes, and can be told to refuse new users or to fail.
//
// Routes: /saml/metadata, /saml/acs, /app (requires login), /users (JSON).
type JITApp struct {
	URL  string
	srv  *httptest.Server
	opts JITAppOptions
	mw   *crewsp.Middleware
	key  *rsa.PrivateKey

	mu            sync.Mutex
	users         map[string]*JITUser
	refuseStatus  int
	refuseMessage string
	failStatus    int
	lastAssertion string
	assertions    []*saml.Assertion
}

// refusal is how the app turns down a login.
type refusal struct {
	status  int
	message string
}

func (r refusal) Error() string { return r.message }

// NewJITApp starts an app that trusts the IdP with idpMetadata; nil is
// allowed when the IdP needs the app's metadata first: call SetIdPMetadata
// before any sign-in.
func NewJITApp(t testing.TB, idpMetadata []byte, opts JITAppOptions) *JITApp {
	t.Helper()
	if opts.Name == "" {
		opts.Name = "app"
	}
	if opts.DefaultRole == "" {
		opts.DefaultRole = "Insight User"
	}
	if opts.Binding == "" {
		opts.Binding = saml.HTTPPostBinding
	}
	srv, setHandler := NewLateServer(t)
	base, _ := url.Parse(srv.URL + "/")
	kp := NewKeyPair(t, "jit app "+opts.Name)
	cookieOpts := crewsp.Options{
		URL:               *base,
		Key:               kp.Key,
		Certificate:       kp.Cert,
		AllowIDPInitiated: true,
		CookieName:        "jit_" + opts.Name + "_session",
	}
	mw, err := crewsp.New(cookieOpts)
	if err != nil {
		t.Fatalf("jit app: %v", err)
	}
	mw.Binding = opts.Binding
	// crewjam's 90 s tracker is too short when the app's IdP is a proxy
	// that signs the person in upstream first.
	codec := crewsp.DefaultTrackedRequestCodec(cookieOpts)
	codec.MaxAge = 10 * time.Minute
	tracker := crewsp.DefaultRequestTracker(cookieOpts, &mw.ServiceProvider)
	tracker.Codec, tracker.MaxAge = codec, 10*time.Minute
	tracker.NamePrefix = "jit_" + opts.Name + "_saml_"
	mw.RequestTracker = tracker
	a := &JITApp{URL: srv.URL, srv: srv, opts: opts, mw: mw, key: kp.Key, users: map[string]*JITUser{}}
	mw.AssertionHandler = a
	mw.OnError = a.onError
	if idpMetadata != nil {
		if err := a.SetIdPMetadata(idpMetadata); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml/metadata", mw.ServeMetadata)
	mux.HandleFunc("POST /saml/acs", a.serveACS)
	mux.Handle("GET /app", mw.RequireAccount(http.HandlerFunc(a.serveApp)))
	mux.HandleFunc("GET /users", a.serveUsers)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, "home") })
	setHandler(mux)
	return a
}

// SetIdPMetadata sets the IdP the app trusts. Call it before sign-ins.
func (a *JITApp) SetIdPMetadata(metadata []byte) error {
	ed, err := crewsp.ParseMetadata(metadata)
	if err != nil {
		return fmt.Errorf("jit app: IdP metadata: %w", err)
	}
	a.mw.ServiceProvider.IDPMetadata = ed
	return nil
}

// Metadata is the app's SP metadata XML.
func (a *JITApp) Metadata() []byte {
	b, err := xml.MarshalIndent(a.mw.ServiceProvider.Metadata(), "", "  ")
	if err != nil {
		panic(err) // a struct of strings always encodes
	}
	return b
}

// AppURL is the page that requires login.
func (a *JITApp) AppURL() string { return a.URL + "/app" }

// ACSURL is where assertions go.
func (a *JITApp) ACSURL() string { return a.URL + "/saml/acs" }

// RefuseNewUsers makes logins of unknown users fail with status and
// message (status 0 accepts them again); known users still get in.
func (a *JITApp) RefuseNewUsers(status int, message string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.refuseStatus, a.refuseMessage = status, message
}

// FailWith makes the ACS answer status to everything (0: work again).
func (a *JITApp) FailWith(status int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.failStatus = status
}

// Users lists the app's users by NameID.
func (a *JITApp) Users() []JITUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]JITUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, *u)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NameID < out[j].NameID })
	return out
}

// Assertions are the assertions the app accepted, in order.
func (a *JITApp) Assertions() []*saml.Assertion {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]*saml.Assertion(nil), a.assertions...)
}

// LastAssertionXML is the last assertion the app received, decrypted,
// as XML (signature included), whether or not it was accepted.
func (a *JITApp) LastAssertionXML() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.lastAssertion
}

// HandleAssertion is the app's just-in-time provisioning.
func (a *JITApp) HandleAssertion(as *saml.Assertion) error {
	if as.Subject == nil || as.Subject.NameID == nil || as.Subject.NameID.Value == "" {
		return refusal{http.StatusForbidden, "no NameID"}
	}
	nameID := as.Subject.NameID.Value
	attr := func(name string) string {
		for _, st := range as.AttributeStatements {
			for _, at := range st.Attributes {
				if at.Name == name && len(at.Values) > 0 {
					return at.Values[0].Value
				}
			}
		}
		return ""
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[nameID]
	if !ok {
		if a.refuseStatus != 0 {
			return refusal{a.refuseStatus, a.refuseMessage}
		}
		u = &JITUser{NameID: nameID, Role: a.opts.DefaultRole, Created: saml.TimeNow()}
		a.users[nameID] = u
	}
	if e := attr("email"); e != "" {
		u.Email = e
	}
	if a.opts.RoleAttribute != "" {
		if r := attr(a.opts.RoleAttribute); r != "" {
			u.Role = r
		}
	}
	u.Logins++
	a.assertions = append(a.assertions, as)
	return nil
}

func (a *JITApp) onError(w http.ResponseWriter, _ *http.Request, err error) {
	var r refusal
	if errors.As(err, &r) {
		http.Error(w, r.message, r.status)
		return
	}
	http.Error(w, "Forbidden", http.StatusForbidden)
}

func (a *JITApp) serveACS(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	fail := a.failStatus
	a.mu.Unlock()
	if fail != 0 {
		http.Error(w, http.StatusText(fail), fail)
		return
	}
	if err := r.ParseForm(); err == nil {
		if x, err := a.assertionXML(r.PostForm.Get("SAMLResponse")); err == nil {
			a.mu.Lock()
			a.lastAssertion = x
			a.mu.Unlock()
		}
	}
	a.mw.ServeACS(w, r)
}

// assertionXML extracts the (decrypted) assertion of a response.
func (a *JITApp) assertionXML(encoded string) (string, error) {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return "", err
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return "", err
	}
	if el := doc.FindElement("//Assertion"); el != nil {
		d := etree.NewDocument()
		d.SetRoot(el.Copy())
		return d.WriteToString()
	}
	enc := doc.FindElement("//EncryptedAssertion/EncryptedData")
	if enc == nil {
		return "", errors.New("no assertion")
	}
	var key any = a.key
	if k := doc.FindElement("//EncryptedAssertion/EncryptedKey"); k != nil {
		if key, err = xmlenc.Decrypt(a.key, k); err != nil {
			return "", err
		}
	}
	plain, err := xmlenc.Decrypt(key, enc)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

func (a *JITApp) serveApp(w http.ResponseWriter, r *http.Request) {
	s, ok := crewsp.SessionFromContext(r.Context()).(crewsp.JWTSessionClaims)
	if !ok {
		http.Error(w, "no session", http.StatusInternalServerError)
		return
	}
	a.mu.Lock()
	role := ""
	if u := a.users[s.Subject]; u != nil {
		role = u.Role
	}
	a.mu.Unlock()
	fmt.Fprintf(w, "app %s: user=%s role=%s", a.opts.Name, s.Subject, role)
}

func (a *JITApp) serveUsers(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.Users())
}

// Close stops the app's server, as if it were down.
func (a *JITApp) Close() { a.srv.Close() }
