package samlsp

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"runtime"
	"time"
)

// KeyPair is an RSA key and its certificate. scimbridge signs with RSA
// only: the IdP role must sign with RSA-SHA256, which every SaaS app
// accepts, while ECDSA support among apps is patchy.
type KeyPair struct {
	Key  *rsa.PrivateKey
	Cert *x509.Certificate
}

// keyBits is the size of new keys: 3072 bits is the NIST recommendation
// for keys meant to outlive 2030, and signing cost stays negligible.
const keyBits = 3072

// GenerateKeyPair makes an RSA key and a self-signed certificate for it,
// valid from an hour ago (clock skew) for validFor, both PEM-encoded.
// SAML peers pin the certificate itself, so no CA is involved.
func GenerateKeyPair(commonName string, validFor time.Duration) (keyPEM, certPEM []byte, err error) {
	if commonName == "" {
		return nil, nil, errors.New("generate key pair: the common name is empty")
	}
	if validFor <= 0 {
		return nil, nil, fmt.Errorf("generate key pair: validity %s is not positive", validFor)
	}
	key, err := rsa.GenerateKey(rand.Reader, keyBits)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: serial number: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: commonName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(validFor),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: certificate: %w", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key pair: encode key: %w", err)
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return keyPEM, certPEM, nil
}

// LoadKeyPair reads a PEM key and certificate from files.
//
// A key file that group or others may read is refused rather than warned
// about: whoever reads the IdP key can sign in as anyone to every proxied
// app, and a warning in a log is easily missed. (Windows has no such mode
// bits, so the check is skipped there.)
func LoadKeyPair(keyPEMFile, certPEMFile string) (KeyPair, error) {
	if keyPEMFile == "" || certPEMFile == "" {
		return KeyPair{}, errors.New("load key pair: both a key file and a certificate file are needed")
	}
	info, err := os.Stat(keyPEMFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key pair: key file: %w", err)
	}
	if err := checkKeyFileMode(keyPEMFile, info.Mode()); err != nil {
		return KeyPair{}, err
	}
	keyPEM, err := os.ReadFile(keyPEMFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key pair: key file: %w", err)
	}
	certPEM, err := os.ReadFile(certPEMFile)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key pair: certificate file: %w", err)
	}
	kp, err := ParseKeyPair(keyPEM, certPEM)
	if err != nil {
		return KeyPair{}, fmt.Errorf("load key pair from %s and %s: %w", keyPEMFile, certPEMFile, err)
	}
	return kp, nil
}

func checkKeyFileMode(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if mode.Perm()&0o077 != 0 {
		return fmt.Errorf("load key pair: key file %s has mode %#o, readable by others than its owner; run chmod 600 on it", path, mode.Perm())
	}
	return nil
}

// ParseKeyPair decodes a PEM RSA key (PKCS #8 or PKCS #1) and a PEM
// certificate, and checks that they belong together and that the
// certificate is valid now.
func ParseKeyPair(keyPEM, certPEM []byte) (KeyPair, error) {
	key, err := parseRSAKey(keyPEM)
	if err != nil {
		return KeyPair{}, err
	}
	cert, err := parseCertificate(certPEM)
	if err != nil {
		return KeyPair{}, err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&key.PublicKey) {
		return KeyPair{}, errors.New("the certificate is not for this key")
	}
	now := time.Now()
	if now.After(cert.NotAfter) {
		return KeyPair{}, fmt.Errorf("the certificate expired on %s; make a new key pair", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if now.Before(cert.NotBefore) {
		return KeyPair{}, fmt.Errorf("the certificate is not valid before %s", cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return KeyPair{Key: key, Cert: cert}, nil
}

func parseRSAKey(keyPEM []byte) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("the key is not PEM-encoded")
	}
	switch block.Type {
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse key: %w", err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("the key is a %T; scimbridge needs an RSA key", k)
		}
		return rk, nil
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse key: %w", err)
		}
		return k, nil
	default:
		return nil, fmt.Errorf("the key's PEM block is %q; expected \"PRIVATE KEY\" or \"RSA PRIVATE KEY\"", block.Type)
	}
}

func parseCertificate(certPEM []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return nil, errors.New("the certificate is not PEM-encoded")
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("the certificate's PEM block is %q; expected \"CERTIFICATE\"", block.Type)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parse certificate: %w", err)
	}
	return cert, nil
}
