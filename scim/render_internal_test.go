package scim

import (
	"encoding/json"
	"testing"
)

// TestAppendValueMatchesMarshal holds the direct writer to encoding/json's
// output, byte for byte, for the shapes decoded attributes take.
func TestAppendValueMatchesMarshal(t *testing.T) {
	cases := []string{
		`"plain"`, `"<b>&amp;</b>"`, `"tab\tnew\nline\u0001"`, `"ünïcödé ✓ \u2028"`, `"quote \" back \\"`,
		`true`, `false`, `null`, `42`, `-0.5`, `1e21`, `[]`, `{}`,
		`[{"value":"u1","display":"Ann <A&B>","$ref":"https://x/Users/u1","type":"User"},{"value":"u2"}]`,
		`{"b":1,"a":[true,null,"x"],"$ref":{"z":"","y":[{}]},"Ä":"upper","a b":"space"}`,
	}
	for _, c := range cases {
		var v any
		if err := json.Unmarshal([]byte(c), &v); err != nil {
			t.Fatalf("%s: %v", c, err)
		}
		want, err := marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := appendValue([]byte("prefix:"), v)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != "prefix:"+string(want) {
			t.Errorf("%s:\n got  %s\n want prefix:%s", c, got, want)
		}
	}
}
