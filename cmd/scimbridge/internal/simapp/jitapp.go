package simapp

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"

	"github.com/scimbridge/scimbridge/samlsp"
)

// JITApp is a 6sense-like app that knows users only through SAML: it
// trusts one IdP and creates a user, with its default role, at their
// first valid login. It accepts IdP-initiated logins, which is how
// scimbridge's simulated first logins arrive, and SP-initiated ones,
// which is how a person signs in through scimbridge's SSO proxy.
type JITApp struct {
	srv   *server
	label string
	role  string
	mw    *crewsp.Middleware
	page  *template.Template
	notes notes

	mu    sync.Mutex
	users map[string]*JITUser // by NameID
}

// JITUser is a user the app created at a first login.
type JITUser struct {
	NameID  string    `json:"nameID"`
	Email   string    `json:"email"`
	Role    string    `json:"role"`
	Created time.Time `json:"created"`
	Logins  int       `json:"logins"`
}

// refusal is the app turning a login down, in its own words.
type refusal struct{ msg string }

func (r refusal) Error() string { return r.msg }

// jitRequestTTL is how long a sign-in the app started may take at the
// IdP. crewjam's 90 s is too short when the IdP is a proxy that signs the
// person in at the company IdP first.
const jitRequestTTL = 10 * time.Minute

// NewJITApp starts an app called label (for people) on 127.0.0.1 whose
// new users get role. It answers 503 until Trust names its IdP. name
// (lower-case letters and digits) keeps its cookies apart from other
// apps on the same host.
func NewJITApp(name, label, role string) (*JITApp, error) {
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789") != "" {
		return nil, fmt.Errorf("JIT app: name %q: use lower-case letters and digits", name)
	}
	if role == "" {
		return nil, fmt.Errorf("JIT app %s: the default role is empty", name)
	}
	page, err := template.New("jit").Parse(jitPage)
	if err != nil {
		return nil, fmt.Errorf("JIT app %s: %w", name, err)
	}
	kp, err := newKeyPair(label + " (simulated)")
	if err != nil {
		return nil, fmt.Errorf("JIT app %s: %w", name, err)
	}
	srv, err := listen()
	if err != nil {
		return nil, fmt.Errorf("JIT app %s: %w", name, err)
	}
	base, err := url.Parse(srv.url + "/")
	if err != nil {
		srv.close(context.Background())
		return nil, fmt.Errorf("JIT app %s: %w", name, err)
	}
	opts := crewsp.Options{
		URL:               *base,
		Key:               kp.Key,
		Certificate:       kp.Cert,
		AllowIDPInitiated: true,
		CookieName:        "sim_" + name + "_session",
	}
	mw, err := crewsp.New(opts)
	if err != nil {
		srv.close(context.Background())
		return nil, fmt.Errorf("JIT app %s: %w", name, err)
	}
	mw.Binding = saml.HTTPPostBinding
	codec := crewsp.DefaultTrackedRequestCodec(opts)
	codec.MaxAge = jitRequestTTL
	tracker := crewsp.DefaultRequestTracker(opts, &mw.ServiceProvider)
	tracker.Codec, tracker.MaxAge = codec, jitRequestTTL
	tracker.NamePrefix = "sim_" + name + "_saml_"
	mw.RequestTracker = tracker
	a := &JITApp{srv: srv, label: label, role: role, mw: mw, page: page, users: map[string]*JITUser{}}
	mw.AssertionHandler = a
	mw.OnError = a.onError
	return a, nil
}

// URL is where the app answers.
func (a *JITApp) URL() string { return a.srv.url }

// Metadata is the app's SAML service-provider metadata, to give to the
// IdP it trusts.
func (a *JITApp) Metadata() ([]byte, error) {
	b, err := xml.MarshalIndent(a.mw.ServiceProvider.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("%s metadata: %w", a.label, err)
	}
	return b, nil
}

// Trust makes the app trust the IdP with this metadata and start
// answering. Call it once, before anyone signs in.
func (a *JITApp) Trust(idpMetadata []byte) error {
	if a.srv.handler.Load() != nil {
		return fmt.Errorf("%s already trusts an IdP", a.label)
	}
	ed, err := crewsp.ParseMetadata(idpMetadata)
	if err != nil {
		return fmt.Errorf("%s: the IdP's metadata: %w", a.label, err)
	}
	a.mw.ServiceProvider.IDPMetadata = ed
	mux := http.NewServeMux()
	mux.HandleFunc("GET /saml/metadata", a.mw.ServeMetadata)
	mux.HandleFunc("POST /saml/acs", a.mw.ServeACS)
	mux.Handle("GET /app", a.mw.RequireAccount(http.HandlerFunc(a.serveApp)))
	mux.HandleFunc("GET /users.json", a.serveUsers)
	mux.HandleFunc("GET /{$}", a.serveHome)
	a.srv.setHandler(mux)
	return nil
}

