package notify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/queue"
)

// post makes one request that delivers n to h.
func (s *Sender) post(ctx context.Context, h *hook, n queue.Notification, body []byte) result {
	rctx, cancel := context.WithTimeout(ctx, s.opt.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, h.URL, bytes.NewReader(body))
	if err != nil {
		return result{h: h, err: errors.New("bad URL")}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", s.opt.UserAgent)
	req.Header.Set(EventHeader, n.Kind)
	req.Header.Set(DeliveryHeader, strconv.FormatInt(n.ID, 10))
	req.Header.Set(SignatureHeader, Sign(h.Secret, body))
	res, err := s.opt.Client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			// The sender is stopping: not the receiver's failure.
			return result{h: h, waited: true, ready: s.now()}
		}
		return result{h: h, err: requestError(err, s.opt.Timeout)}
	}
	defer res.Body.Close()
	// Read a little of the answer, so the connection can be reused.
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return result{h: h}
	}
	r := result{h: h, err: fmt.Errorf("status %d", res.StatusCode), retryAfter: retryAfter(res.Header.Get("Retry-After"), s.now())}
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		r.err = fmt.Errorf("status %d: redirects are not followed; configure the final URL", res.StatusCode)
	}
	return r
}

// requestError describes a failed request without its URL, which may
// hold a token.
func requestError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no answer within %s", timeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return time.Duration(min(secs, int64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
