package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/scimbridge/scimbridge/samlsp"
)

const samlUsage = `Usage:
  scimbridge saml keygen -out DIR [-cn NAME] [-days N]

keygen writes two RSA key pairs with self-signed certificates into DIR:
sp.key/sp.crt, with which scimbridge signs towards the company IdP, and
idp.key/idp.crt, with which it signs the assertions just-in-time apps
trust. Keys are written readable by their owner only, and never
overwritten. Point the saml section of the config at them (docs/jit.md).
`

func runSAML(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, samlUsage)
		return usageError{"which saml command? keygen"}
	}
	switch args[0] {
	case "keygen":
		return samlKeygen(e, args[1:])
	case "-h", "-help", "--help", "help":
		fmt.Fprint(e.stdout, samlUsage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown saml command %q (keygen)", args[0])}
}

func samlKeygen(e *env, args []string) error {
	flags := flagSet(e, "saml keygen", samlUsage)
	out := flags.String("out", "", "the directory to write the keys into (required; created if missing)")
	cn := flags.String("cn", "scimbridge", "the certificates' common name")
	days := flags.Int("days", 3650, "how many days the certificates are valid")
	if err := parseFlagsOnly(flags, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"-out is required"}
	}
	if *days < 1 {
		return usageError{"-days must be at least 1"}
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return fmt.Errorf("saml keygen: %w", err)
	}
	for _, name := range []string{"sp", "idp"} {
		keyPath, certPath := filepath.Join(*out, name+".key"), filepath.Join(*out, name+".crt")
		for _, p := range []string{keyPath, certPath} {
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("saml keygen: %s exists; move it away first, since a new key breaks the trust set up with the old one", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("saml keygen: %w", err)
			}
		}
		key, cert, err := samlsp.GenerateKeyPair(*cn, time.Duration(*days)*24*time.Hour)
		if err != nil {
			return fmt.Errorf("saml keygen: %w", err)
		}
		if err := os.WriteFile(keyPath, key, 0o600); err != nil {
			return fmt.Errorf("saml keygen: %w", err)
		}
		if err := os.WriteFile(certPath, cert, 0o644); err != nil {
			return fmt.Errorf("saml keygen: %w", err)
		}
		fmt.Fprintf(e.stdout, "wrote %s and %s\n", keyPath, certPath)
	}
	return nil
}
