package samlsp_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

const appName = "sixsense"

// rig is scimbridge's SAML service between an upstream IdP and one JIT
// app, all on httptest servers, with a real SQLite database.
type rig struct {
	t    *testing.T
	ctx  context.Context
	url  string
	idp  *samltest.IdP
	app  *samltest.JITApp
	dir  *samltest.Directory
	svc  *samlsp.Service
	db   *sqlite.DB
	logs *logBuffer
	cfg  samlsp.Config
}

type rigOptions struct {
	app        samlsp.AppConfig // Name and SPMetadata are filled in
	appOptions samltest.JITAppOptions
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, ctx: ctx, idp: samltest.NewIdP(t), dir: samltest.NewDirectory(), logs: &logBuffer{}}
	srv, setHandler := samltest.NewLateServer(t)
	r.url = srv.URL
	o.appOptions.Name = appName
	r.app = samltest.NewJITApp(t, nil, o.appOptions)
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r.db = db
	o.app.Name = appName
	o.app.SPMetadata = r.app.Metadata()
	r.cfg = samlsp.Config{
		BaseURL:          srv.URL,
		SPKey:            samltest.NewKeyPair(t, "scimbridge sp"),
		IdPKey:           samltest.NewKeyPair(t, "scimbridge idp"),
		UpstreamMetadata: r.idp.Metadata(),
		Apps:             []samlsp.AppConfig{o.app},
	}
	logger := slog.New(slog.NewTextHandler(r.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	r.svc, err = samlsp.New(ctx, db, r.cfg, r.dir, logger)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	r.svc.Register(mux)
	mux.Handle("GET /console/", r.svc.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		s, ok := samlsp.SessionFrom(req.Context())
		if !ok {
			http.Error(w, "no session", http.StatusInternalServerError)
			return
		}
		fmt.Fprintf(w, "console %s subject=%s email=%s groups=%d", req.URL.RequestURI(), s.Subject, s.Email, len(s.Groups))
	})))
	setHandler(mux)
	spMeta, err := r.svc.SPMetadata()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.idp.RegisterSP(spMeta); err != nil {
		t.Fatal(err)
	}
	appIdP, err := r.svc.AppIdPMetadata(appName)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.app.SetIdPMetadata(appIdP); err != nil {
		t.Fatal(err)
	}
	return r
}

var alice = samltest.IdPUser{NameID: "alice@example.com", Email: "alice@example.com", Groups: []string{"sales"}}

// follow submits forms from p on while stop(page) is false, at most 12.
func follow(t *testing.T, b *samltest.Browser, p *samltest.Page, stop func(*samltest.Page) bool) *samltest.Page {
	t.Helper()
	for i := 0; i < 12; i++ {
		if stop != nil && stop(p) {
			return p
		}
		if _, ok := p.Form(); !ok || p.Status != http.StatusOK {
			return p
		}
		next, err := b.Submit(p, nil)
		if err != nil {
			t.Fatal(err)
		}
		p = next
	}
	t.Fatalf("too many forms; at %s", p.URL)
	return nil
}

func get(t *testing.T, b *samltest.Browser, url string) *samltest.Page {
	t.Helper()
	p, err := b.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// atIdPLogin is true on the upstream IdP's login form.
func (r *rig) atIdPLogin(p *samltest.Page) bool {
	return strings.HasPrefix(p.URL.String(), r.idp.URL) && strings.Contains(p.Body, "<h1>Sign in</h1>")
}

// atIdPResponse is true on the IdP's page that posts a SAMLResponse.
func atResponse(p *samltest.Page) bool {
	f, ok := p.Form()
	return ok && f.Values.Get("SAMLResponse") != ""
}

// checkLogsClean fails if the logs hold any of secrets.
func (r *rig) checkLogsClean(secrets ...string) {
	r.t.Helper()
	logs := r.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			r.t.Errorf("the logs contain %.40q…:\n%s", s, logs)
		}
	}
}

// logBuffer collects log output from handler goroutines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
