package config

import (
	"bytes"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// SAML configures scimbridge's place in the SSO path: the keys it signs
// with and the company IdP it trusts. Files are relative to the config
// file's directory; keys are made by "scimbridge saml keygen".
type SAML struct {
	SPKeyFile   string `yaml:"sp_key_file"`
	SPCertFile  string `yaml:"sp_cert_file"`
	IdPKeyFile  string `yaml:"idp_key_file"`
	IdPCertFile string `yaml:"idp_cert_file"`
	// UpstreamMetadataFile is the company IdP's SAML metadata, saved from
	// Okta or Entra: trust comes from this file, never from the network.
	UpstreamMetadataFile string `yaml:"upstream_metadata_file"`
	EmailAttribute       string `yaml:"email_attribute"`
	GroupsAttribute      string `yaml:"groups_attribute"`
	SignAuthnRequests    bool   `yaml:"sign_authn_requests"`
}

// AppSAML makes scimbridge the SAML IdP of a just-in-time app.
type AppSAML struct {
	// SPMetadataFile is the app's SAML service-provider metadata.
	SPMetadataFile string `yaml:"sp_metadata_file"`
	// NameID is what the app knows users by: email (default) or userName.
	NameID       string `yaml:"name_id"`
	NameIDFormat string `yaml:"name_id_format"`
	// RoleAttribute, when the app maps a SAML attribute to its role.
	RoleAttribute       string `yaml:"role_attribute"`
	EmailAttribute      string `yaml:"email_attribute"`
	GivenNameAttribute  string `yaml:"given_name_attribute"`
	FamilyNameAttribute string `yaml:"family_name_attribute"`
}

// OktaHook receives Okta's event hook of SSO logins. Its shared secret is
// read from a file or the environment when the server starts.
type OktaHook struct {
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
}

// File resolves a file name of the configuration against its directory.
func (c *Config) File(name string) string {
	if name == "" || filepath.IsAbs(name) {
		return name
	}
	return filepath.Join(filepath.Dir(c.Path), name)
}

// checkSSO checks the SAML settings, the per-app SSO settings and the
// Okta hook.
func (c *Config) checkSSO(w where) error {
	if s := c.SAML; s != nil {
		for _, f := range []struct{ key, val string }{
			{"sp_key_file", s.SPKeyFile}, {"sp_cert_file", s.SPCertFile},
			{"idp_key_file", s.IdPKeyFile}, {"idp_cert_file", s.IdPCertFile},
			{"upstream_metadata_file", s.UpstreamMetadataFile},
		} {
			if strings.TrimSpace(f.val) == "" {
				return c.errorf(w.key("saml"), "saml.%s is required (create keys with: scimbridge saml keygen -out DIR)", f.key)
			}
		}
		u, err := url.Parse(c.PublicURL)
		if err == nil && u.Path != "" && u.Path != "/" {
			return c.errorf(w.key("public_url"), "public_url: SAML needs scimbridge at the root of its host, without the path %q", u.Path)
		}
	}
	for i, a := range c.Apps {
		if a.SAML == nil {
			continue
		}
		if c.SAML == nil {
			return c.errorf(w.app(i, "saml"), "app %q: saml needs the top-level saml settings (keys and the company IdP's metadata)", a.Name)
		}
		if strings.TrimSpace(a.SAML.SPMetadataFile) == "" {
			return c.errorf(w.setting(i, []string{"saml"}), "app %q: saml.sp_metadata_file is required: the app's SAML metadata", a.Name)
		}
		switch a.SAML.NameID {
		case "", "email", "userName":
		default:
			return c.errorf(w.setting(i, []string{"saml", "name_id"}), "app %q: saml.name_id: %q is neither email nor userName", a.Name, a.SAML.NameID)
		}
	}
	for i, a := range c.Apps {
		if a.Profile.SimulateLogin && a.SAML == nil {
			return c.errorf(w.app(i, "simulate_login"), "app %q: simulate_login needs the app's saml settings: scimbridge signs the login as the app's IdP", a.Name)
		}
	}
	if h := c.OktaHook; h != nil {
		if (h.SecretFile == "") == (h.SecretEnv == "") {
			return c.errorf(w.key("okta_hook"), "okta_hook: give exactly one of secret_file or secret_env")
		}
		mapped := false
		for _, a := range c.Apps {
			mapped = mapped || a.OktaApp != ""
		}
		if !mapped {
			return c.errorf(w.key("okta_hook"), "okta_hook: no app has okta_app, the Okta app id or label whose logins it reports")
		}
	}
	for i, a := range c.Apps {
		if a.OktaApp != "" && c.OktaHook == nil {
			return c.errorf(w.app(i, "okta_app"), "app %q: okta_app needs the top-level okta_hook settings", a.Name)
		}
	}
	return nil
}

// ReadOktaHookSecret reads the Okta hook's secret from its file or
// environment variable.
func (c *Config) ReadOktaHookSecret(getenv func(string) string) (string, error) {
	v, err := c.readSecret(getenv, c.OktaHook.SecretEnv, c.OktaHook.SecretFile)
	if err != nil {
		return "", fmt.Errorf("%s: okta_hook: %w", c.Path, err)
	}
	return v, nil
}

// readSecret reads a secret from the environment variable env or, when
// env is empty, from file (relative to the config file); the error names
// where, never what.
func (c *Config) readSecret(getenv func(string) string, env, file string) (string, error) {
	if env != "" {
		v := strings.TrimSpace(getenv(env))
		if v == "" {
			return "", fmt.Errorf("the environment variable %s is not set or empty", env)
		}
		return v, nil
	}
	b, err := os.ReadFile(c.File(file))
	if err != nil {
		return "", fmt.Errorf("secret file: %w", err)
	}
	if b = bytes.TrimSpace(b); len(b) == 0 {
		return "", fmt.Errorf("secret file %s is empty", c.File(file))
	}
	return string(b), nil
}
