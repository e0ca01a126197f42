package scim

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	elimity "github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/scim/query"
)

// newID returns a random (version 4) UUID in its canonical lower-case form.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// projectionOf reads attributes and excludedAttributes from the query.
func projectionOf(r *http.Request, res *catalog.Resource) (query.Projection, error) {
	q := r.URL.Query()
	return query.ParseProjection(res, q.Get("attributes"), q.Get("excludedAttributes"))
}

// decodeAttributes parses a stored attribute document.
func decodeAttributes(raw json.RawMessage) (map[string]any, error) {
	m := map[string]any{}
	if len(raw) == 0 {
		return m, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("decode stored attributes: %w", err)
	}
	return m, nil
}

// storedAttributes turns the library-validated attributes of a POST or PUT
// into the document the store keeps: without the server's attributes, the
// write-only password, and values that are empty. The returned externalId
// is kept apart.
func storedAttributes(res *catalog.Resource, attrs elimity.ResourceAttributes) (doc map[string]any, externalID string, err *Error) {
	doc = make(map[string]any, len(attrs))
	for k, v := range attrs {
		switch k {
		case "id", "meta", "schemas", "password", "groups", "members":
			continue
		case "externalId":
			externalID, _ = v.(string)
			continue
		}
		if v = pruneEmpty(v); v == nil {
			continue
		}
		doc[k] = v
	}
	if err := checkPrimary(res, doc); err != nil {
		return nil, "", err
	}
	return doc, externalID, nil
}

// pruneEmpty drops nil values and empty lists and objects, which the
// library hands over for "[]" and would echo back as null.
func pruneEmpty(v any) any {
	switch t := v.(type) {
	case nil:
		return nil
	case []any:
		var out []any
		for _, el := range t {
			if el = pruneEmpty(el); el != nil {
				out = append(out, el)
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, el := range t {
			if el = pruneEmpty(el); el != nil {
				out[k] = el
			}
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	return v
}

// checkPrimary enforces RFC 7643 §2.4: "primary": true at most once per
// multi-valued attribute.
func checkPrimary(res *catalog.Resource, doc map[string]any) *Error {
	for k, v := range doc {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		primaries := 0
		for _, el := range list {
			if m, ok := el.(map[string]any); ok && m["primary"] == true {
				primaries++
			}
		}
		if primaries > 1 {
			return badRequest("invalidValue", "%s has %d elements marked primary; at most one may be", k, primaries)
		}
	}
	return nil
}

// encodeAttributes marshals a document; encoding/json sorts keys, so equal
// documents encode to equal bytes.
func encodeAttributes(doc map[string]any) (json.RawMessage, error) {
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("encode attributes: %w", err)
	}
	return b, nil
}

func notFound(res *catalog.Resource, id string) *Error {
	return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %q not found", res.Name, id)}
}

// splitMembers reads the member ids of a group body.
func splitMembers(attrs elimity.ResourceAttributes) ([]string, *Error) {
	raw, _ := attrs["members"].([]any)
	if len(raw) > patch.MaxMembers {
		return nil, badRequest("invalidValue", "members lists %d users; at most %d are accepted in one request, so add the rest with PATCH", len(raw), patch.MaxMembers)
	}
	seen := make(map[string]bool, len(raw))
	ids := make([]string, 0, len(raw))
	for _, el := range raw {
		m, ok := el.(map[string]any)
		if !ok {
			continue
		}
		id, _ := m["value"].(string)
		if strings.TrimSpace(id) == "" {
			return nil, badRequest("invalidValue", "every member needs a value: the id of a user")
		}
		if t, _ := m["type"].(string); t != "" && !strings.EqualFold(t, "User") {
			return nil, badRequest("invalidValue", "member %q has type %q; only users can be members of groups", id, t)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}
