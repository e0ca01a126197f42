package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	patchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	// patchAdd is how many users each measured membership PATCH adds.
	patchAdd = 50
	// setupBatch is how many members each set-up PATCH adds: 20,000
	// members load in a few seconds, in bodies of about 12 kB.
	setupBatch = 250
	// maxGroupPatchP99 is the membership PATCH target. Its cost is meant to
	// grow with the members changed only, so the same bound holds at every
	// group size.
	maxGroupPatchP99 = 25 * time.Millisecond
	// nominalUsers is the load the nominal group sizes are meant for;
	// smaller loads (-quick) scale the groups down with it.
	nominalUsers = 100000
	// groupPatchRequests bounds each run of a membership PATCH scenario:
	// a few hundred adds give a p99 and keep the three sizes short.
	groupPatchRequests = 150
	// userPatchRequests bounds each run of the user PATCH scenario.
	userPatchRequests = 3000
	// groupPatchName starts the names of the membership PATCH scenarios;
	// the report compares their p99s across group sizes.
	groupPatchName = "PATCH /Groups add"
)

type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path,omitempty"`
	Value any    `json:"value"`
}

type patchBody struct {
	Schemas    []string  `json:"schemas"`
	Operations []patchOp `json:"Operations"`
}

func patchRequestBody(ops ...patchOp) ([]byte, error) {
	b, err := json.Marshal(patchBody{Schemas: []string{patchOpSchema}, Operations: ops})
	if err != nil {
		return nil, fmt.Errorf("encode PATCH: %w", err)
	}
	return b, nil
}

// membersBody is a PATCH adding or removing the users ids as members, in
// the shape Entra ID sends.
func membersBody(op string, ids []string) ([]byte, error) {
	values := make([]memberBody, len(ids))
	for i, id := range ids {
		values[i] = memberBody{Value: id}
	}
	return patchRequestBody(patchOp{Op: op, Path: "members", Value: values})
}

// patchScenarios are the PATCH scenarios: a user attribute, then group
// membership at three group sizes. They come last because the membership
// ones leave a big group behind.
func patchScenarios(l *loaded) []scenario {
	out := []scenario{userPatchScenario(l)}
	g := &memberGroup{userIDs: l.userIDs}
	for _, nominal := range []int{1000, 10000, 20000} {
		size := nominal
		if n := len(l.userIDs); n < nominalUsers {
			size = nominal * n / nominalUsers
		}
		out = append(out, g.scenario(size))
	}
	return out
}

// userPatchScenario replaces the title of random users. Every value is
// new, so that every request is a real change and writes.
func userPatchScenario(l *loaded) scenario {
	var titles atomic.Int64
	return scenario{
		name:        "PATCH /Users/{id} replace title",
		maxRequests: userPatchRequests,
		next: func() (request, error) {
			id := l.userIDs[rand.IntN(len(l.userIDs))]
			title := fmt.Sprintf("Engineer %d", titles.Add(1))
			body, err := patchRequestBody(patchOp{Op: "replace", Path: "title", Value: title})
			return request{method: "PATCH", path: "/Users/" + id, body: body, want: http.StatusOK, check: checkTitle(id, title)}, err
		},
	}
}

func checkTitle(id, title string) func([]byte) error {
	return func(body []byte) error {
		var r struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		}
		if err := json.Unmarshal(body, &r); err != nil || r.ID != id || r.Title != title {
			return fmt.Errorf("expected the user with id %s and title %q, got id %q, title %q", id, title, r.ID, r.Title)
		}
		return nil
	}
}

// scenario adds patchAdd users that are not members to the group at
// size members, on one client, as an IdP's sync of one group does. Each
// measured add is followed by an unmeasured remove of the same users, so
// that every add meets the same group size; req/s counts the adds.
func (g *memberGroup) scenario(size int) scenario {
	add := min(patchAdd, len(g.userIDs)-size)
	return scenario{
		name:        fmt.Sprintf("%s %d members (%s members), 1 client", groupPatchName, add, thousands(size)),
		target:      target{maxP99: maxGroupPatchP99},
		clients:     1,
		maxRequests: groupPatchRequests,
		groupSize:   size,
		setup: func(ctx context.Context, a *api, progress io.Writer) error {
			return g.grow(ctx, a, progress, size, add)
		},
		next:     g.request,
		teardown: g.check,
	}
}

// thousands writes n as "20k" when it is whole thousands, as labels do.
func thousands(n int) string {
	if n >= 1000 && n%1000 == 0 {
		return fmt.Sprintf("%dk", n/1000)
	}
	return fmt.Sprint(n)
}

// memberGroup is the group the membership PATCH scenarios change. It
// grows from one scenario to the next, so that set-up adds 20,000 members
// for the three sizes rather than 31,000. It is left in place at the end:
// deleting a group of 20,000 members takes the server minutes (it writes a
// member_removed event for each, at a cost that grows with the square of
// their number), and emptying it first would cost as much as filling it.
type memberGroup struct {
	userIDs []string // the loaded users
	order   []int    // userIDs indexes in random order: members first
	id      string   // "" until created, and after a scenario lost track
	size    int      // members: order[:size]

	// The lock only guards against a scenario being given more than one
	// client.
	mu       sync.Mutex
	add      int      // users each request adds
	outside  []string // loaded users that are not members
	next     int      // the index in outside of the next users to add
	lastETag string   // the group's version after the latest write
}

