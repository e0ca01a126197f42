package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 20: "20", 999: "999", 1000: "1k", 1500: "1500", 20000: "20k"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestChunks(t *testing.T) {
	var got [][]int
	for c := range chunks([]int{1, 2, 3, 4, 5}, 2) {
		got = append(got, c)
	}
	want := [][]int{{1, 2}, {3, 4}, {5}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("chunks = %v, want %v", got, want)
	}
	for range chunks([]int(nil), 2) {
		t.Error("chunks of nothing yielded")
	}
}

// memberValues decodes the member ids of a membersBody.
func memberValues(t *testing.T, body []byte) (op string, ids []string) {
	t.Helper()
	var p struct {
		Schemas    []string `json:"schemas"`
		Operations []struct {
			Op    string       `json:"op"`
			Path  string       `json:"path"`
			Value []memberBody `json:"value"`
		} `json:"Operations"`
	}
	if err := json.Unmarshal(body, &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Schemas) != 1 || p.Schemas[0] != patchOpSchema || len(p.Operations) != 1 || p.Operations[0].Path != "members" {
		t.Fatalf("not a members PATCH: %s", body)
	}
	for _, v := range p.Operations[0].Value {
		ids = append(ids, v.Value)
	}
	return p.Operations[0].Op, ids
}

func TestMemberGroupRequests(t *testing.T) {
	g := &memberGroup{id: "g1", add: 3, outside: []string{"a", "b", "c", "d", "e"}}
	var added [][]string
	for range 3 {
		req, err := g.request()
		if err != nil {
			t.Fatal(err)
		}
		if req.method != "PATCH" || req.path != "/Groups/g1" || req.then == nil || req.then.path != req.path {
			t.Fatalf("unexpected request %+v", req)
		}
		op, ids := memberValues(t, req.body)
		undo, undone := memberValues(t, req.then.body)
		if op != "add" || undo != "remove" || !slices.Equal(ids, undone) {
			t.Fatalf("add %v is undone by %s %v", ids, undo, undone)
		}
		added = append(added, ids)
	}
	// The outsiders are taken in turn, wrapping around, and never twice in
	// one request.
	want := [][]string{{"a", "b", "c"}, {"d", "e", "a"}, {"b", "c", "d"}}
	if !slices.EqualFunc(added, want, slices.Equal) {
		t.Errorf("added %v, want %v", added, want)
	}
}

func TestMemberGroupChanged(t *testing.T) {
	g := &memberGroup{lastETag: `W/"3"`}
	for i, tt := range []struct {
		etag string
		ok   bool
	}{{`W/"4"`, true}, {`W/"4"`, false}, {"", false}, {`W/"5"`, true}} {
		err := g.changed(response{etag: tt.etag})
		if (err == nil) != tt.ok {
			t.Errorf("%d: changed(%q) = %v, want ok %v", i, tt.etag, err, tt.ok)
		}
	}
	if g.lastETag != `W/"5"` {
		t.Errorf("lastETag = %s, want W/\"5\"", g.lastETag)
	}
}

func TestPatchScenariosScaleWithUsers(t *testing.T) {
	for _, users := range []int{100000, 2000} {
		l := &loaded{userIDs: make([]string, users)}
		for i := range l.userIDs {
			l.userIDs[i] = fmt.Sprint(i)
		}
		var sizes []int
		for _, sc := range patchScenarios(l) {
			if sc.groupSize > 0 {
				sizes = append(sizes, sc.groupSize)
			}
		}
		want := []int{1000, 10000, 20000}
		if users < nominalUsers {
			want = []int{20, 200, 400}
		}
		if !slices.Equal(sizes, want) {
			t.Errorf("%d users: group sizes %v, want %v", users, sizes, want)
		}
	}
}

func TestRunForLimitAndFollowUp(t *testing.T) {
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Method]++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hc := newHTTPClient(1)
	defer hc.CloseIdleConnections()
	sc := scenario{
		maxRequests: 10,
		next: func() (request, error) {
			return request{method: "PATCH", path: "/x", want: http.StatusNoContent,
				then: &request{method: "DELETE", path: "/x", want: http.StatusOK}}, nil
		},
	}
	r, err := runFor(context.Background(), newAPI(hc, srv.URL, "t"), sc, 1, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	// The follow-ups are sent but not measured; each answered 204 where
	// 200 was expected, which counts as an error.
	if r.requests != 10 || len(r.latencies) != 10 || r.errors != 10 {
		t.Errorf("requests %d, latencies %d, errors %d; want 10, 10, 10", r.requests, len(r.latencies), r.errors)
	}
	if seen["PATCH"] != 10 || seen["DELETE"] != 10 {
		t.Errorf("server saw %v, want 10 PATCH and 10 DELETE", seen)
	}
}
