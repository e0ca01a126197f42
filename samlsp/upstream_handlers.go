package samlsp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"runtime"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
)

// serveACS receives the upstream IdP's response. crewjam validates it;
// around that, a structural pre-check and a recover turn crewjam's known
// panics into a refusal.
func (s *Service) serveACS(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			kind := fmt.Sprintf("%T", p)
			if re, ok := p.(runtime.Error); ok {
				kind = re.Error()
			}
			s.log.ErrorContext(r.Context(), "saml: the ACS panicked on a response; refused it", "panic", kind)
			s.refuseSignIn(w)
		}
	}()
	r.Body = http.MaxBytesReader(w, r.Body, maxSAMLResponseLength)
	if err := r.ParseForm(); err != nil {
		s.onSPError(w, r, fmt.Errorf("cannot parse the form: %w", err))
		return
	}
	if err := precheckResponse(r.PostForm.Get("SAMLResponse"), s.cfg.SPKey.Key); err != nil {
		s.onSPError(w, r, err)
		return
	}
	s.sp.ServeACS(w, r)
}

// onSPError replaces crewjam's DefaultOnError, which logs the whole
// SAMLResponse.
func (s *Service) onSPError(w http.ResponseWriter, r *http.Request, err error) {
	s.log.WarnContext(r.Context(), "saml: refused a sign-in response", "reason", refusalReason(err))
	s.refuseSignIn(w)
}

func (s *Service) refuseSignIn(w http.ResponseWriter) {
	writeMessage(w, http.StatusForbidden, "Sign-in failed",
		"The sign-in could not be completed. Please start again from the page you wanted to open.")
}

// serveLogin starts an SP-initiated sign-in that returns to the local
// path in ?return=.
func (s *Service) serveLogin(w http.ResponseWriter, r *http.Request) {
	target := safeReturnPath(r.URL.Query().Get("return"))
	u, err := url.Parse(target)
	if err != nil || u.Path == upstreamACSPath || u.Path == upstreamLoginPath {
		u = &url.URL{Path: "/"}
	}
	// The tracker remembers the URL of the request it is given.
	tr := r.Clone(r.Context())
	tr.URL = u
	sp := &s.sp.ServiceProvider
	binding := saml.HTTPPostBinding
	location := sp.GetSSOBindingLocation(binding)
	if location == "" {
		binding = saml.HTTPRedirectBinding
		location = sp.GetSSOBindingLocation(binding)
	}
	req, err := sp.MakeAuthenticationRequest(location, binding, saml.HTTPPostBinding)
	if err != nil {
		s.internalError(w, r, "make the AuthnRequest", err)
		return
	}
	relayState, err := s.sp.RequestTracker.TrackRequest(w, tr, req.ID)
	if err != nil {
		s.internalError(w, r, "track the AuthnRequest", err)
		return
	}
	if binding == saml.HTTPRedirectBinding {
		to, err := req.Redirect(relayState, sp)
		if err != nil {
			s.internalError(w, r, "encode the AuthnRequest", err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		http.Redirect(w, r, to.String(), http.StatusFound)
		return
	}
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	var buf bytes.Buffer
	if _, err := doc.WriteTo(&buf); err != nil {
		s.internalError(w, r, "encode the AuthnRequest", err)
		return
	}
	writePostForm(w, s.formPolicy, location, []postField{
		{"SAMLRequest", base64.StdEncoding.EncodeToString(buf.Bytes())},
		{"RelayState", relayState},
	})
}

// serveLogout ends the session here. It does not sign the person out of
// the upstream IdP (crewjam has no single logout to offer).
func (s *Service) serveLogout(w http.ResponseWriter, r *http.Request) {
	if err := s.sessions.DeleteSession(w, r); err != nil {
		s.internalError(w, r, "delete the session", err)
		return
	}
	writeMessage(w, http.StatusOK, "Signed out", "You are signed out of scimbridge.")
}

// RequireSession passes requests with a live upstream session to next,
// with the session in the context (SessionFrom). Others are sent to sign
// in and come back to the same local URL; a non-GET request cannot be
// replayed after the round trip, so it gets 401 instead.
func (s *Service) RequireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess, err := s.sessions.lookup(r)
		if err == nil {
			next.ServeHTTP(w, r.WithContext(withSession(r.Context(), sess)))
			return
		}
		if !errors.Is(err, errNoSession) {
			s.internalError(w, r, "read the session", err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			writeMessage(w, http.StatusUnauthorized, "Signed out", "Your session has ended. Please sign in again.")
			return
		}
		to := upstreamLoginPath + "?" + url.Values{"return": {r.URL.RequestURI()}}.Encode()
		http.Redirect(w, r, to, http.StatusSeeOther)
	})
}

// internalError logs err (never personal data: callers pass errors of
// their own making) and answers 500 without details.
func (s *Service) internalError(w http.ResponseWriter, r *http.Request, what string, err error) {
	s.log.ErrorContext(r.Context(), "saml: could not "+what, "error", err)
	writeMessage(w, http.StatusInternalServerError, "Something went wrong", "Something went wrong on our side. Please try again.")
}
