package samlsp

import "testing"

func TestSafeReturnPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/console/queue?page=2", "/console/queue?page=2"},
		{"/", "/"},
		{"", "/"},
		{"console", "/"},
		{"https://evil.example/", "/"},
		{"//evil.example", "/"},
		{"//evil.example/path", "/"},
		{"/\\evil.example", "/"},
		{"/a\\b", "/"},
		{"/\t/evil.example", "/"},
		{"/\n/evil.example", "/"},
		{"javascript:alert(1)", "/"},
		{"/%2F%2Fevil.example", "/%2F%2Fevil.example"},
		{"/a b", "/a%20b"},
	} {
		if got := safeReturnPath(tc.in); got != tc.want {
			t.Errorf("safeReturnPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
