package store

import (
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Fold maps s to its case-folded form, so that two strings that differ
// only in case, or in how accents are encoded (composed "é" or "e" and a
// combining accent), fold to the same string ("ÉMILE@X.COM" and
// "émile@x.com").
// Backends store folded copies of the attributes they index
// case-insensitively and compare folded values.
func Fold(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return foldUnicode(s)
		}
		if c >= 'A' && c <= 'Z' {
			return foldASCII(s, i)
		}
	}
	return s
}

// foldASCII lower-cases s, whose first upper-case letter is at i, unless a
// non-ASCII byte turns up later.
func foldASCII(s string, i int) string {
	b := []byte(s)
	for ; i < len(b); i++ {
		c := b[i]
		if c >= 0x80 {
			return foldUnicode(s)
		}
		if c >= 'A' && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

func foldUnicode(s string) string {
	// A Caser keeps state between calls, so each call gets its own.
	return norm.NFC.String(cases.Fold().String(s))
}
