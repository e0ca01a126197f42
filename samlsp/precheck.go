package samlsp

import (
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/beevik/etree"
	"github.com/crewjam/saml/xmlenc"
)

const (
	nsAssertion = "urn:oasis:names:tc:SAML:2.0:assertion"
	nsXMLEnc    = "http://www.w3.org/2001/04/xmlenc#"
)

// errIncompleteAssertion: crewjam v0.5.1 dereferences an assertion's
// Subject and Conditions without checking them, so a correctly signed
// assertion that lacks either panics inside ParseResponse (GO-2026-6909
// family). precheckResponse finds those before crewjam does.
var errIncompleteAssertion = errors.New("an assertion lacks its Subject or Conditions")

// precheckResponse looks at the structure of a SAMLResponse, decrypting
// encrypted assertions with the SP key, and refuses one that would make
// crewjam panic. It checks no signature: crewjam does that next.
func precheckResponse(encoded string, key *rsa.PrivateKey) error {
	raw, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		return fmt.Errorf("cannot parse base64: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		return fmt.Errorf("invalid xml: %w", err)
	}
	root := doc.Root()
	if root == nil {
		return errors.New("invalid xml: no root")
	}
	for _, el := range root.ChildElements() {
		if el.NamespaceURI() != nsAssertion {
			continue
		}
		switch el.Tag {
		case "Assertion":
			if err := checkAssertionParts(el); err != nil {
				return err
			}
		case "EncryptedAssertion":
			plain, err := decryptAssertion(el, key)
			if err != nil {
				return err
			}
			if err := checkAssertionParts(plain); err != nil {
				return err
			}
		}
	}
	return nil
}

func checkAssertionParts(assertion *etree.Element) error {
	var subject, conditions bool
	for _, el := range assertion.ChildElements() {
		if el.NamespaceURI() != nsAssertion {
			continue
		}
		switch el.Tag {
		case "Subject":
			subject = true
		case "Conditions":
			conditions = true
		}
	}
	if !subject || !conditions {
		return errIncompleteAssertion
	}
	return nil
}

// decryptAssertion decrypts an EncryptedAssertion as crewjam does: the
// key is either a sibling EncryptedKey or inside the EncryptedData.
func decryptAssertion(encrypted *etree.Element, key *rsa.PrivateKey) (*etree.Element, error) {
	var data *etree.Element
	for _, el := range encrypted.ChildElements() {
		if el.Tag == "EncryptedData" && el.NamespaceURI() == nsXMLEnc {
			data = el
			break
		}
	}
	if data == nil {
		return nil, errors.New("failed to decrypt EncryptedAssertion: no EncryptedData")
	}
	var dataKey any = key
	if keyEl := encrypted.FindElement("./EncryptedKey"); keyEl != nil {
		k, err := xmlenc.Decrypt(key, keyEl)
		if err != nil {
			return nil, fmt.Errorf("failed to decrypt EncryptedAssertion key: %w", err)
		}
		dataKey = k
	}
	plain, err := xmlenc.Decrypt(dataKey, data)
	if err != nil {
		return nil, fmt.Errorf("failed to decrypt EncryptedAssertion: %w", err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(plain); err != nil {
		return nil, fmt.Errorf("invalid xml in EncryptedAssertion: %w", err)
	}
	if doc.Root() == nil {
		return nil, errors.New("invalid xml in EncryptedAssertion: no root")
	}
	return doc.Root(), nil
}
