package compat

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// FuzzResource feeds arbitrary JSON objects to the body
// normalisation: it must never panic, must return an RFC 7644 error or a
// body that still encodes, and must be idempotent.
func FuzzResource(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":"True"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","emails":{"value":"x"},"roles":[]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"manager":"7","employeeNumber":"1"}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"1"},null]}`,
		`{"USERNAME":"a","userName":"b"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","roles":[{"primary":"False","type":"app","value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","roles":["{\"value\":\"{\\\"value\\\":\\\"x\\\"}\"}",{"Value":"{\"value\":\"y\"}"}]}`,
	} {
		f.Add(seed)
	}
	cat := catalog.New()
	f.Fuzz(func(t *testing.T, body string) {
		for _, res := range []*catalog.Resource{cat.User, cat.Group} {
			var doc map[string]any
			dec := json.NewDecoder(bytes.NewReader([]byte(body)))
			dec.UseNumber()
			if dec.Decode(&doc) != nil || doc == nil {
				return
			}
			if err := Resource(res, doc, Set{}); err != nil {
				if err.ScimType == "" || err.Detail == "" {
					t.Fatalf("%s: error %+v", body, err)
				}
				continue
			}
			once, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("%s: normalised body does not encode: %v", body, err)
			}
			if err := Resource(res, doc, Set{}); err != nil {
				t.Fatalf("%s: second normalisation failed: %v", body, err)
			}
			twice, _ := json.Marshal(doc)
			if !bytes.Equal(once, twice) {
				t.Fatalf("not idempotent:\n%s\n%s", once, twice)
			}
		}
	})
}
