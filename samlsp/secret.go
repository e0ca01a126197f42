package samlsp

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
)

// newSecret returns 32 random bytes, URL-safe: session ids, parked-request
// ids and their binding cookies.
func newSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// newSAMLID returns an ID for a SAML element; it must not start with a
// digit (xs:ID).
func newSAMLID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return "id-" + hex.EncodeToString(b)
}
