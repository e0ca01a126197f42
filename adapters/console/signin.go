package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/scimbridge/scimbridge/scim"
)

// VerifyWith makes a Config.VerifyToken of an admin API authenticator,
// such as (*scim.Server).AdminActor: the token is checked as if it had
// come as the bearer token of an API request from the same client, with
// the same cache, logs, limits and last-use record.
func VerifyWith(auth func(*http.Request) (string, error)) func(r *http.Request, token string) (string, error) {
	return func(r *http.Request, token string) (string, error) {
		ar, err := http.NewRequestWithContext(r.Context(), http.MethodPost, Prefix+"signin", nil)
		if err != nil {
			return "", err
		}
		// Where the form came from is what the failed sign-ins of a
		// client are counted by.
		ar.RemoteAddr = r.RemoteAddr
		if fwd := r.Header.Values("X-Forwarded-For"); len(fwd) > 0 {
			ar.Header["X-Forwarded-For"] = fwd
		}
		ar.Header.Set("Authorization", "Bearer "+token)
		return auth(ar)
	}
}

// signinData is the sign-in form.
type signinData struct {
	Return string
	// SSO is the link to sign in through the company IdP, when there is.
	SSO string
}

func (s *server) signinData(back string) signinData {
	d := signinData{Return: back}
	if s.cfg.SSO != nil {
		d.SSO = "/console/sso?return=" + url.QueryEscape(back)
	}
	return d
}

func (s *server) signinForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", view{Title: "Sign in",
		Page: s.signinData(localPath(r.URL.Query().Get("return")))})
}

// signin exchanges an admin token for a session.
func (s *server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	back := localPath(r.PostFormValue("return"))
	token := strings.TrimSpace(r.PostFormValue("token"))
	refuse := func(msg string) {
		s.render(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", Message: msg, Page: s.signinData(back)})
	}
	if token == "" {
		refuse("Enter an admin token.")
		return
	}
	actor, err := s.cfg.VerifyToken(r, token)
	if errors.Is(err, scim.ErrNoAdminToken) {
		refuse("That is not a valid admin token. Check that it is an admin token, not an app's SCIM token, and that it was not revoked.")
		return
	}
	var limited *scim.LimitError
	if errors.As(err, &limited) {
		msg := fmt.Sprintf("Too many sign-ins with that token. Wait %s, then try again.", seconds(limited.Seconds()))
		if limited.Failures {
			msg = fmt.Sprintf("Too many failed sign-ins from your network address. Wait %s, then try again.", seconds(limited.Seconds()))
		}
		w.Header().Set("Retry-After", strconv.Itoa(limited.Seconds()))
		s.render(w, r, http.StatusTooManyRequests, "signin", view{Title: "Sign in", Message: msg, Page: s.signinData(back)})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// A sign-in over a live session replaces it rather than leaving it
	// behind.
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := s.endSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	id, err := s.startSession(r.Context(), actor, "")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "console sign-in", "actor", actor)
	http.SetCookie(w, s.cookie(id, int(SessionLifetime.Seconds())))
	http.Redirect(w, r, back, http.StatusSeeOther)
}

// seconds words n seconds.
func seconds(n int) string {
	if n == 1 {
		return "a second"
	}
	return strconv.Itoa(n) + " seconds"
}

// signout ends the session, if any, and forgets its cookie.
func (s *server) signout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(CookieName); err == nil && c.Value != "" {
		if err := s.endSession(r.Context(), c.Value); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, s.cookie("", -1))
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}
