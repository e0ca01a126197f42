package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// killUser is what the IdP was last told about a user: the state every
// acknowledged write leaves.
type killUser struct {
	id     string
	name   string
	title  string
	active bool
}

// killWorld is the IdP side of TestMixedWorkloadSurvivesSIGKILL: each
// worker owns its users and its group, so that the last acknowledged
// write to each is known without ordering between workers.
type killWorld struct {
	t      *testing.T
	base   string
	token  string
	client *http.Client
	// gate lets the killer stop the workers between a restart and its
	// checks; workers hold it shared for a whole write, retries included.
	gate sync.RWMutex
	mu   sync.Mutex
	// users and members are the acknowledged state.
	users   map[string]*killUser
	members map[string]map[string]bool // group id → member ids
	odd     []string
}

// send sends one SCIM request until the server answers it, through kills
// and restarts, and returns the status and body.
func (w *killWorld) send(method, path string, body any) (int, []byte) {
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
	}
	for attempt := 0; attempt < 1500; attempt++ {
		req, _ := http.NewRequest(method, w.base+"/apps/acme/scim/v2"+path, bytes.NewReader(raw))
		req.Header.Set("Authorization", "Bearer "+w.token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := w.client.Do(req)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		out, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		return res.StatusCode, out
	}
	return 0, nil
}

func (w *killWorld) fail(format string, args ...any) {
	w.mu.Lock()
	w.odd = append(w.odd, fmt.Sprintf(format, args...))
	w.mu.Unlock()
}

const userSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

func (w *killWorld) userBody(u *killUser, title string, active bool) map[string]any {
	return map[string]any{"schemas": []string{userSchema}, "userName": u.name, "title": title, "active": active,
		"emails": []map[string]any{{"value": u.name, "type": "work", "primary": true}}}
}

// create makes a new user; a create whose answer was lost comes back
// 409 on the retry, and the user is looked up.
func (w *killWorld) create(name string) *killUser {
	u := &killUser{name: name, active: true}
	status, body := w.send("POST", "/Users", w.userBody(u, "", true))
	switch status {
	case http.StatusCreated:
	case http.StatusConflict:
		status, body = w.send("GET", "/Users?filter="+strings.ReplaceAll(fmt.Sprintf("userName eq %q", name), " ", "%20"), nil)
		var list struct{ Resources []json.RawMessage }
		if status != 200 || json.Unmarshal(body, &list) != nil || len(list.Resources) != 1 {
			w.fail("create %s: 409, then the lookup answered %d %s", name, status, body)
			return nil
		}
		body = list.Resources[0]
	default:
		w.fail("create %s: %d %s", name, status, body)
		return nil
	}
	var got struct{ ID string }
	if json.Unmarshal(body, &got) != nil || got.ID == "" {
		w.fail("create %s: no id in %s", name, body)
		return nil
	}
	u.id = got.ID
	w.mu.Lock()
	w.users[u.id] = u
	w.mu.Unlock()
	return u
}

// change sends one random write about u, or about group, and records it
// once acknowledged.
func (w *killWorld) change(u *killUser, group string, n int) {
	title := fmt.Sprintf("title %d", n)
	switch rand.IntN(5) {
	case 0: // Okta: the whole user
		active := rand.IntN(4) != 0
		if status, body := w.send("PUT", "/Users/"+u.id, w.userBody(u, title, active)); status != 200 {
			w.fail("PUT %s: %d %s", u.name, status, body)
			return
		}
		w.mu.Lock()
		u.title, u.active = title, active
		w.mu.Unlock()
	case 1, 2: // Entra: one attribute, or the active flag
		op := map[string]any{"op": "replace", "path": "title", "value": title}
		active := u.active
		if rand.IntN(2) == 0 {
			active = !u.active
			op = map[string]any{"op": "replace", "path": "active", "value": active}
		}
		body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op}}
		if status, out := w.send("PATCH", "/Users/"+u.id, body); status != 200 {
			w.fail("PATCH %s: %d %s", u.name, status, out)
			return
		}
		w.mu.Lock()
		if op["path"] == "title" {
			u.title = title
		} else {
			u.active = active
		}
		w.mu.Unlock()
	default: // a group push: add the user, or take them out
		w.mu.Lock()
		member := w.members[group][u.id]
		w.mu.Unlock()
		op := map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": u.id}}}
		if member {
			op = map[string]any{"op": "remove", "path": fmt.Sprintf("members[value eq %q]", u.id)}
		}
		body := map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{op}}
		status, out := w.send("PATCH", "/Groups/"+group, body)
		if status != http.StatusNoContent && status != http.StatusOK {
			w.fail("PATCH group %s: %d %s", group, status, out)
			return
		}
		w.mu.Lock()
		w.members[group][u.id] = !member
		w.mu.Unlock()
	}
}

