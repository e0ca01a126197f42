package samltest

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
)

// NewLateServer starts an httptest server whose handler is set later with
// the returned function: SAML entities need their own absolute URLs before
// their handlers can be built.
func NewLateServer(t testing.TB) (*httptest.Server, func(http.Handler)) {
	t.Helper()
	var h atomic.Pointer[http.Handler]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := h.Load()
		if p == nil {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		(*p).ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv, func(handler http.Handler) { h.Store(&handler) }
}
