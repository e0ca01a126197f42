package scim

import (
	"context"
	"errors"
	"net/http"

	elimity "github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// base is what the /Users and /Groups handlers share. Their methods are
// called by github.com/elimity-com/scim, which has validated the request
// body first, and return errors of the value type the library maps to a
// SCIM response: anything else would reach the client as a 500 carrying
// the error's text.
type base struct {
	a   *appHandler
	res *catalog.Resource
	// unstored are the attributes the stored document never holds.
	unstored []*catalog.Attribute
}

func (b *base) fail(r *http.Request, err error) error { return libraryError(r, b.a.s.log, err) }

// projection reads attributes and excludedAttributes.
func (b *base) projection(r *http.Request) (query.Projection, error) {
	p, err := projectionOf(r, b.res)
	if err != nil {
		return query.Projection{}, b.fail(r, err)
	}
	return p, nil
}

// lookupError words a failed read or write of resource id.
func (b *base) lookupError(r *http.Request, id string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound(b.res, id).library()
	}
	return b.fail(r, err)
}

// respond hands a rendering to the library.
func (b *base) respond(r *http.Request, rd rendered, err error) (elimity.Resource, error) {
	return answer(r, b.a.s.log, rd, err)
}

// remove deletes resource id with del.
func (b *base) remove(r *http.Request, id string, del func(context.Context, store.Tx) error) error {
	ctx := r.Context()
	if err := b.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error { return del(ctx, tx) }); err != nil {
		return b.lookupError(r, id, err)
	}
	return nil
}

// GetAll is not reached: appHandler.serve answers list requests itself,
// because the library reports the requested count as itemsPerPage and
// ignores sorting and projection.
func (b *base) GetAll(r *http.Request, _ elimity.ListRequestParams) (elimity.Page, error) {
	return elimity.Page{}, b.fail(r, errListRouting)
}

// Patch is not reached either: PATCH answers 501 until the PATCH engine
// lands.
func (b *base) Patch(*http.Request, string, []elimity.PatchOperation) (elimity.Resource, error) {
	return elimity.Resource{}, errPatchUnsupported.library()
}

var errPatchUnsupported = &Error{Status: http.StatusNotImplemented, Detail: "PATCH is not supported yet; use PUT"}
