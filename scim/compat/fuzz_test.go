package compat

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/scimbridge/scimbridge/scim/catalog"
)

// scimTypes are the RFC 7644 §3.12 error types the normalisation may
// give.
var scimTypes = []string{"invalidSyntax", "invalidValue", "invalidPath", "mutability"}

// FuzzResource feeds arbitrary JSON objects, under arbitrary rule sets,
// to the body normalisation. It must never panic; a refusal is an RFC
// 7644 error; and what it accepts is canonical SCIM: the core schema
// listed, every known attribute under its canonical name with a value of
// its type (no nulls, no empty lists, no strings for booleans), nothing
// read-only, the required attributes there, and normalising again
// changes nothing.
func FuzzResource(f *testing.F) {
	for _, seed := range []string{
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":"True"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","emails":{"value":"x"},"roles":[]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],"userName":"a","urn:ietf:params:scim:schemas:extension:enterprise:2.0:user":{"manager":"7","employeeNumber":"1"}}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g","members":[{"value":"1"},null]}`,
		`{"USERNAME":"a","userName":"b"}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","roles":[{"primary":"False","type":"app","value":"{\"id\":\"8a\",\"value\":\"Admin\",\"displayName\":\"Admin\"}"}]}`,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","roles":["{\"value\":\"{\\\"value\\\":\\\"x\\\"}\"}",{"Value":"{\"value\":\"y\"}"}]}`,
		`{"schemas":["URN:IETF:PARAMS:SCIM:SCHEMAS:CORE:2.0:USER"],"id":"x","meta":{"version":"1"},"groups":[{"value":"g"}],"UserName":"a","x509Certificates":[{"value":"AAAA"}]}`,
	} {
		f.Add(seed, uint16(0))
	}
	f.Add(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"a","active":"False","roles":[]}`, uint16(0xffff))
	cat := catalog.New()
	f.Fuzz(func(t *testing.T, body string, off uint16) {
		var names []string
		for i, r := range All() {
			if off&(1<<i) != 0 {
				names = append(names, string(r))
			}
		}
		rules, err := Disable(names)
		if err != nil {
			t.Fatal(err)
		}
		for _, res := range []*catalog.Resource{cat.User, cat.Group} {
			var doc map[string]any
			dec := json.NewDecoder(bytes.NewReader([]byte(body)))
			dec.UseNumber()
			if dec.Decode(&doc) != nil || doc == nil {
				return
			}
			if err := Resource(res, doc, rules); err != nil {
				if !slices.Contains(scimTypes, err.ScimType) || err.Detail == "" {
					t.Fatalf("%s: error %+v", body, err)
				}
				continue
			}
			once, err := json.Marshal(doc)
			if err != nil {
				t.Fatalf("%s: normalised body does not encode: %v", body, err)
			}
			checkCanonical(t, res, doc)
			if err := Resource(res, doc, rules); err != nil {
				t.Fatalf("%s: second normalisation failed: %v", body, err)
			}
			twice, _ := json.Marshal(doc)
			if !bytes.Equal(once, twice) {
				t.Fatalf("not idempotent:\n%s\n%s", once, twice)
			}
		}
	})
}

// checkCanonical checks a document Resource accepted for res.
func checkCanonical(t *testing.T, res *catalog.Resource, doc map[string]any) {
	t.Helper()
	list, _ := doc["schemas"].([]any)
	if !slices.Contains(list, any(res.Core.ID)) {
		t.Fatalf("schemas %v lack %s", doc["schemas"], res.Core.ID)
	}
	for key, v := range doc {
		if key == "schemas" {
			continue
		}
		if uri, ok := res.ExtensionURI(key); ok {
			if key != uri {
				t.Fatalf("extension %q kept under another case than %q", key, uri)
			}
			ext, ok := v.(map[string]any)
			if !ok || len(ext) == 0 {
				t.Fatalf("extension %s is %v", key, v)
			}
			for k, ev := range ext {
				if a, ok := res.Lookup(uri, k, ""); ok {
					checkAttribute(t, a, k, ev)
				}
			}
			continue
		}
		if a, ok := res.Lookup(res.Core.ID, key, ""); ok {
			checkAttribute(t, a, key, v)
		}
	}
	if err := Required(res, doc); err != nil {
		t.Fatalf("accepted without a required attribute: %v", err)
	}
}

// checkAttribute checks that v, stored under key, is a canonical value
// of a.
func checkAttribute(t *testing.T, a *catalog.Attribute, key string, v any) {
	t.Helper()
	if key != a.Name {
		t.Fatalf("%s kept under %q", a.Path(), key)
	}
	if a.Mutability == "readOnly" {
		t.Fatalf("read-only %s kept: %v", a.Path(), v)
	}
	if !a.MultiValued {
		checkElement(t, a, v)
		return
	}
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		t.Fatalf("multi-valued %s is %T %v", a.Path(), v, v)
	}
	for _, el := range list {
		checkElement(t, a, el)
	}
}

func checkElement(t *testing.T, a *catalog.Attribute, v any) {
	t.Helper()
	ok := false
	switch a.Type {
	case catalog.Boolean:
		_, ok = v.(bool)
	case catalog.String, catalog.Reference, catalog.Binary:
		_, ok = v.(string)
	case catalog.DateTime:
		s, isString := v.(string)
		_, err := time.Parse(time.RFC3339Nano, s)
		ok = isString && err == nil
	case catalog.Integer, catalog.Decimal:
		var n json.Number
		n, ok = v.(json.Number)
		if ok && a.Type == catalog.Integer {
			_, err := n.Int64()
			ok = err == nil
		}
	case catalog.Complex:
		m, isMap := v.(map[string]any)
		ok = isMap && len(m) > 0
		for k, sv := range m {
			sub, known := a.SubAttribute(k)
			if !known || strings.Contains(k, ".") {
				t.Fatalf("%s has unknown sub-attribute %q", a.Path(), k)
			}
			checkAttribute(t, sub, k, sv)
		}
	default:
		ok = true
	}
	if !ok {
		t.Fatalf("%s (%s) holds %T %v", a.Path(), a.Type, v, v)
	}
}
