package samltest

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Browser is an http.Client with a cookie jar that follows redirects like
// a browser and can submit the auto-post forms SAML bindings use (it runs
// no JavaScript: Submit stands in for the page's script). Go's jar ignores
// SameSite, so cookie-attribute behaviour needs a real browser test.
type Browser struct {
	Client *http.Client
	jar    *cookiejar.Jar
}

// Page is a response as the browser saw it, after redirects.
type Page struct {
	URL    *url.URL
	Status int
	Header http.Header
	Body   string
}

// Form is the first POST form of a page: its absolute action and fields.
type Form struct {
	Action string
	Values url.Values
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatalf("cookie jar: %v", err)
	}
	// A hung server fails the test instead of stalling it.
	return &Browser{Client: &http.Client{Jar: jar, Timeout: 30 * time.Second}, jar: jar}
}

// Get loads rawURL.
func (b *Browser) Get(rawURL string) (*Page, error) {
	return b.do(http.MethodGet, rawURL, nil)
}

// Post posts form to rawURL, form-encoded.
func (b *Browser) Post(rawURL string, form url.Values) (*Page, error) {
	return b.do(http.MethodPost, rawURL, form)
}

func (b *Browser) do(method, rawURL string, form url.Values) (*Page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, rawURL, body)
	if err != nil {
		return nil, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b2, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Page{URL: resp.Request.URL, Status: resp.StatusCode, Header: resp.Header, Body: string(b2)}, nil
}

var (
	formTagPattern  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	inputTagPattern = regexp.MustCompile(`(?is)<input\b([^>]*)>`)
	attrPattern     = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*"([^"]*)"`)
)

func attrs(tag string) map[string]string {
	m := map[string]string{}
	for _, a := range attrPattern.FindAllStringSubmatch(tag, -1) {
		m[strings.ToLower(a[1])] = html.UnescapeString(a[2])
	}
	return m
}

// Form returns the page's first POST form, with its action resolved
// against the page URL and its named inputs' values unescaped.
func (p *Page) Form() (Form, bool) {
	for _, m := range formTagPattern.FindAllStringSubmatch(p.Body, -1) {
		fa := attrs(m[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		action, err := p.URL.Parse(fa["action"])
		if err != nil {
			continue
		}
		values := url.Values{}
		for _, in := range inputTagPattern.FindAllStringSubmatch(m[2], -1) {
			ia := attrs(in[1])
			if name := ia["name"]; name != "" {
				values.Add(name, ia["value"])
			}
		}
		return Form{Action: action.String(), Values: values}, true
	}
	return Form{}, false
}

// Submit posts the page's form, with override's fields replacing the
// form's, as the page's script would.
func (b *Browser) Submit(p *Page, override url.Values) (*Page, error) {
	f, ok := p.Form()
	if !ok {
		return nil, fmt.Errorf("no POST form on %s (status %d): %.300s", p.URL, p.Status, p.Body)
	}
	for k, v := range override {
		f.Values[k] = v
	}
	return b.Post(f.Action, f.Values)
}

// FollowForms submits forms while the page is a 200 with a POST form, at
// most max times, and returns the last page.
func (b *Browser) FollowForms(p *Page, max int) (*Page, error) {
	for i := 0; i < max; i++ {
		if p.Status != http.StatusOK {
			return p, nil
		}
		if _, ok := p.Form(); !ok {
			return p, nil
		}
		next, err := b.Submit(p, nil)
		if err != nil {
			return nil, err
		}
		p = next
	}
	return p, nil
}

// Cookies are the cookies the browser would send to rawURL.
func (b *Browser) Cookies(rawURL string) []*http.Cookie {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil
	}
	return b.jar.Cookies(u)
}

// SetCookie stores c as if rawURL had set it.
func (b *Browser) SetCookie(rawURL string, c *http.Cookie) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return
	}
	b.jar.SetCookies(u, []*http.Cookie{c})
}

// DeleteCookie removes the cookie name with path from rawURL's host.
func (b *Browser) DeleteCookie(rawURL, name, path string) {
	b.SetCookie(rawURL, &http.Cookie{Name: name, Path: path, MaxAge: -1})
}
