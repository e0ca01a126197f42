package samlsp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/crewjam/saml"
)

// RefusedError is an app's 4xx answer to a simulated login: a permanent
// refusal (licence limit, unknown user…) that retrying will not change.
type RefusedError struct {
	App    string
	Status int
	// Body is the start of the app's answer as text, with anything that
	// looks like encoded SAML removed.
	Body string
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("app %s refused the simulated login: HTTP %d: %s", e.App, e.Status, e.Body)
}

// TemporaryError is a simulated login that may succeed later: the app
// answered 5xx (or 408/425/429), or could not be reached. The caller
// retries with backoff.
type TemporaryError struct {
	App    string
	Status int // 0 when there was no answer
	Err    error
}

func (e *TemporaryError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("app %s could not take the simulated login now: HTTP %d", e.App, e.Status)
	}
	return fmt.Sprintf("app %s could not take the simulated login now: %v", e.App, e.Err)
}

func (e *TemporaryError) Unwrap() error { return e.Err }

// Temporary reports that a retry may succeed.
func (e *TemporaryError) Temporary() bool { return true }

// bodySnippetLength bounds RefusedError.Body; bodyReadLimit how much of
// the answer is read for it.
const (
	bodySnippetLength = 200
	bodyReadLimit     = 16 << 10
)

// SimulateLogin signs u in to app as if from an IdP tile: an IdP-initiated
// assertion posted to the app's ACS, form-encoded as a browser would. It
// is how a JIT app learns of a user before their first real sign-in. On
// success (2xx or 3xx) the login is recorded with source "simulated"; if
// recording fails after the app took the login, the error says so.
func (s *Service) SimulateLogin(ctx context.Context, appName string, u User) error {
	a, ok := s.apps[appName]
	if !ok {
		return fmt.Errorf("simulate login: no SAML app %q is configured", appName)
	}
	now := s.now()
	req := &saml.IdpAuthnRequest{
		IDP:                     a.idp,
		Now:                     now,
		ServiceProviderMetadata: a.sp.meta,
		SPSSODescriptor:         a.sp.spsso,
		ACSEndpoint:             a.sp.postACS,
	}
	form, err := a.mint(req, u, now)
	if err != nil {
		return fmt.Errorf("simulate login: %w", err)
	}
	body := url.Values{"SAMLResponse": {form.SAMLResponse}}.Encode()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, form.URL, strings.NewReader(body))
	if err != nil {
		return fmt.Errorf("simulate login: %w", err)
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := s.client.Do(hreq)
	if err != nil {
		return &TemporaryError{App: appName, Err: err}
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, bodyReadLimit))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, bodyReadLimit))
	switch st := resp.StatusCode; {
	case st >= 200 && st < 400:
		if err := s.dir.RecordLogin(ctx, appName, u, now, SourceSimulated); err != nil {
			return fmt.Errorf("simulate login: app %s took the login, but recording it failed: %w", appName, err)
		}
		s.log.InfoContext(ctx, "saml: simulated a login", "app", appName, "user_id", u.ID)
		return nil
	case st == http.StatusRequestTimeout || st == http.StatusTooEarly || st == http.StatusTooManyRequests || st >= 500:
		return &TemporaryError{App: appName, Status: st, Err: errors.New(resp.Status)}
	default:
		return &RefusedError{App: appName, Status: st, Body: bodySnippet(head, form.SAMLResponse)}
	}
}

// newSimulateClient is the client for simulated logins: bounded in time,
// and not following redirects, since a 3xx is the app's answer (usually
// "signed in, go to the start page").
func newSimulateClient(base *http.Client, timeout time.Duration) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	c.Timeout = timeout
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return c
}

var (
	tagPattern    = regexp.MustCompile(`<[^>]*>`)
	spacePattern  = regexp.MustCompile(`\s+`)
	base64Pattern = regexp.MustCompile(`[A-Za-z0-9+/=%_-]{24,}`)
)

// bodySnippet is the start of an app's answer as one line of text: tags
// stripped, long base64-like runs (an echoed SAMLResponse) and the
// response itself removed, cut to bodySnippetLength.
func bodySnippet(body []byte, samlResponse string) string {
	text := strings.ToValidUTF8(string(body), "")
	text = strings.ReplaceAll(text, samlResponse, "")
	text = tagPattern.ReplaceAllString(text, " ")
	text = base64Pattern.ReplaceAllString(text, "[removed]")
	text = strings.TrimSpace(spacePattern.ReplaceAllString(text, " "))
	if utf8.RuneCountInString(text) > bodySnippetLength {
		text = strings.TrimSpace(string([]rune(text)[:bodySnippetLength])) + "…"
	}
	return text
}
