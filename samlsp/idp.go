package samlsp

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/crewjam/saml"
	dsig "github.com/russellhaering/goxmldsig"
)

// app is one just-in-time app and scimbridge's IdP for it. Each app gets
// its own IdP entity (its own metadata and SSO URLs) so that apps never
// accept each other's assertions; all share the IdP key.
type app struct {
	cfg AppConfig
	sp  appSP
	idp *saml.IdentityProvider
}

func newApp(base *url.URL, cfg AppConfig, key KeyPair) (*app, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	sp, err := parseAppMetadata(cfg.Name, cfg.SPMetadata)
	if err != nil {
		return nil, err
	}
	a := &app{cfg: cfg, sp: sp}
	a.idp = &saml.IdentityProvider{
		Key:                     key.Key,
		Signer:                  key.Key,
		Certificate:             key.Cert,
		Logger:                  discardLogger{},
		MetadataURL:             *base.ResolveReference(&url.URL{Path: appPath(cfg.Name, "metadata")}),
		SSOURL:                  *base.ResolveReference(&url.URL{Path: appPath(cfg.Name, "sso")}),
		ServiceProviderProvider: a,
		AssertionMaker:          appAssertionMaker{app: cfg},
		// crewjam signs with RSA-SHA1 by default.
		SignatureMethod: dsig.RSASHA256SignatureMethod,
	}
	return a, nil
}

func appPath(name, endpoint string) string { return "/apps/" + name + "/saml/" + endpoint }

// GetServiceProvider knows the app's own SP only.
func (a *app) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if id != a.sp.meta.EntityID {
		return nil, os.ErrNotExist
	}
	return a.sp.meta, nil
}

// metadata is the IdP metadata an admin gives the app. It stays valid as
// long as the certificate: it is uploaded by hand, not refreshed.
func (a *app) metadata() ([]byte, error) {
	ed := a.idp.Metadata()
	ed.ValidUntil = a.idp.Certificate.NotAfter.UTC()
	ed.CacheDuration = 24 * time.Hour
	for i := range ed.IDPSSODescriptors {
		ed.IDPSSODescriptors[i].NameIDFormats = []saml.NameIDFormat{saml.NameIDFormat(a.cfg.NameIDFormat)}
	}
	b, err := xml.MarshalIndent(ed, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("app %s: encode IdP metadata: %w", a.cfg.Name, err)
	}
	return append([]byte(xml.Header), b...), nil
}

// discardLogger silences crewjam's IdP logger, which would print request
// details with the standard log package.
type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Print(...interface{})          {}
func (discardLogger) Println(...interface{})        {}
func (discardLogger) Fatal(...interface{})          {}
func (discardLogger) Fatalf(string, ...interface{}) {}
func (discardLogger) Fatalln(...interface{})        {}
func (discardLogger) Panic(...interface{})          {}
func (discardLogger) Panicf(string, ...interface{}) {}
func (discardLogger) Panicln(...interface{})        {}
