// Package samlsp puts scimbridge in the single sign-on path, on
// github.com/crewjam/saml, in two roles.
//
// As a SAML service provider of the company IdP (Okta, Entra): one SP for
// all of scimbridge, SP-initiated only (HTTP-POST), with the IdP's
// metadata pinned in configuration. Sessions live in SQLite; the cookie
// holds a random id. RequireSession guards a handler, SessionFrom reads
// the session.
//
// As the IdP of just-in-time apps (proxy mode): each app trusts
// scimbridge's per-app IdP. An app's AuthnRequest is checked on arrival
// and parked while the person signs in upstream; then the Directory
// decides whether they may enter the app, the login is recorded, and
// scimbridge posts an assertion of its own, signed with a key separate
// from the SP's. SimulateLogin posts such an assertion without a browser,
// so that a JIT app creates a user before their first real sign-in.
//
// Routes (Register):
//
//	GET  /saml/metadata             SP metadata for the company IdP
//	POST /saml/acs                  the company IdP's responses
//	GET  /saml/login?return=/path   start a sign-in, then go to /path
//	POST /saml/logout               end the session here
//	GET  /saml/resume?id=…          answer a parked app request
//	GET  /apps/{app}/saml/metadata  IdP metadata for the app
//	GET  /apps/{app}/saml/sso       the app's AuthnRequest (Redirect binding)
//	POST /apps/{app}/saml/sso       the app's AuthnRequest (POST binding)
//
// Workarounds for crewjam/saml v0.5.1 live here: a longer request
// tracker, a quiet error handler, a replay cache, local-only return paths,
// an audience check, a guard against its panic on assertions without
// Conditions, and RSA-SHA256 where it defaults to SHA-1. Its package
// samlsp is imported as crewsp.
package samlsp
