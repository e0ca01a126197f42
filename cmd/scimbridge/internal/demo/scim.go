package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// SCIM schema URNs the IdP sends.
const (
	userSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	groupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
	patchSchema      = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	// oktaAgent is what Okta's provisioning connector calls itself.
	oktaAgent = "Okta SCIM Client 1.0.0"
)

// scimClient is the IdP's provisioning connector for one app: requests
// shaped as Okta sends them.
type scimClient struct{ jsonClient }

func newSCIMClient(hc *http.Client, base, token string) *scimClient {
	return &scimClient{jsonClient{hc: hc, base: base, token: token, limit: maxAnswer,
		contentType: "application/scim+json; charset=utf-8",
		header:      map[string]string{"Accept": "application/scim+json", "User-Agent": oktaAgent}}}
}

// maxAnswer bounds how much of an answer is read.
const maxAnswer = 1 << 20

// jsonClient sends requests with a bearer token and a JSON body, and
// reads JSON answers: the script's SCIM and admin API clients.
type jsonClient struct {
	hc          *http.Client
	base        string // the URL paths are relative to, without a trailing slash
	token       string
	contentType string            // of request bodies
	header      map[string]string // more headers on every request
	limit       int64             // of an answer's bytes
}

// do sends a request with body as JSON (none when nil) and decodes a
// JSON answer into out (when not nil). An answer other than 2xx is an
// error that quotes it.
func (c *jsonClient) do(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	if body != nil {
		req.Header.Set("Content-Type", c.contentType)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, c.limit))
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	if res.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: HTTP %d: %s", method, path, res.StatusCode, bytes.TrimSpace(b))
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: the answer is not JSON: %w", method, path, err)
		}
	}
	return nil
}

// userResource is a user as Okta pushes it.
func userResource(p *person) map[string]any {
	return map[string]any{
		"schemas":     []string{userSchema, enterpriseSchema},
		"externalId":  p.externalID,
		"userName":    p.email,
		"name":        map[string]string{"givenName": p.given, "familyName": p.family},
		"displayName": p.name(),
		"title":       p.title,
		"locale":      "en-US",
		"emails":      []map[string]any{{"primary": true, "value": p.email, "type": "work"}},
		"active":      p.active,
		enterpriseSchema: map[string]string{
			"department": p.department(),
		},
	}
}

type resource struct {
	ID string `json:"id"`
}

// createUser looks the person up by userName, as Okta does first, and
// creates them when absent. It returns their SCIM id.
func (c *scimClient) createUser(ctx context.Context, p *person) (string, error) {
	var list struct {
		Resources []resource `json:"Resources"`
	}
	q := url.Values{"filter": {fmt.Sprintf("userName eq %q", p.email)}, "startIndex": {"1"}, "count": {"100"}}
	if err := c.do(ctx, http.MethodGet, "/Users?"+q.Encode(), nil, &list); err != nil {
		return "", err
	}
	if len(list.Resources) > 0 {
		return list.Resources[0].ID, nil
	}
	var r resource
	if err := c.do(ctx, http.MethodPost, "/Users", userResource(p), &r); err != nil {
		return "", err
	}
	if r.ID == "" {
		return "", fmt.Errorf("POST /Users: the answer has no id")
	}
	return r.ID, nil
}

// replaceUser writes the person's profile as it is now: Okta reads the
// user, then puts the whole resource back.
func (c *scimClient) replaceUser(ctx context.Context, id string, p *person) error {
	var current map[string]any
	if err := c.do(ctx, http.MethodGet, "/Users/"+id, nil, &current); err != nil {
		return err
	}
	body := userResource(p)
	body["id"] = id
	return c.do(ctx, http.MethodPut, "/Users/"+id, body, nil)
}

// setActive deactivates or reactivates a user the way Okta does: a PATCH
// without a path.
func (c *scimClient) setActive(ctx context.Context, id string, active bool) error {
	return c.do(ctx, http.MethodPatch, "/Users/"+id, map[string]any{
		"schemas":    []string{patchSchema},
		"Operations": []map[string]any{{"op": "replace", "value": map[string]any{"active": active}}},
	}, nil)
}

// createGroup pushes a group, empty; members follow by PATCH.
func (c *scimClient) createGroup(ctx context.Context, name string) (string, error) {
	var r resource
	err := c.do(ctx, http.MethodPost, "/Groups", map[string]any{
		"schemas": []string{groupSchema}, "displayName": name, "members": []any{},
	}, &r)
	if err == nil && r.ID == "" {
		err = fmt.Errorf("POST /Groups: the answer has no id")
	}
	return r.ID, err
}

// member is a group member as a PATCH names it.
type member struct {
	Value   string `json:"value"`
	Display string `json:"display"`
}

// addMembers adds users to a group.
func (c *scimClient) addMembers(ctx context.Context, groupID string, values []member) error {
	return c.do(ctx, http.MethodPatch, "/Groups/"+groupID, map[string]any{
		"schemas":    []string{patchSchema},
		"Operations": []map[string]any{{"op": "add", "path": "members", "value": values}},
	}, nil)
}

// removeMember takes a user out of a group, with a value filter as Okta
// writes it.
func (c *scimClient) removeMember(ctx context.Context, groupID, userID string) error {
	return c.do(ctx, http.MethodPatch, "/Groups/"+groupID, map[string]any{
		"schemas":    []string{patchSchema},
		"Operations": []map[string]any{{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", userID)}},
	}, nil)
}
