package samlsp

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/crewjam/saml"
)

// maxAuthnRequestLength bounds a POST-binding AuthnRequest form.
const maxAuthnRequestLength = 256 << 10

// serveAppMetadata serves the IdP metadata an app is configured with.
func (s *Service) serveAppMetadata(w http.ResponseWriter, r *http.Request) {
	a, ok := s.apps[r.PathValue("app")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	b, err := a.metadata()
	if err != nil {
		s.internalError(w, r, "serve IdP metadata", err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	_, _ = w.Write(b)
}

// serveAppSSO receives an app's AuthnRequest (Redirect or POST binding),
// checks it now, parks it, and sends the browser on to resume it once it
// has an upstream session.
func (s *Service) serveAppSSO(w http.ResponseWriter, r *http.Request) {
	a, ok := s.apps[r.PathValue("app")]
	if !ok {
		http.NotFound(w, r)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxAuthnRequestLength)
	req, err := saml.NewIdpAuthnRequest(a.idp, r)
	if err == nil {
		req.Now = s.now()
		err = req.Validate()
	}
	if err != nil {
		// crewjam's messages name URLs and entity IDs, not people.
		s.log.WarnContext(r.Context(), "saml proxy: refused an app's sign-in request", "app", a.cfg.Name, "reason", err.Error())
		writeMessage(w, http.StatusBadRequest, "Sign-in request not valid",
			"The app sent a sign-in request scimbridge cannot accept. Please start again from the app.")
		return
	}
	id, binding, err := park(r.Context(), s.db, parkedRequest{
		App: a.cfg.Name, Request: req.RequestBuffer, RelayState: req.RelayState, Arrived: req.Now,
	}, s.cfg.RequestTTL)
	if err != nil {
		s.internalError(w, r, "park an app's sign-in request", err)
		return
	}
	http.SetCookie(w, s.parkedCookie(id, binding, int(s.cfg.RequestTTL.Seconds())))
	http.Redirect(w, r, resumePath+"?"+url.Values{"id": {id}}.Encode(), http.StatusSeeOther)
}

// parkedCookie binds a parked request to the browser that brought it.
// Lax: it must come along on the top-level redirect back from the ACS.
func (s *Service) parkedCookie(id, binding string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name:     parkedCookiePrefix + id,
		Value:    binding,
		Path:     resumePath,
		MaxAge:   maxAge,
		HttpOnly: true,
		Secure:   s.base.Scheme == "https",
		SameSite: http.SameSiteLaxMode,
	}
}

// serveResume runs behind RequireSession: it takes the parked request,
// asks the Directory whether this person may enter the app, and answers
// the app with a fresh assertion of scimbridge's own.
func (s *Service) serveResume(w http.ResponseWriter, r *http.Request) {
	sess, ok := SessionFrom(r.Context())
	if !ok {
		s.internalError(w, r, "resume a sign-in", errors.New("no session in the context"))
		return
	}
	id := r.URL.Query().Get("id")
	c, err := r.Cookie(parkedCookiePrefix + id)
	if id == "" || err != nil {
		s.pendingGone(w, r, "", errParkedUnknown)
		return
	}
	now := s.now()
	p, err := takeParked(r.Context(), s.db, id, c.Value, now)
	if err != nil {
		if errors.Is(err, errParkedUnknown) || errors.Is(err, errParkedExpired) {
			s.pendingGone(w, r, "", err)
			return
		}
		s.internalError(w, r, "take a parked sign-in request", err)
		return
	}
	http.SetCookie(w, s.parkedCookie(id, "", -1))
	a, ok := s.apps[p.App]
	if !ok {
		s.pendingGone(w, r, p.App, errors.New("the app is no longer configured"))
		return
	}
	req := &saml.IdpAuthnRequest{
		IDP: a.idp, HTTPRequest: r, RelayState: p.RelayState, RequestBuffer: p.Request,
		// Checked against the time it arrived, as crewjam allows a request
		// 90 s; the assertion is then made for now.
		Now: p.Arrived,
	}
	if err := req.Validate(); err != nil {
		s.pendingGone(w, r, p.App, err)
		return
	}
	req.Now = now
	u, err := s.dir.Authorize(r.Context(), a.cfg.Name, sess.Subject, sess.Attributes)
	if err != nil {
		s.refuseApp(w, r, a.cfg.Name, u, err)
		return
	}
	form, err := a.mint(req, u, sess.Created)
	if err != nil {
		s.internalError(w, r, "make an assertion", err)
		return
	}
	// Recorded before the assertion leaves: an app never sees a login the
	// directory missed.
	if err := s.dir.RecordLogin(r.Context(), a.cfg.Name, u, now, SourceProxy); err != nil {
		s.internalError(w, r, "record a login", err)
		return
	}
	s.log.InfoContext(r.Context(), "saml proxy: signed in to an app", "app", a.cfg.Name, "user_id", u.ID)
	fields := []postField{{"SAMLResponse", form.SAMLResponse}}
	if form.RelayState != "" {
		fields = append(fields, postField{"RelayState", form.RelayState})
	}
	writePostForm(w, s.formPolicy, form.URL, fields)
}

func (s *Service) pendingGone(w http.ResponseWriter, r *http.Request, app string, err error) {
	s.log.WarnContext(r.Context(), "saml proxy: cannot resume a sign-in", "app", app, "reason", err.Error())
	writeMessage(w, http.StatusBadRequest, "Sign-in expired",
		"This sign-in has expired, was already used, or was started in another browser. Please start again from the app.")
}

// refuseApp answers a Directory refusal (403) or failure (500). The log
// names the app and the user's directory id, nothing more personal.
func (s *Service) refuseApp(w http.ResponseWriter, r *http.Request, app string, u User, err error) {
	var reason, message string
	switch {
	case errors.Is(err, ErrNotAssigned):
		reason, message = "not assigned", "You are not assigned to this app. Ask your administrator for access."
	case errors.Is(err, ErrInactive):
		reason, message = "deactivated", "Your account is deactivated. Ask your administrator if this is a mistake."
	case errors.Is(err, ErrUnknownUser):
		reason, message = "unknown user", "Your account is not known for this app. Ask your administrator for access."
	default:
		s.internalError(w, r, "authorize a sign-in for app "+app, err)
		return
	}
	s.log.WarnContext(r.Context(), "saml proxy: refused a sign-in", "app", app, "user_id", u.ID, "reason", reason)
	writeMessage(w, http.StatusForbidden, "Access denied", message)
}
