package scim

import (
	"context"
	"maps"
	"net/http"

	elimity "github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/patch"
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

// groupDoc is a group's attribute document with its externalId.
func groupDoc(g store.Group) (map[string]any, error) {
	doc, err := decodeAttributes(g.Attributes)
	if err != nil {
		return nil, err
	}
	if g.ExternalID != "" {
		doc["externalId"] = g.ExternalID
	}
	return doc, nil
}

// groupFromDoc turns a document back into the group to store.
func groupFromDoc(id string, doc map[string]any) (store.Group, error) {
	rest := maps.Clone(doc)
	externalID, _ := rest["externalId"].(string)
	delete(rest, "externalId")
	displayName, _ := rest["displayName"].(string)
	raw, err := encodeAttributes(rest)
	if err != nil {
		return store.Group{}, err
	}
	return store.Group{ID: id, DisplayName: displayName, ExternalID: externalID, Attributes: raw}, nil
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
		if err := tx.AppendEvents(ctx, groupEvents(h.res, h.a.name, g.ID, nil, map[string]any{}, members, nil)); err != nil {
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
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	g, members, err := h.fromAttributes(attrs)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	newDoc, err := groupDoc(g)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	ops := []patch.MemberOp{{Kind: patch.Replace, IDs: members}}
	result, err := h.write(r, id, h.load(p), true, func(map[string]any) (map[string]any, []patch.MemberOp, error) {
		return newDoc, ops, nil
	})
	if err != nil {
		return elimity.Resource{}, h.lookupError(r, id, err)
	}
	rd, err := h.render(result, p)
	return h.respond(r, rd, err)
}

// write changes group id to what change makes of its document and
// members, checking If-Match, records the change events, and returns the
// group as load says when read is set (otherwise only its id and new
// version). Member changes cost in the
// members named, not in the size of the group.
func (h *groupHandler) write(r *http.Request, id string, load store.Load, read bool,
	change func(map[string]any) (map[string]any, []patch.MemberOp, error)) (store.Group, error) {
	ctx := r.Context()
	var result store.Group
	err := h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		old, err := tx.GetGroup(ctx, h.a.name, id, store.Load{})
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, old.Version); err != nil {
			return err
		}
		oldDoc, err := groupDoc(old)
		if err != nil {
			return err
		}
		work, err := groupDoc(old)
		if err != nil {
			return err
		}
		newDoc, memberOps, err := change(work)
		if err != nil {
			return err
		}
		changes, err := h.applyMembers(ctx, tx, id, memberOps)
		if err != nil {
			return err
		}
		added, removed := changes.net()
		events := groupEvents(h.res, h.a.name, id, oldDoc, newDoc, added, removed)
		result = store.Group{ID: id, Version: old.Version}
		if len(events) > 0 {
			g, err := groupFromDoc(id, newDoc)
			if err != nil {
				return err
			}
			if err := tx.ReplaceGroup(ctx, h.a.name, &g); err != nil {
				return err
			}
			if err := tx.AppendEvents(ctx, events); err != nil {
				return err
			}
			result.Version = g.Version
		}
		if read {
			result, err = tx.GetGroup(ctx, h.a.name, id, load)
		}
		return err
	})
	return result, err
}

// applyMembers runs member operations in order against the store.
func (h *groupHandler) applyMembers(ctx context.Context, tx store.Tx, id string, ops []patch.MemberOp) (*memberChanges, error) {
	changes := newMemberChanges()
	for _, op := range ops {
		switch {
		case op.Kind == patch.Add:
			added, err := tx.AddMembers(ctx, h.a.name, id, op.IDs)
			if err != nil {
				return nil, err
			}
			changes.added(added)
		case op.Kind == patch.Replace:
			added, removed, err := tx.SetMembers(ctx, h.a.name, id, op.IDs)
			if err != nil {
				return nil, err
			}
			changes.added(added)
			changes.removed(removed)
		case op.IDs != nil:
			removed, err := tx.RemoveMembers(ctx, h.a.name, id, op.IDs)
			if err != nil {
				return nil, err
			}
			changes.removed(removed)
		default:
			removed, err := tx.RemoveMembersWhere(ctx, h.a.name, id, op.Filter)
			if err != nil {
				return nil, err
			}
			changes.removed(removed)
		}
	}
	return changes, nil
}

func (h *groupHandler) Delete(r *http.Request, id string) error {
	return h.remove(r, id, func(ctx context.Context, tx store.Tx) error {
		// The members are read so that each gets a member_removed event:
		// role rules keyed on the group must be re-evaluated for them.
		old, err := tx.GetGroup(ctx, h.a.name, id, store.Load{Members: true})
		if err != nil {
			return err
		}
		if err := checkIfMatch(r, old.Version); err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, h.a.name, id); err != nil {
			return err
		}
		removed := make([]string, len(old.Members))
		for i, m := range old.Members {
			removed[i] = m.ID
		}
		return tx.AppendEvents(ctx, groupEvents(h.res, h.a.name, id, map[string]any{}, nil, nil, removed))
	})
}

// patch applies PATCH operations to group id. The group is read back only
// when read is set, and its members only when load asks for them.
func (h *groupHandler) patch(r *http.Request, id string, ops []patch.Op, load store.Load, read bool) (store.Group, error) {
	return h.write(r, id, load, read, func(doc map[string]any) (map[string]any, []patch.MemberOp, error) {
		memberOps, err := patch.Apply(h.res, doc, ops)
		if err != nil {
			return nil, nil, err
		}
		if err := compat.Required(h.res, doc); err != nil {
			return nil, nil, err
		}
		return doc, memberOps, nil
	})
}
