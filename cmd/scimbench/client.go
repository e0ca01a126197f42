package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

const scimContentType = "application/scim+json"

// newHTTPClient returns the one keep-alive client all traffic shares. It
// keeps an idle connection per worker so that no request pays for a new
// TCP connection, never uses a proxy and never follows redirects: every
// request goes to the server on 127.0.0.1 and nowhere else.
func newHTTPClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:                 nil,
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          concurrency,
		MaxIdleConnsPerHost:   concurrency,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: 60 * time.Second,
		DisableCompression:    true,
	}
	return &http.Client{
		Transport: tr,
		Timeout:   120 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// api sends SCIM requests to the bench app.
type api struct {
	client *http.Client
	base   string // http://127.0.0.1:PORT/apps/bench/scim/v2
	auth   string // the Authorization header
	origin string // http://127.0.0.1:PORT
	// console is the console's session cookie, for paths under /console/;
	// admin the admin token that opens it.
	console, admin string
}

func newAPI(hc *http.Client, origin, token string) *api {
	return &api{client: hc, base: origin + "/apps/" + appName + "/scim/v2", auth: "Bearer " + token, origin: origin}
}

// signIn opens a console session with an admin token.
func (a *api) signIn(ctx context.Context, admin string) error {
	form := url.Values{"token": {admin}, "return": {"/console/"}}
	req, err := http.NewRequestWithContext(ctx, "POST", a.origin+"/console/signin", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// The redirect after the sign-in is not wanted: only its cookie.
	hc := *a.client
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("console sign-in: %w", err)
	}
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if c.Name == "scimbridge_console" && c.Value != "" {
			a.console = c.Name + "=" + c.Value
			return nil
		}
	}
	return fmt.Errorf("console sign-in: status %d and no session cookie", resp.StatusCode)
}

// response is a completed exchange. body aliases the caller's buffer and
// is valid until the buffer's next use.
type response struct {
	status    int
	requestID string
	etag      string // the ETag header: the resource's version after a write
	body      []byte
	latency   time.Duration // from sending to the last body byte
}

// do sends one request and reads the whole response into buf, so that the
// latency includes the body transfer and the connection can be reused.
func (a *api) do(ctx context.Context, method, path string, body []byte, buf *bytes.Buffer) (response, error) {
	target, console := a.base+path, strings.HasPrefix(path, "/console/")
	if console {
		target = a.origin + path
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if console {
		req.Header.Set("Cookie", a.console)
	} else {
		req.Header.Set("Authorization", a.auth)
		req.Header.Set("Accept", scimContentType)
	}
	if body != nil {
		req.Header.Set("Content-Type", scimContentType)
	}
	start := time.Now()
	resp, err := a.client.Do(req)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return response{}, fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	return response{
		status:    resp.StatusCode,
		requestID: resp.Header.Get("X-Request-Id"),
		etag:      resp.Header.Get("ETag"),
		body:      buf.Bytes(),
		latency:   time.Since(start),
	}, nil
}

// describe sums up a bad exchange for the report.
func describe(method, path string, r response, problem string) string {
	const maxBody = 300
	body := bytes.TrimSpace(r.body)
	if len(body) > maxBody {
		body = append(body[:maxBody:maxBody], "…"...)
	}
	return fmt.Sprintf("%s %s → %d (request id %s): %s; body: %s", method, path, r.status, r.requestID, problem, body)
}
