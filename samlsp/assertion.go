package samlsp

import (
	"fmt"
	"time"

	"github.com/crewjam/saml"
)

const (
	attrNameFormatBasic = "urn:oasis:names:tc:SAML:2.0:attrname-format:basic"
	// assertionBackdate and assertionLifetime bound the assertions
	// scimbridge mints, anchored on the moment of minting: apps' clocks
	// drift, and the assertion is posted at once.
	assertionBackdate = 2 * time.Minute
	assertionLifetime = 5 * time.Minute
)

// sessionFor is the crewjam session that stands for u towards app c.
func (c AppConfig) sessionFor(u User, authnInstant time.Time) (*saml.Session, error) {
	nameID := u.Email
	if c.NameID == NameIDUserName {
		nameID = u.UserName
	}
	if nameID == "" {
		return nil, fmt.Errorf("app %s: user %s has no %s to send as NameID", c.Name, u.ID, c.NameID)
	}
	s := &saml.Session{
		ID:            newSecret(),
		Index:         newSAMLID(),
		CreateTime:    authnInstant,
		NameID:        nameID,
		NameIDFormat:  c.NameIDFormat,
		UserName:      u.UserName,
		UserEmail:     u.Email,
		UserGivenName: u.GivenName,
		UserSurname:   u.FamilyName,
	}
	if c.RoleAttribute != "" && len(u.Roles) > 0 {
		s.CustomAttributes = []saml.Attribute{basicAttribute(c.RoleAttribute, u.Roles...)}
	}
	return s, nil
}

// appAssertionMaker mints the assertion an app receives: crewjam's
// DefaultAssertionMaker sends OID-named attributes no SaaS app expects
// and pins the validity window to the AuthnRequest's IssueInstant, which
// for a parked request lies minutes in the past.
type appAssertionMaker struct {
	app AppConfig
}

var _ saml.AssertionMaker = appAssertionMaker{}

// MakeAssertion sets req.Assertion for session, valid from req.Now.
func (m appAssertionMaker) MakeAssertion(req *saml.IdpAuthnRequest, session *saml.Session) error {
	if req.ACSEndpoint == nil || req.ServiceProviderMetadata == nil {
		return fmt.Errorf("app %s: no ACS endpoint to address the assertion to", m.app.Name)
	}
	now := req.Now
	var attrs []saml.Attribute
	for _, a := range []struct{ name, value string }{
		{m.app.EmailAttribute, session.UserEmail},
		{m.app.GivenNameAttribute, session.UserGivenName},
		{m.app.FamilyNameAttribute, session.UserSurname},
	} {
		if a.value != "" {
			attrs = append(attrs, basicAttribute(a.name, a.value))
		}
	}
	attrs = append(attrs, session.CustomAttributes...)
	issuer := req.IDP.MetadataURL.String()
	audience := req.ServiceProviderMetadata.EntityID
	req.Assertion = &saml.Assertion{
		ID:           newSAMLID(),
		IssueInstant: now,
		Version:      "2.0",
		Issuer:       saml.Issuer{Format: "urn:oasis:names:tc:SAML:2.0:nameid-format:entity", Value: issuer},
		Subject: &saml.Subject{
			NameID: &saml.NameID{
				Format:          session.NameIDFormat,
				NameQualifier:   issuer,
				SPNameQualifier: audience,
				Value:           session.NameID,
			},
			SubjectConfirmations: []saml.SubjectConfirmation{{
				Method: "urn:oasis:names:tc:SAML:2.0:cm:bearer",
				SubjectConfirmationData: &saml.SubjectConfirmationData{
					InResponseTo: req.Request.ID,
					NotOnOrAfter: now.Add(assertionLifetime),
					Recipient:    req.ACSEndpoint.Location,
				},
			}},
		},
		Conditions: &saml.Conditions{
			NotBefore:            now.Add(-assertionBackdate),
			NotOnOrAfter:         now.Add(assertionLifetime),
			AudienceRestrictions: []saml.AudienceRestriction{{Audience: saml.Audience{Value: audience}}},
		},
		AuthnStatements: []saml.AuthnStatement{{
			AuthnInstant: session.CreateTime,
			SessionIndex: session.Index,
			AuthnContext: saml.AuthnContext{
				AuthnContextClassRef: &saml.AuthnContextClassRef{Value: "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"},
			},
		}},
	}
	if len(attrs) > 0 {
		req.Assertion.AttributeStatements = []saml.AttributeStatement{{Attributes: attrs}}
	}
	return nil
}

func basicAttribute(name string, values ...string) saml.Attribute {
	a := saml.Attribute{Name: name, NameFormat: attrNameFormatBasic}
	for _, v := range values {
		a.Values = append(a.Values, saml.AttributeValue{Type: "xs:string", Value: v})
	}
	return a
}
