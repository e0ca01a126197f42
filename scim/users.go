package scim

import (
	"context"
	"maps"
	"net/http"
	"time"

	elimity "github.com/elimity-com/scim"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/patch"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

// userHandler serves /Users for one app through github.com/elimity-com/scim,
// which has validated bodies before calling it.
type userHandler struct{ base }

var _ elimity.ResourceHandler = (*userHandler)(nil)

// load says what to read with a user for projection p.
func (h *userHandler) load(p query.Projection) store.Load {
	groups, _ := h.res.Lookup("", "groups", "")
	return store.Load{Groups: p.Returns(groups), State: h.returnsState(p)}
}

func (h *userHandler) returnsState(p query.Projection) bool {
	for _, name := range []string{"provisioningState", "pendingActions", "lastLogin"} {
		a, _ := h.res.Lookup(catalog.BridgeUserSchema, name, "")
		if p.Returns(a) {
			return true
		}
	}
	return false
}

func (h *userHandler) fromAttributes(attrs elimity.ResourceAttributes) (store.User, error) {
	doc, externalID, verr := storedAttributes(h.res, attrs)
	if verr != nil {
		return store.User{}, verr
	}
	userName, _ := doc["userName"].(string)
	raw, err := encodeAttributes(doc)
	if err != nil {
		return store.User{}, err
	}
	return store.User{UserName: userName, ExternalID: externalID, Attributes: raw}, nil
}

// render prepares u for an answer under projection p.
func (h *userHandler) render(u store.User, p query.Projection) (rendered, error) {
	r := rendered{id: u.ID, version: u.Version, created: u.Created, modified: u.Modified, attrs: map[string]any{}}
	if p.ReturnsExternalID(h.res) {
		r.externalID = u.ExternalID
	}
	if len(u.Groups) > 0 {
		groups := make([]any, len(u.Groups))
		for i, g := range u.Groups {
			groups[i] = map[string]any{
				"value":   g.ID,
				"display": g.DisplayName,
				"$ref":    h.a.base + "/Groups/" + g.ID,
				"type":    "direct",
			}
		}
		r.attrs["groups"] = groups
	}
	if st := u.State; st != nil {
		ext := map[string]any{"pendingActions": st.PendingActions}
		if st.ProvisioningState != "" {
			ext["provisioningState"] = st.ProvisioningState
		}
		if st.LastLogin != nil {
			ext["lastLogin"] = st.LastLogin.UTC().Format(time.RFC3339)
		}
		r.attrs[catalog.BridgeUserSchema] = ext
	}
	return r.withStored(u.Attributes, h.res, p, h.unstored)
}

// userDoc is a user's attribute document with its externalId: the form
// PATCH works on and change events compare.
func userDoc(u store.User) (map[string]any, error) {
	doc, err := decodeAttributes(u.Attributes)
	if err != nil {
		return nil, err
	}
	if u.ExternalID != "" {
		doc["externalId"] = u.ExternalID
	}
	return doc, nil
}

// userFromDoc turns a document back into the user to store.
func userFromDoc(id string, doc map[string]any) (store.User, error) {
	rest := maps.Clone(doc)
	externalID, _ := rest["externalId"].(string)
	delete(rest, "externalId")
	userName, _ := rest["userName"].(string)
	raw, err := encodeAttributes(rest)
	if err != nil {
		return store.User{}, err
	}
	return store.User{ID: id, UserName: userName, ExternalID: externalID, Attributes: raw}, nil
}

func (h *userHandler) Create(r *http.Request, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	ctx := r.Context()
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	u, err := h.fromAttributes(attrs)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	u.ID = newID()
	err = h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		if err := tx.CreateUser(ctx, h.a.name, &u); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, userEvents(h.res, h.a.name, u.ID, nil, map[string]any{}))
	})
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	rd, err := h.render(u, p)
	return h.respond(r, rd, err)
}

