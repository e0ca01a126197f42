package store

import "testing"

func TestFold(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"alice@example.com", "alice@example.com"},
		{"Alice@Example.COM", "alice@example.com"},
		{"ÉMILE@x.com", "émile@x.com"},
		{"émile@X.COM", "émile@x.com"},
		{"aBÉ", "abé"},
		{"ÀÉÎÕÜ", "àéîõü"},
		{"ΣΊΣΥΦΟΣ", "σίσυφοσ"},
		{"50%_OFF\"\\", "50%_off\"\\"},
		// Decomposed accents (as macOS file names and some HR systems
		// write them) fold like composed ones.
		{"E\u0301MILE", "\u00e9mile"},
		{"Jose\u0301", "jos\u00e9"},
	}
	for _, c := range cases {
		got := Fold(c.in)
		if got != c.want {
			t.Errorf("Fold(%q) = %q, want %q", c.in, got, c.want)
		}
		if again := Fold(got); again != got {
			t.Errorf("Fold is not idempotent on %q: %q", got, again)
		}
	}
	if Fold("ÉMILE@x.com") != Fold("émile@X.COM") {
		t.Error("ÉMILE@x.com and émile@X.COM fold differently")
	}
}
