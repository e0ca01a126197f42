package samlsp_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/crewjam/saml"

	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

func TestConfigErrors(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "scimbridge.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	idp := samltest.NewIdP(t)
	app := samltest.NewJITApp(t, idp.Metadata(), samltest.JITAppOptions{})
	spKey, idpKey := samltest.NewKeyPair(t, "sp"), samltest.NewKeyPair(t, "idp")
	noACS := strings.ReplaceAll(string(app.Metadata()), saml.HTTPPostBinding, "urn:example:binding")
	good := func() samlsp.Config {
		return samlsp.Config{
			BaseURL: "https://scimbridge.example.com", SPKey: spKey, IdPKey: idpKey,
			UpstreamMetadata: idp.Metadata(),
			Apps:             []samlsp.AppConfig{{Name: "sixsense", SPMetadata: app.Metadata()}},
		}
	}
	if _, err := samlsp.New(ctx, db, good(), samltest.NewDirectory(), nil); err != nil {
		t.Fatalf("the good config: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*samlsp.Config)
		want   string
	}{
		{"no base URL", func(c *samlsp.Config) { c.BaseURL = "" }, "base URL is missing"},
		{"relative base URL", func(c *samlsp.Config) { c.BaseURL = "scimbridge.example.com" }, "absolute http or https"},
		{"base URL with a path", func(c *samlsp.Config) { c.BaseURL = "https://x.example/sso" }, "no path"},
		{"no SP key", func(c *samlsp.Config) { c.SPKey = samlsp.KeyPair{} }, "SP key pair is missing"},
		{"no IdP key", func(c *samlsp.Config) { c.IdPKey = samlsp.KeyPair{} }, "IdP key pair is missing"},
		{"one key for both roles", func(c *samlsp.Config) { c.IdPKey = c.SPKey }, "key of its own"},
		{"mismatched certificate", func(c *samlsp.Config) { c.IdPKey.Cert = spKey.Cert }, "not for the IdP key"},
		{"no upstream metadata", func(c *samlsp.Config) { c.UpstreamMetadata = nil }, "upstream IdP metadata is missing"},
		{"upstream metadata not XML", func(c *samlsp.Config) { c.UpstreamMetadata = []byte("{}") }, "not valid SAML metadata"},
		{"upstream metadata of an SP", func(c *samlsp.Config) { c.UpstreamMetadata = app.Metadata() }, "no IDPSSODescriptor"},
		{"app without metadata", func(c *samlsp.Config) { c.Apps[0].SPMetadata = nil }, "app sixsense: the SP metadata is missing"},
		{"app metadata of an IdP", func(c *samlsp.Config) { c.Apps[0].SPMetadata = idp.Metadata() }, "no SPSSODescriptor"},
		{"app without a POST ACS", func(c *samlsp.Config) { c.Apps[0].SPMetadata = []byte(noACS) }, "no HTTP-POST AssertionConsumerService"},
		{"app named badly", func(c *samlsp.Config) { c.Apps[0].Name = "Six Sense" }, "app name"},
		{"app twice", func(c *samlsp.Config) { c.Apps = append(c.Apps, c.Apps[0]) }, "configured twice"},
		{"unknown NameID", func(c *samlsp.Config) { c.Apps[0].NameID = "employeeNumber" }, "NameID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := good()
			tc.change(&cfg)
			_, err := samlsp.New(ctx, db, cfg, samltest.NewDirectory(), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
}
