package scim

import (
	"bytes"
	"context"
	"net/http"

	elimity "github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// groupHandler serves /Groups for one app.
type groupHandler struct{ base }

var _ elimity.ResourceHandler = (*groupHandler)(nil)

func (h *groupHandler) load(p query.Projection) store.Load {
	members, _ := h.res.Lookup("", "members", "")
	return store.Load{Members: p.Returns(members)}
}

func (h *groupHandler) fromAttributes(attrs elimity.ResourceAttributes) (store.Group, []string, error) {
	members, verr := splitMembers(attrs)
	if verr != nil {
		return store.Group{}, nil, verr
	}
	doc, externalID, verr := storedAttributes(h.res, attrs)
	if verr != nil {
		return store.Group{}, nil, verr
	}
	displayName, _ := doc["displayName"].(string)
	raw, err := encodeAttributes(doc)
	if err != nil {
		return store.Group{}, nil, err
	}
	return store.Group{DisplayName: displayName, ExternalID: externalID, Attributes: raw}, members, nil
}

// render prepares g for an answer under projection p.
func (h *groupHandler) render(g store.Group, p query.Projection) (rendered, error) {
	r := rendered{id: g.ID, version: g.Version, created: g.Created, modified: g.Modified, attrs: map[string]any{}}
	if p.ReturnsExternalID(h.res) {
		r.externalID = g.ExternalID
	}
	if len(g.Members) > 0 {
		members := make([]any, len(g.Members))
		for i, m := range g.Members {
			members[i] = map[string]any{
				"value":   m.ID,
				"display": m.Display,
				"$ref":    h.a.base + "/Users/" + m.ID,
				"type":    "User",
			}
		}
		r.attrs["members"] = members
	}
	return r.withStored(g.Attributes, h.res, p, h.unstored)
}

func (h *groupHandler) Create(r *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	ctx := r.Context()
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	g, members, err := h.fromAttributes(attrs)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	g.ID = newID()
	load := h.load(p)
	err = h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateGroup(ctx, h.a.name, &g, members); err != nil {
			return err
		}
		if load.Members && len(members) > 0 {
			var err error
			g, err = tx.GetGroup(ctx, h.a.name, g.ID, load)
			return err
		}
		return nil
	})
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	rd, err := h.render(g, p)
	return h.respond(r, rd, err)
}

func (h *groupHandler) Get(r *http.Request, id string) (elimity.Resource, error) {
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	g, err := h.a.s.cfg.Store.GetGroup(r.Context(), h.a.name, id, h.load(p))
	if err != nil {
		return elimity.Resource{}, h.lookupError(r, id, err)
	}
	rd, err := h.render(g, p)
	return h.respond(r, rd, err)
}

// Replace is PUT with full membership: members missing from the body are
// removed. The version changes only if something did.
func (h *groupHandler) Replace(r *http.Request, id string, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	ctx := r.Context()
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	g, members, err := h.fromAttributes(attrs)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	g.ID = id
	load := h.load(p)
	var result store.Group
	err = h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		old, err := tx.GetGroup(ctx, h.a.name, id, store.Load{Members: true})
		if err != nil {
			return err
		}
		if old.DisplayName != g.DisplayName || old.ExternalID != g.ExternalID ||
			!bytes.Equal(old.Attributes, g.Attributes) || !sameMembers(old.Members, members) {
			if err := tx.ReplaceGroup(ctx, h.a.name, &g, members); err != nil {
				return err
			}
		}
		result, err = tx.GetGroup(ctx, h.a.name, id, load)
		return err
	})
	if err != nil {
		return elimity.Resource{}, h.lookupError(r, id, err)
	}
	rd, err := h.render(result, p)
	return h.respond(r, rd, err)
}

func sameMembers(old []store.Member, ids []string) bool {
	if len(old) != len(ids) {
		return false
	}
	have := make(map[string]bool, len(old))
	for _, m := range old {
		have[m.ID] = true
	}
	for _, id := range ids {
		if !have[id] {
			return false
		}
	}
	return true
}

func (h *groupHandler) Delete(r *http.Request, id string) error {
	return h.remove(r, id, func(ctx context.Context, tx store.Tx) error { return tx.DeleteGroup(ctx, h.a.name, id) })
}