// grow brings the group to size members, creating it if need be, and
// readies the requests that add add at a time. Members go in setupBatch
// at a time: one POST with 20,000 members would be a 1 MB body.
func (g *memberGroup) grow(ctx context.Context, a *api, progress io.Writer, size, add int) error {
	start := time.Now()
	if g.id == "" || size < g.size {
		if err := g.create(ctx, a); err != nil {
			return err
		}
	}
	for batch := range chunks(g.order[g.size:size], setupBatch) {
		ids := make([]string, len(batch))
		for i, u := range batch {
			ids[i] = g.userIDs[u]
		}
		body, err := membersBody("add", ids)
		if err != nil {
			return err
		}
		if _, err := a.expect(ctx, "PATCH", "/Groups/"+g.id, body, http.StatusNoContent); err != nil {
			return err
		}
		g.size += len(batch)
	}
	n, etag, err := g.count(ctx, a)
	if err != nil {
		return err
	}
	if n != size {
		return fmt.Errorf("group %s has %d members after set-up, expected %d", g.id, n, size)
	}
	g.outside = make([]string, 0, len(g.order)-size)
	for _, u := range g.order[size:] {
		g.outside = append(g.outside, g.userIDs[u])
	}
	g.add, g.next, g.lastETag = add, 0, etag
	fmt.Fprintf(progress, "set up a group of %d members in %.1fs\n", size, time.Since(start).Seconds())
	return nil
}

// create creates an empty group and picks the order its members join in.
func (g *memberGroup) create(ctx context.Context, a *api) error {
	g.order = rand.Perm(len(g.userIDs))
	g.id, g.size = "", 0
	// The name is unique for each group created, as a retry needs.
	name := fmt.Sprintf("PATCH benchmark %d", time.Now().UnixNano())
	body, err := json.Marshal(groupBody{Schemas: []string{coreGroupSchema}, ExternalID: name, DisplayName: name})
	if err != nil {
		return fmt.Errorf("encode group: %w", err)
	}
	r, err := a.expect(ctx, "POST", "/Groups", body, http.StatusCreated)
	if err != nil {
		return err
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.body, &created); err != nil || created.ID == "" {
		return errors.New(describe("POST", "/Groups", r, "no id in the response"))
	}
	g.id = created.ID
	return nil
}

// chunks yields s in consecutive pieces of at most n.
func chunks[T any](s []T, n int) func(yield func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// request adds the next g.add outsiders, and removes them again after.
func (g *memberGroup) request() (request, error) {
	g.mu.Lock()
	ids := make([]string, g.add)
	for i := range ids {
		ids[i] = g.outside[(g.next+i)%len(g.outside)]
	}
	g.next = (g.next + g.add) % len(g.outside)
	g.mu.Unlock()
	add, err := membersBody("add", ids)
	if err != nil {
		return request{}, err
	}
	remove, err := membersBody("remove", ids)
	if err != nil {
		return request{}, err
	}
	path := "/Groups/" + g.id
	return request{
		method: "PATCH", path: path, body: add, want: http.StatusNoContent, verify: g.changed,
		then: &request{method: "PATCH", path: path, body: remove, want: http.StatusNoContent, verify: g.changed},
	}, nil
}

// changed checks that a write moved the group to a new version: a 204
// alone would not show that the members were added or removed.
func (g *memberGroup) changed(r response) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if r.etag == "" {
		return fmt.Errorf("no ETag in the response")
	}
	if r.etag == g.lastETag {
		return fmt.Errorf("ETag %s unchanged: the PATCH changed nothing", r.etag)
	}
	g.lastETag = r.etag
	return nil
}

// check checks that the group is back at its size after the runs. If it
// is not, the next scenario starts a new group.
func (g *memberGroup) check(ctx context.Context, a *api) (string, error) {
	n, _, err := g.count(ctx, a)
	if err != nil {
		return "", err
	}
	if n != g.size {
		problem := fmt.Sprintf("group %s has %d members, expected %d: an add or a remove was lost", g.id, n, g.size)
		g.id = ""
		return problem, nil
	}
	return "", nil
}

// count reads the group's member count and ETag. The count comes from a
// filter on the users, which the server answers without rendering the
// members: reading a group of 20,000 members would raise the server's
// memory by tens of MB and the RSS row would measure the check.
func (g *memberGroup) count(ctx context.Context, a *api) (int, string, error) {
	filter := fmt.Sprintf("groups.value eq %q", g.id)
	path := "/Users?count=0&filter=" + strings.ReplaceAll(url.QueryEscape(filter), "+", "%20")
	r, err := a.expect(ctx, "GET", path, nil, http.StatusOK)
	if err != nil {
		return 0, "", err
	}
	var l listBody
	if err := json.Unmarshal(r.body, &l); err != nil {
		return 0, "", errors.New(describe("GET", path, r, "not a ListResponse"))
	}
	path = "/Groups/" + g.id + "?excludedAttributes=members"
	if r, err = a.expect(ctx, "GET", path, nil, http.StatusOK); err != nil {
		return 0, "", err
	}
	return l.TotalResults, r.etag, nil
}

// expect sends one request outside any measurement and fails unless the
// answer has status want. The response's body is its own.
func (a *api) expect(ctx context.Context, method, path string, body []byte, want int) (response, error) {
	var buf bytes.Buffer
	r, err := a.do(ctx, method, path, body, &buf)
	if err != nil {
		return response{}, err
	}
	if r.status != want {
		return response{}, errors.New(describe(method, path, r, fmt.Sprintf("expected status %d", want)))
	}
	return r, nil
}
