package samlsp

import (
	"strings"
	"testing"
)

func TestBodySnippet(t *testing.T) {
	response := strings.Repeat("PHNhbWxwOlJlc3BvbnNlIElEPSJpZC0x", 40)
	for _, tc := range []struct {
		name, body, want string
	}{
		{"plain text", "License limit exhausted. Please get in touch with your CSM.\n", "License limit exhausted. Please get in touch with your CSM."},
		{"html", "<html><body><h1>Forbidden</h1>\n<p>No seats left</p></body></html>", "Forbidden No seats left"},
		{"echoed response", "Bad response: " + response + " rejected", "Bad response: rejected"},
		{"echoed fragment", "Bad response: " + response[7:300] + "…", "Bad response: [removed]…"},
		{"long", strings.Repeat("word ", 100), strings.TrimSpace(strings.Repeat("word ", 40)) + "…"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := bodySnippet([]byte(tc.body), response)
			if got != tc.want {
				t.Errorf("bodySnippet = %q, want %q", got, tc.want)
			}
		})
	}
}