// TestMixedWorkloadSurvivesSIGKILL kills the real server with SIGKILL 20
// times while IdP workers create users, replace them, patch them,
// deactivate and reactivate them, and push group memberships. After each
// restart it stops the workers and checks: every acknowledged write is
// there, the engine dispatched every change event exactly once in effect
// (each user has exactly the pending tasks its last acknowledged state
// calls for, never two), and the database passes PRAGMA integrity_check.
func TestMixedWorkloadSurvivesSIGKILL(t *testing.T) {
	const (
		kills   = 20
		workers = 6
	)
	k := newKillable(t)
	w := &killWorld{t: t, base: k.base, token: k.token,
		client: &http.Client{Timeout: 10 * time.Second}, users: map[string]*killUser{}, members: map[string]map[string]bool{}}

	groups := make([]string, workers)
	for i := range groups {
		status, body := w.send("POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"},
			"displayName": fmt.Sprintf("team %d", i)})
		var g struct{ ID string }
		if status != http.StatusCreated || json.Unmarshal(body, &g) != nil {
			t.Fatalf("create group: %d %s", status, body)
		}
		groups[i], w.members[g.ID] = g.ID, map[string]bool{}
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := range workers {
		wg.Go(func() {
			var mine []*killUser
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				w.gate.RLock()
				if len(mine) < 20 || rand.IntN(4) == 0 {
					if u := w.create(fmt.Sprintf("w%d-u%04d@example.com", i, n)); u != nil {
						mine = append(mine, u)
					}
				} else {
					w.change(mine[rand.IntN(len(mine))], groups[i], n)
				}
				w.gate.RUnlock()
			}
		})
	}

	for n := range kills {
		time.Sleep(time.Duration(50+rand.IntN(250)) * time.Millisecond)
		k.kill()
		k.start()
		// Let the retries through, then hold the workers while checking.
		w.gate.Lock()
		w.check(t, k.db, n+1)
		w.gate.Unlock()
	}
	close(stop)
	wg.Wait()
	w.gate.Lock()
	w.check(t, k.db, kills+1)
	w.gate.Unlock()
	k.stop()
	t.Logf("%d users, %d group memberships after %d kills", len(w.users), w.memberships(), kills)
}

func (w *killWorld) memberships() int {
	n := 0
	for _, m := range w.members {
		for _, in := range m {
			if in {
				n++
			}
		}
	}
	return n
}

// check compares the server with the acknowledged state, after the
// engine has dispatched every change event.
func (w *killWorld) check(t *testing.T, dbPath string, round int) {
	t.Helper()
	if len(w.odd) > 0 {
		t.Fatalf("round %d: unexpected answers: %q", round, w.odd[:min(len(w.odd), 5)])
	}
	conn, err := sql.Open("sqlite", "file:"+dbPath+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var cursor, last int64
		conn.QueryRow("SELECT coalesce((SELECT seq FROM scim_event_cursors WHERE consumer = 'engine'), 0)").Scan(&cursor)
		conn.QueryRow("SELECT coalesce(max(seq), 0) FROM scim_events").Scan(&last)
		if cursor == last {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("round %d: the engine is stuck at event %d of %d", round, cursor, last)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Every acknowledged write, through the SCIM API.
	for id, u := range w.users {
		status, body := w.send("GET", "/Users/"+id, nil)
		var got struct {
			UserName, Title string
			Active          bool
		}
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("round %d: GET %s: %d %s", round, u.name, status, body)
		}
		if got.UserName != u.name || got.Title != u.title || got.Active != u.active {
			t.Errorf("round %d: %s is %+v; the last acknowledged write left title %q, active %v", round, u.name, got, u.title, u.active)
		}
	}
	for group, want := range w.members {
		status, body := w.send("GET", "/Groups/"+group, nil)
		var got struct{ Members []struct{ Value string } }
		if status != 200 || json.Unmarshal(body, &got) != nil {
			t.Fatalf("round %d: GET group: %d %s", round, status, body)
		}
		var have, expect []string
		for _, m := range got.Members {
			have = append(have, m.Value)
		}
		for id, in := range want {
			if in {
				expect = append(expect, id)
			}
		}
		slices.Sort(have)
		slices.Sort(expect)
		if !slices.Equal(have, expect) {
			t.Errorf("round %d: group %s has members %v, want %v", round, group, have, expect)
		}
	}

	// Exactly once in effect: an active user waits for exactly one
	// create; a user the IdP deactivated before anyone acted waits for
	// nothing, as the deactivation superseded the create.
	rows, err := conn.Query(`SELECT user_id, kind, count(*) FROM adapter_tasks
		WHERE app = 'acme' AND status IN ('awaiting_approval', 'open', 'claimed') GROUP BY user_id, kind`)
	if err != nil {
		t.Fatal(err)
	}
	pending := map[string][]string{}
	for rows.Next() {
		var user, kind string
		var n int
		rows.Scan(&user, &kind, &n)
		for range n {
			pending[user] = append(pending[user], kind)
		}
	}
	rows.Close()
	for id, u := range w.users {
		want := []string(nil)
		if u.active {
			want = []string{"create"}
		}
		if !slices.Equal(pending[id], want) {
			t.Errorf("round %d: %s (active %v) has pending tasks %v, want %v", round, u.name, u.active, pending[id], want)
		}
	}
	var integrity string
	if err := conn.QueryRow("PRAGMA integrity_check").Scan(&integrity); err != nil || integrity != "ok" {
		t.Errorf("round %d: integrity_check: %q, %v", round, integrity, err)
	}
	if t.Failed() {
		t.FailNow()
	}
}
