package scim

import (
	"errors"
	"io"
	"net/http"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/scim/store"
)

// patch answers PATCH /Users/{id} and /Groups/{id}. scimbridge reads the
// operations itself rather than through the SCIM library, which keeps the
// client's case, checks no mutability and cannot hold Entra ID's shapes.
// A user answers 200 with the resource. A group answers 204, so that a
// membership change never reads the whole membership, or 200 with the
// resource when the request asks for attributes.
func (a *appHandler) patch(w http.ResponseWriter, r *http.Request, res *catalog.Resource, id string) {
	fail := func(err error) { writeError(w, a.failure(r, res, id, err)) }
	body, err := io.ReadAll(r.Body)
	if err != nil {
		fail(err)
		return
	}
	ops, err := patch.ParseFor(res, id, body, a.rules)
	if err != nil {
		fail(err)
		return
	}
	p, err := projectionOf(r, res)
	if err != nil {
		fail(err)
		return
	}
	var rd rendered
	if res == a.s.cat.User {
		u, err := a.users.patch(r, id, ops, a.users.load(p))
		if err != nil {
			fail(err)
			return
		}
		if rd, err = a.users.render(u, p); err != nil {
			fail(err)
			return
		}
	} else {
		q := r.URL.Query()
		read := q.Has("attributes") || q.Has("excludedAttributes")
		g, err := a.groups.patch(r, id, ops, a.groups.load(p), read)
		if err != nil {
			fail(err)
			return
		}
		if !read {
			w.Header().Set("ETag", etag(g.Version))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		if rd, err = a.groups.render(g, p); err != nil {
			fail(err)
			return
		}
	}
	buf, err := rd.appendJSON(nil, res, a.base)
	if err != nil {
		fail(err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("ETag", etag(rd.version))
	w.Write(buf)
}

// notModified answers 304 to a GET whose If-None-Match names the current
// version of the resource, and reports whether it did.
func (a *appHandler) notModified(w http.ResponseWriter, r *http.Request, res *catalog.Resource, id string) bool {
	v, err := a.s.cfg.Store.Version(r.Context(), a.name, res.Name, id)
	if err != nil || !etagMatches(r.Header.Get("If-None-Match"), v) {
		// Errors, a missing resource included, are the GET's to report.
		return false
	}
	w.Header().Set("ETag", etag(v))
	w.WriteHeader(http.StatusNotModified)
	return true
}

// failure words err for a request on resource id.
func (a *appHandler) failure(r *http.Request, res *catalog.Resource, id string, err error) *Error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(res, id)
	}
	return classify(r.Context(), a.s.log, err)
}
