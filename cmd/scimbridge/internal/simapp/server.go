// Package simapp runs stand-ins for SaaS apps and for a company IdP on
// 127.0.0.1, for "scimbridge demo": real HTTP servers that behave, where
// scimbridge touches them, as the apps do. A 6clicks-like app with a
// user API (GRC), a 6sense-like app that creates users at their first
// SAML login (JITApp), and an IdP whose sign-in page lets a person pick
// who they are (CompanyIdP). They keep everything in memory.
package simapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// server is an HTTP server on a free port of 127.0.0.1. It listens as soon
// as it is made, since SAML parties need their own URLs before their
// handlers can be built, and answers 503 until it has a handler.
type server struct {
	url     string
	hs      *http.Server
	handler atomic.Pointer[http.Handler]
	served  chan error
}

func listen() (*server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen: %w", err)
	}
	s := &server{url: "http://" + ln.Addr().String(), served: make(chan error, 1)}
	s.hs = &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h := s.handler.Load()
			if h == nil {
				http.Error(w, "starting", http.StatusServiceUnavailable)
				return
			}
			(*h).ServeHTTP(w, r)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
	go func() { s.served <- s.hs.Serve(ln) }()
	return s, nil
}

// setHandler starts answering with h.
func (s *server) setHandler(h http.Handler) { s.handler.Store(&h) }

// close stops the server, letting requests in flight finish until ctx
// ends.
func (s *server) close(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	if served := <-s.served; served != nil && !errors.Is(served, http.ErrServerClosed) && err == nil {
		err = served
	}
	return err
}

// maxNotes bounds what an app keeps to tell until someone takes it.
const maxNotes = 200

// notes is what an app did, in words, for the demo to show under the
// step that caused it.
type notes struct {
	mu    sync.Mutex
	lines []string
}

func (n *notes) add(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.lines) == maxNotes {
		n.lines = n.lines[1:]
	}
	n.lines = append(n.lines, fmt.Sprintf(format, args...))
}

// take returns the notes kept since the last take.
func (n *notes) take() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := n.lines
	n.lines = nil
	return out
}
