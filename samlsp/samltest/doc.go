// Package samltest holds test doubles for SAML flows, real enough to run
// the whole protocol in-process: an upstream IdP (the company's Okta or
// Entra), a just-in-time SaaS app that trusts scimbridge as its IdP, a
// cookie-jar browser that submits auto-post forms, and an in-memory
// Directory. They run on httptest servers and are meant for tests of any
// package.
//
// crewjam's saml.TimeNow and golang-jwt's TimeFunc are process globals:
// a test that moves them (ShiftClock) must not run in parallel with other
// SAML tests.
package samltest
