package samlsp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"time"

	"github.com/crewjam/saml"
)

// Config is what New needs. Keys are loaded by the caller (LoadKeyPair);
// metadata is pinned bytes, never fetched, so that trust in a peer comes
// from configuration and not from the network.
type Config struct {
	// BaseURL is scimbridge's public URL, e.g. https://scimbridge.example.com.
	// Every SAML URL derives from it, so it must be what browsers use.
	BaseURL string
	// SPKey signs towards the upstream IdP (and the request-tracker
	// cookies); IdPKey signs the assertions that proxied apps trust. They
	// must differ: the IdP key can impersonate anyone in every app.
	SPKey  KeyPair
	IdPKey KeyPair
	// UpstreamMetadata is the metadata XML of the company IdP (Okta, Entra).
	UpstreamMetadata []byte
	// EmailAttribute and GroupsAttribute name the upstream attributes that
	// carry the person's email and groups (default "email" and "groups",
	// Okta's usual names; Entra sends claim URIs).
	EmailAttribute  string
	GroupsAttribute string
	// SignAuthnRequests signs upstream AuthnRequests (RSA-SHA256), for IdPs
	// configured to require it.
	SignAuthnRequests bool
	// SessionTTL is how long an upstream sign-in lasts (default 8h, less if
	// the IdP sets SessionNotOnOrAfter).
	SessionTTL time.Duration
	// RequestTTL is how long a pending sign-in may take, both ours towards
	// the upstream IdP and an app's request parked during it (default 10
	// min): MFA and password resets take longer than crewjam's 90 s.
	RequestTTL time.Duration
	// SimulateTimeout bounds one simulated login's HTTP call (default 15 s).
	SimulateTimeout time.Duration
	// HTTPClient, when set, is the base of the client for simulated logins
	// (for its transport or proxy); its redirect policy and timeout are
	// replaced.
	HTTPClient *http.Client
	// Apps are the just-in-time apps that trust scimbridge as their IdP.
	Apps []AppConfig
}

// AppConfig is one app that trusts scimbridge as its IdP.
type AppConfig struct {
	// Name is the app's name in scimbridge and in its URLs
	// (/apps/{Name}/saml/...): lower-case letters, digits and dashes.
	Name string
	// SPMetadata is the app's SP metadata XML; it names the app's entity
	// ID and its assertion consumer service.
	SPMetadata []byte
	// NameID says what the app knows users by: NameIDEmail (default) or
	// NameIDUserName. It must be what the app got before scimbridge stood
	// in front of it, or the app creates duplicate users.
	NameID string
	// NameIDFormat is the format URI sent with the NameID (default: the
	// emailAddress format for NameIDEmail, unspecified for NameIDUserName).
	NameIDFormat string
	// Attribute names in the assertion (defaults "email", "firstName",
	// "lastName").
	EmailAttribute      string
	GivenNameAttribute  string
	FamilyNameAttribute string
	// RoleAttribute, if set, carries the user's desired roles, for apps
	// that map a SAML attribute to a role at login.
	RoleAttribute string
}

// What AppConfig.NameID may say.
const (
	NameIDEmail    = "email"
	NameIDUserName = "userName"
)

const (
	defaultSessionTTL      = 8 * time.Hour
	defaultRequestTTL      = 10 * time.Minute
	defaultSimulateTimeout = 15 * time.Second
)

var appNamePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// withDefaults returns cfg with its empty fields filled in.
func (cfg Config) withDefaults() Config {
	if cfg.EmailAttribute == "" {
		cfg.EmailAttribute = "email"
	}
	if cfg.GroupsAttribute == "" {
		cfg.GroupsAttribute = "groups"
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = defaultSessionTTL
	}
	if cfg.RequestTTL == 0 {
		cfg.RequestTTL = defaultRequestTTL
	}
	if cfg.SimulateTimeout == 0 {
		cfg.SimulateTimeout = defaultSimulateTimeout
	}
	apps := make([]AppConfig, len(cfg.Apps))
	for i, a := range cfg.Apps {
		apps[i] = a.withDefaults()
	}
	cfg.Apps = apps
	return cfg
}

func (a AppConfig) withDefaults() AppConfig {
	if a.NameID == "" {
		a.NameID = NameIDEmail
	}
	if a.NameIDFormat == "" {
		a.NameIDFormat = string(saml.UnspecifiedNameIDFormat)
		if a.NameID == NameIDEmail {
			a.NameIDFormat = string(saml.EmailAddressNameIDFormat)
		}
	}
	if a.EmailAttribute == "" {
		a.EmailAttribute = "email"
	}
	if a.GivenNameAttribute == "" {
		a.GivenNameAttribute = "firstName"
	}
	if a.FamilyNameAttribute == "" {
		a.FamilyNameAttribute = "lastName"
	}
	return a
}

// parseBaseURL checks the public URL: absolute http(s), no path, query or
// fragment, since scimbridge's routes are fixed at the root.
func parseBaseURL(s string) (*url.URL, error) {
	if s == "" {
		return nil, errors.New("the base URL is missing")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("the base URL %q: %w", s, err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the base URL %q must be an absolute http or https URL", s)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("the base URL %q must have no path, query, fragment or user info", s)
	}
	return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}, nil
}

// checkKeys refuses missing or shared keys.
func (cfg Config) checkKeys() error {
	if cfg.SPKey.Key == nil || cfg.SPKey.Cert == nil {
		return errors.New("the SP key pair is missing")
	}
	if cfg.IdPKey.Key == nil || cfg.IdPKey.Cert == nil {
		return errors.New("the IdP key pair is missing")
	}
	if cfg.SPKey.Key.Equal(cfg.IdPKey.Key) {
		return errors.New("the SP and IdP key pairs are the same key; the IdP role needs a key of its own")
	}
	for _, kp := range []struct {
		role string
		kp   KeyPair
	}{{"SP", cfg.SPKey}, {"IdP", cfg.IdPKey}} {
		if !kp.kp.Key.PublicKey.Equal(kp.kp.Cert.PublicKey) {
			return fmt.Errorf("the %s certificate is not for the %s key", kp.role, kp.role)
		}
	}
	return nil
}

// checkApp checks one app's settings other than its metadata.
func (a AppConfig) check() error {
	if !appNamePattern.MatchString(a.Name) {
		return fmt.Errorf("app name %q: use 1 to 63 lower-case letters, digits and dashes, starting with a letter or digit", a.Name)
	}
	if a.NameID != NameIDEmail && a.NameID != NameIDUserName {
		return fmt.Errorf("app %s: NameID %q: use %q or %q", a.Name, a.NameID, NameIDEmail, NameIDUserName)
	}
	if len(a.SPMetadata) == 0 {
		return fmt.Errorf("app %s: the SP metadata is missing", a.Name)
	}
	return nil
}
