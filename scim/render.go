package scim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	elimity "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

// rendered is a resource ready to be answered: its attributes, either the
// stored document as it is plus attributes added from elsewhere (groups,
// members, the scimbridge extension) or, under a projection, all of them
// decoded and cut down; and what goes in id, externalId and meta.
type rendered struct {
	id, externalID    string // externalID is "" when not returned
	version           int64
	created, modified time.Time
	stored            json.RawMessage // nil under a projection
	attrs             map[string]any
}

// withStored completes r with the resource's stored document under
// projection p: as it is when p leaves it untouched (it excludes at most
// the unstored attributes), decoded and cut down otherwise.
func (r rendered) withStored(stored json.RawMessage, res *catalog.Resource, p query.Projection, unstored []*catalog.Attribute) (rendered, error) {
	if p.ExcludesOnly(unstored...) {
		r.stored = stored
		return r, nil
	}
	doc, err := decodeAttributes(stored)
	if err != nil {
		return rendered{}, err
	}
	maps.Copy(doc, r.attrs)
	r.attrs = p.Apply(res, doc)
	return r, nil
}

// answer hands a rendering to the library, or the error it maps to a SCIM
// response.
func answer(r *http.Request, log *slog.Logger, rd rendered, err error) (elimity.Resource, error) {
	if err != nil {
		return elimity.Resource{}, libraryError(r, log, err)
	}
	res, err := rd.library()
	if err != nil {
		return elimity.Resource{}, libraryError(r, log, err)
	}
	return res, nil
}

// libraryError turns err into the value error type the library maps to a
// SCIM response; anything else would reach the client as a 500 with err's
// text.
func libraryError(r *http.Request, log *slog.Logger, err error) error {
	e := classify(r.Context(), log, err)
	if e.Status == http.StatusServiceUnavailable {
		answerPast(r, e)
	}
	return e.library()
}

// library gives the resource to github.com/elimity-com/scim, which adds
// id, externalId, schemas and meta itself.
func (r rendered) library() (elimity.Resource, error) {
	attrs := r.attrs
	if r.stored != nil {
		doc, err := decodeAttributes(r.stored)
		if err != nil {
			return elimity.Resource{}, err
		}
		maps.Copy(doc, r.attrs)
		attrs = doc
	}
	created, modified := r.created, r.modified
	res := elimity.Resource{
		ID:         r.id,
		Attributes: attrs,
		Meta:       elimity.Meta{Created: &created, LastModified: &modified, Version: etag(r.version)},
	}
	if r.externalID != "" {
		res.ExternalID = optional.NewString(r.externalID)
	}
	return res, nil
}

// appendJSON appends the resource's JSON object as the library would
// write it for the same request, for the list responses scimbridge writes
// itself; a test holds the two to the same content. The stored document is
// copied, not decoded and encoded again.
func (r rendered) appendJSON(buf []byte, res *catalog.Resource, base string) ([]byte, error) {
	buf = append(buf, '{')
	if r.stored != nil {
		inner := bytes.TrimSpace(r.stored)
		if len(inner) < 2 || inner[0] != '{' || inner[len(inner)-1] != '}' {
			return nil, fmt.Errorf("stored attributes of %s are not a JSON object", r.id)
		}
		if inner = bytes.TrimSpace(inner[1 : len(inner)-1]); len(inner) > 0 {
			buf = append(buf, inner...)
			buf = append(buf, ',')
		}
	}
	for _, k := range slices.Sorted(maps.Keys(r.attrs)) {
		buf = appendString(buf, k)
		buf = append(buf, ':')
		var err error
		if buf, err = appendValue(buf, r.attrs[k]); err != nil {
			return nil, err
		}
		buf = append(buf, ',')
	}
	buf = append(buf, `"id":`...)
	buf = appendString(buf, r.id)
	if r.externalID != "" {
		buf = append(buf, `,"externalId":`...)
		buf = appendString(buf, r.externalID)
	}
	buf = append(buf, `,"schemas":[`...)
	buf = appendString(buf, res.Core.ID)
	for _, ext := range res.Extensions {
		buf = append(buf, ',')
		buf = appendString(buf, ext.ID)
	}
	buf = append(buf, `],"meta":{"resourceType":`...)
	buf = appendString(buf, res.Name)
	buf = append(buf, `,"created":`...)
	buf = appendString(buf, r.created.Format(time.RFC3339))
	buf = append(buf, `,"lastModified":`...)
	buf = appendString(buf, r.modified.Format(time.RFC3339))
	buf = append(buf, `,"location":`...)
	buf = appendString(buf, base+res.Endpoint+"/"+url.PathEscape(r.id))
	buf = append(buf, `,"version":`...)
	buf = appendString(buf, etag(r.version))
	return append(buf, "}}"...), nil
}

// appendValue appends v as marshal would write it. The shapes decoded
// attributes take (objects, arrays, strings, booleans, null) are written
// directly, which a page of groups with thousands of member objects
// needs: encoding/json reflects on each map and sorts its keys anew.
func appendValue(buf []byte, v any) ([]byte, error) {
	var err error
	switch x := v.(type) {
	case string:
		return appendString(buf, x), nil
	case bool:
		return strconv.AppendBool(buf, x), nil
	case nil:
		return append(buf, "null"...), nil
	case []any:
		buf = append(buf, '[')
		for i, e := range x {
			if i > 0 {
				buf = append(buf, ',')
			}
			if buf, err = appendValue(buf, e); err != nil {
				return nil, err
			}
		}
		return append(buf, ']'), nil
	case map[string]any:
		// Attribute objects are small: their keys sort on the stack.
		var small [8]string
		keys := small[:0]
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		buf = append(buf, '{')
		for i, k := range keys {
			if i > 0 {
				buf = append(buf, ',')
			}
			buf = appendString(buf, k)
			buf = append(buf, ':')
			if buf, err = appendValue(buf, x[k]); err != nil {
				return nil, err
			}
		}
		return append(buf, '}'), nil
	}
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	return append(buf, b...), nil
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// appendString appends s as a JSON string.
func appendString(buf []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			b, _ := marshal(s)
			return append(buf, b...)
		}
	}
	buf = append(buf, '"')
	buf = append(buf, s...)
	return append(buf, '"')
}