// Notes returns what the app did since the last call, in words.
func (a *JITApp) Notes() []string { return a.notes.take() }

// Close stops the app.
func (a *JITApp) Close(ctx context.Context) error { return a.srv.close(ctx) }

// Users lists the app's users by NameID.
func (a *JITApp) Users() []JITUser {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make([]JITUser, 0, len(a.users))
	for _, u := range a.users {
		out = append(out, *u)
	}
	slices.SortFunc(out, func(x, y JITUser) int { return strings.Compare(x.NameID, y.NameID) })
	return out
}

// HandleAssertion is the app's just-in-time provisioning: crewjam calls
// it with each assertion that passed its checks.
func (a *JITApp) HandleAssertion(as *saml.Assertion) error {
	if as.Subject == nil || as.Subject.NameID == nil || strings.TrimSpace(as.Subject.NameID.Value) == "" {
		return refusal{"the login names nobody (no NameID)"}
	}
	nameID := as.Subject.NameID.Value
	email := ""
	for _, st := range as.AttributeStatements {
		for _, at := range st.Attributes {
			if at.Name == "email" && len(at.Values) > 0 {
				email = at.Values[0].Value
			}
		}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, ok := a.users[nameID]
	if !ok {
		u = &JITUser{NameID: nameID, Role: a.role, Created: time.Now().UTC()}
		a.users[nameID] = u
		a.notes.add("created %s at their first SSO login, as %s", nameID, a.role)
	} else {
		a.notes.add("%s signed in", nameID)
	}
	if email != "" {
		u.Email = email
	}
	u.Logins++
	return nil
}

// onError answers a login the app turns down, without crewjam's habit of
// logging the whole SAML response.
func (a *JITApp) onError(w http.ResponseWriter, _ *http.Request, err error) {
	var r refusal
	if errors.As(err, &r) {
		http.Error(w, r.msg, http.StatusForbidden)
		return
	}
	a.notes.add("refused a SAML response it could not verify")
	http.Error(w, "Forbidden: the sign-in could not be verified", http.StatusForbidden)
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
	a.render(w, fmt.Sprintf("Signed in to %s as %s, with the role %s.", a.label, s.Subject, role))
}

func (a *JITApp) serveHome(w http.ResponseWriter, _ *http.Request) { a.render(w, "") }

func (a *JITApp) render(w http.ResponseWriter, message string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = a.page.Execute(w, struct {
		Label, Role, Message string
		Users                []JITUser
	}{a.label, a.role, message, a.Users()})
}

func (a *JITApp) serveUsers(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a.Users())
}

const jitPage = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Label}} (simulated)</title></head>
<body style="font-family: sans-serif; max-width: 60em; margin: 2em auto">
<h1>{{.Label}} (simulated)</h1>
{{with .Message}}<p><strong>{{.}}</strong></p>{{end}}
<p>A stand-in for {{.Label}}: it has no user API and knows people only from SAML sign-ins,
creating each at their first one with the role {{.Role}}. It trusts scimbridge as its IdP.
Promotions are made by hand in the real app, as tasks in scimbridge's queue; this stand-in does
not model them, so its users keep the role they were created with.</p>
<p><a href="/app">Sign in through SSO</a>: scimbridge sends you to the company's IdP and lets in
only people the IdP assigned to this app and has not deactivated.</p>
<h2>Settings &gt; User Management</h2>
<table border="1" cellpadding="4" style="border-collapse: collapse">
<tr><th>user</th><th>role</th><th>created</th><th>logins</th></tr>
{{range .Users}}<tr><td>{{.NameID}}</td><td>{{.Role}}</td><td>{{.Created.Format "15:04:05"}}</td><td>{{.Logins}}</td></tr>
{{else}}<tr><td colspan="4">No users yet.</td></tr>{{end}}
</table>
<p>The same as JSON: <a href="/users.json">/users.json</a>.</p>
</body></html>
`

// newKeyPair makes a key pair for a simulated party with scimbridge's own
// key generator.
func newKeyPair(commonName string) (samlsp.KeyPair, error) {
	keyPEM, certPEM, err := samlsp.GenerateKeyPair(commonName, 365*24*time.Hour)
	if err != nil {
		return samlsp.KeyPair{}, err
	}
	return samlsp.ParseKeyPair(keyPEM, certPEM)
}
