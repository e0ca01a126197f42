package samlsp_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/samlsp/samltest"
)

func TestGenerateKeyPairRoundTrips(t *testing.T) {
	keyPEM, certPEM, err := samlsp.GenerateKeyPair("scimbridge idp", 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	keyFile, certFile := filepath.Join(dir, "idp.key"), filepath.Join(dir, "idp.crt")
	writeFile(t, keyFile, keyPEM, 0o600)
	writeFile(t, certFile, certPEM, 0o644)
	kp, err := samlsp.LoadKeyPair(keyFile, certFile)
	if err != nil {
		t.Fatal(err)
	}
	if kp.Key.N.BitLen() < 2048 || kp.Cert.Subject.CommonName != "scimbridge idp" {
		t.Errorf("key of %d bits, certificate for %q", kp.Key.N.BitLen(), kp.Cert.Subject.CommonName)
	}
	if d := time.Until(kp.Cert.NotAfter); d < 23*time.Hour || d > 25*time.Hour {
		t.Errorf("certificate valid for %s more, want about 24h", d)
	}
}

func TestLoadKeyPairErrors(t *testing.T) {
	dir := t.TempDir()
	a, b := samltest.NewKeyPair(t, "a"), samltest.NewKeyPair(t, "b")
	aKey, aCert := samltest.PEM(t, a)
	_, bCert := samltest.PEM(t, b)
	files := map[string]struct {
		data []byte
		mode os.FileMode
	}{
		"a.key":      {aKey, 0o600},
		"a.crt":      {aCert, 0o644},
		"b.crt":      {bCert, 0o644},
		"open.key":   {aKey, 0o644},
		"garbage":    {[]byte("not pem"), 0o600},
		"crt-as-key": {aCert, 0o600},
	}
	for name, f := range files {
		writeFile(t, filepath.Join(dir, name), f.data, f.mode)
	}
	for _, tc := range []struct {
		name, key, cert, want string
	}{
		{"missing key file", "none.key", "a.crt", "key file"},
		{"missing certificate file", "a.key", "none.crt", "certificate file"},
		{"key readable by others", "open.key", "a.crt", "chmod 600"},
		{"key not PEM", "garbage", "a.crt", "not PEM"},
		{"certificate given as key", "crt-as-key", "a.crt", `"CERTIFICATE"`},
		{"certificate not PEM", "a.key", "garbage", "not PEM"},
		{"certificate of another key", "a.key", "b.crt", "not for this key"},
		{"no file names", "", "", "both a key file and a certificate file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, cert := tc.key, tc.cert
			if key != "" {
				key = filepath.Join(dir, key)
			}
			if cert != "" {
				cert = filepath.Join(dir, cert)
			}
			_, err := samlsp.LoadKeyPair(key, cert)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	if _, err := samlsp.LoadKeyPair(filepath.Join(dir, "a.key"), filepath.Join(dir, "a.crt")); err != nil {
		t.Errorf("the good pair: %v", err)
	}
}

func writeFile(t *testing.T, path string, data []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, data, mode); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil { // umask
		t.Fatal(err)
	}
}