func (h *userHandler) Get(r *http.Request, id string) (elimity.Resource, error) {
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	u, err := h.a.s.cfg.Store.GetUser(r.Context(), h.a.name, id, h.load(p))
	if err != nil {
		return elimity.Resource{}, h.lookupError(r, id, err)
	}
	rd, err := h.render(u, p)
	return h.respond(r, rd, err)
}

// Replace is PUT: the body is the whole new resource. Nothing is written
// (and the version stays) when it equals what is stored, as with Okta's
// read-modify-write cycles that change nothing.
func (h *userHandler) Replace(r *http.Request, id string, attrs elimity.ResourceAttributes) (elimity.Resource, error) {
	ctx := r.Context()
	p, err := h.projection(r)
	if err != nil {
		return elimity.Resource{}, err
	}
	u, err := h.fromAttributes(attrs)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	newDoc, err := userDoc(u)
	if err != nil {
		return elimity.Resource{}, h.fail(r, err)
	}
	var result store.User
	err = h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		if err := h.write(ctx, tx, r, id, func(map[string]any) (map[string]any, error) { return newDoc, nil }); err != nil {
			return err
		}
		var err error
		result, err = tx.GetUser(ctx, h.a.name, id, h.load(p))
		return err
	})
	if err != nil {
		return elimity.Resource{}, h.lookupError(r, id, err)
	}
	rd, err := h.render(result, p)
	return h.respond(r, rd, err)
}

// current reads user id inside tx and checks the request's If-Match
// against its version.
func (h *userHandler) current(ctx context.Context, tx store.Tx, r *http.Request, id string) (store.User, error) {
	u, err := tx.GetUser(ctx, h.a.name, id, store.Load{})
	if err != nil {
		return store.User{}, err
	}
	return u, checkIfMatch(r, u.Version)
}

// write changes user id inside tx to what change makes of its document,
// checking If-Match, and records the change events. It writes nothing
// when nothing changed.
func (h *userHandler) write(ctx context.Context, tx store.Tx, r *http.Request, id string, change func(map[string]any) (map[string]any, error)) error {
	old, err := h.current(ctx, tx, r, id)
	if err != nil {
		return err
	}
	oldDoc, err := userDoc(old)
	if err != nil {
		return err
	}
	work, err := userDoc(old)
	if err != nil {
		return err
	}
	newDoc, err := change(work)
	if err != nil {
		return err
	}
	events := userEvents(h.res, h.a.name, id, oldDoc, newDoc)
	if len(changedAttributes(h.res, oldDoc, newDoc)) == 0 {
		return nil
	}
	u, err := userFromDoc(id, newDoc)
	if err != nil {
		return err
	}
	if err := tx.ReplaceUser(ctx, h.a.name, &u); err != nil {
		return err
	}
	return tx.AppendEvents(ctx, events)
}

// Delete removes the user. A user deleted while active is also reported
// deactivated, so that offboarding runs downstream.
func (h *userHandler) Delete(r *http.Request, id string) error {
	return h.remove(r, id, func(ctx context.Context, tx store.Tx) error {
		old, err := h.current(ctx, tx, r, id)
		if err != nil {
			return err
		}
		oldDoc, err := userDoc(old)
		if err != nil {
			return err
		}
		if err := tx.DeleteUser(ctx, h.a.name, id); err != nil {
			return err
		}
		return tx.AppendEvents(ctx, userEvents(h.res, h.a.name, id, oldDoc, nil))
	})
}

// patch applies PATCH operations to user id and returns the new user.
func (h *userHandler) patch(r *http.Request, id string, ops []patch.Op, load store.Load) (store.User, error) {
	ctx := r.Context()
	var result store.User
	err := h.a.s.cfg.Store.Update(ctx, func(tx store.Tx) error {
		err := h.write(ctx, tx, r, id, func(doc map[string]any) (map[string]any, error) {
			if _, err := patch.Apply(h.res, doc, ops); err != nil {
				return nil, err
			}
			if err := compat.Required(h.res, doc); err != nil {
				return nil, err
			}
			return doc, nil
		})
		if err != nil {
			return err
		}
		result, err = tx.GetUser(ctx, h.a.name, id, load)
		return err
	})
	return result, err
}
