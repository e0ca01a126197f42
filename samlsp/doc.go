// Package samlsp will put scimbridge in the single sign-on path with
// github.com/crewjam/saml: as a SAML service provider towards the company's
// IdP, and as the SAML IdP that just-in-time apps trust. It holds no code
// yet.
package samlsp
