package scim_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// benchServer is the real handler over a loaded SQLite file, called
// in-process so that profiles show only the server's work.
type benchServer struct {
	h     http.Handler
	token string
}

func newBenchServer(b *testing.B, users int) *benchServer {
	b.Helper()
	ctx := context.Background()
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), sqlite.Options{Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	s, err := scim.NewServer(scim.Config{Store: db, Apps: []string{"acme"}, BaseURL: "http://bench", Logger: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close(); db.Close() })
	tok, _, err := scim.IssueToken(ctx, db, "acme", "bench")
	if err != nil {
		b.Fatal(err)
	}
	bs := &benchServer{h: scim.AccessLog(log, s.Handler()), token: tok}
	for i := range users {
		r := bs.do("POST", "/Users", fmt.Sprintf(`{"schemas":[%s,%s],"userName":"user%06d@example.com","externalId":"ext-%d",
			"name":{"givenName":"Given%d","familyName":"Family%d"},"displayName":"Given%d Family%d","active":true,
			"emails":[{"value":"user%06d@example.com","type":"work","primary":true}],
			"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"%d","department":"D%d"}}`,
			userSchema, entSchema, i, i, i, i, i, i, i, i, i%50))
		if r.Code != http.StatusCreated {
			b.Fatalf("load: %d %s", r.Code, r.Body)
		}
	}
	return bs
}

func (bs *benchServer) do(method, path, body string) *httptest.ResponseRecorder {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, "http://bench/apps/acme/scim/v2"+path, rd)
	req.Header.Set("Authorization", "Bearer "+bs.token)
	req.Header.Set("Content-Type", "application/scim+json")
	rec := httptest.NewRecorder()
	bs.h.ServeHTTP(rec, req)
	return rec
}

func BenchmarkFilterUserNameEq(b *testing.B) {
	bs := newBenchServer(b, 5000)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			f := url.QueryEscape(fmt.Sprintf(`userName eq "USER%06d@example.com"`, i%5000))
			if r := bs.do("GET", "/Users?filter="+f, ""); r.Code != http.StatusOK {
				b.Fatalf("%d %s", r.Code, r.Body)
			}
		}
	})
}

func BenchmarkCreateUser(b *testing.B) {
	bs := newBenchServer(b, 0)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r := bs.do("POST", "/Users", `{"schemas":[`+userSchema+`],"userName":"`+rand.Text()+`","active":true,
				"emails":[{"value":"x@example.com","type":"work","primary":true}]}`)
			if r.Code != http.StatusCreated {
				b.Fatalf("%d %s", r.Code, r.Body)
			}
		}
	})
}

func BenchmarkListGroupsExcludingMembers(b *testing.B) {
	bs := newBenchServer(b, 1000)
	ids := make([]string, 0, 1000)
	r := bs.do("GET", "/Users?count=1000&attributes=id", "")
	for _, m := range strings.Split(r.Body.String(), `"id":"`)[1:] {
		ids = append(ids, m[:36])
	}
	for i := range 10000 {
		members := fmt.Sprintf(`{"value":"%s"},{"value":"%s"}`, ids[i%len(ids)], ids[(i*7+1)%len(ids)])
		if r := bs.do("POST", "/Groups", fmt.Sprintf(`{"schemas":[%s],"displayName":"Group %05d","members":[%s]}`, groupSchema, i, members)); r.Code != http.StatusCreated {
			b.Fatalf("%d %s", r.Code, r.Body)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			path := fmt.Sprintf("/Groups?excludedAttributes=members&count=100&startIndex=%d", 1+100*(i*37%100))
			if r := bs.do("GET", path, ""); r.Code != http.StatusOK {
				b.Fatalf("%d %s", r.Code, r.Body)
			}
		}
	})
}

// BenchmarkListGroupsWithMembers reads pages of 100 groups of 50 members
// each, as Okta's import does (its test O15).
func BenchmarkListGroupsWithMembers(b *testing.B) {
	bs := newBenchServer(b, 5000)
	ids := make([]string, 0, 5000)
	r := bs.do("GET", "/Users?count=5000&attributes=id", "")
	for _, m := range strings.Split(r.Body.String(), `"id":"`)[1:] {
		ids = append(ids, m[:36])
	}
	for i := range 1000 {
		members := make([]string, 50)
		for j := range members {
			members[j] = fmt.Sprintf(`{"value":"%s"}`, ids[(i*50+j*97)%len(ids)])
		}
		body := fmt.Sprintf(`{"schemas":[%s],"displayName":"Group %05d","members":[%s]}`, groupSchema, i, strings.Join(members, ","))
		if r := bs.do("POST", "/Groups", body); r.Code != http.StatusCreated {
			b.Fatalf("%d %s", r.Code, r.Body)
		}
	}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			if r := bs.do("GET", fmt.Sprintf("/Groups?count=100&startIndex=%d", 1+100*(i*37%10)), ""); r.Code != http.StatusOK {
				b.Fatalf("%d %s", r.Code, r.Body)
			}
		}
	})
}
