package rest

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds on what is read of an answer and shown of it.
const (
	maxAnswer     = 1 << 20
	maxSnippet    = 200
	maxRetryAfter = 24 * time.Hour
)

// scrubber removes secret values from text meant for people, in the
// forms a request may carry them: as they are, percent-encoded and
// JSON-encoded.
type scrubber struct{ r *strings.Replacer }

const redacted = "[redacted]"

func newScrubber(secrets map[string]string) scrubber {
	var forms []string
	for _, v := range secrets {
		j, _ := json.Marshal(v)
		forms = append(forms, v, url.QueryEscape(v), url.PathEscape(v), string(j[1:len(j)-1]))
		if p, err := urlPart("", v); err == nil {
			forms = append(forms, p)
		}
	}
	// The longest first, so that a secret inside another goes with it.
	slices.SortFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	forms = slices.Compact(forms)
	pairs := make([]string, 0, 2*len(forms))
	for _, f := range forms {
		if f != "" {
			pairs = append(pairs, f, redacted)
		}
	}
	return scrubber{strings.NewReplacer(pairs...)}
}

func (s scrubber) string(v string) string { return s.r.Replace(v) }

// error returns err with its text scrubbed; it keeps no chain, since
// nothing below an executor's error is looked into but its kind.
func (s scrubber) error(err error) error {
	if err == nil {
		return nil
	}
	return errors.New(s.string(err.Error()))
}

// snippet is the start of an answer's body for an admin: scrubbed, on
// one line, at most maxSnippet characters.
func (s scrubber) snippet(body []byte) string {
	text := s.string(strings.ToValidUTF8(string(body), "\uFFFD"))
	text = strings.Join(strings.FieldsFunc(text, func(r rune) bool {
		return unicode.IsSpace(r) || unicode.IsControl(r)
	}), " ")
	if utf8.RuneCountInString(text) <= maxSnippet {
		return text
	}
	r := []rune(text)
	return string(r[:maxSnippet-1]) + "…"
}

// appUserID finds the value at path in a JSON answer: a string or a
// number; a number in the path indexes an array.
func appUserID(body []byte, path []string) (string, bool) {
	d := json.NewDecoder(bytes.NewReader(body))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", false
	}
	for _, p := range path {
		switch n := v.(type) {
		case map[string]any:
			v = n[p]
		case []any:
			i, err := strconv.Atoi(p)
			if err != nil || i < 0 || i >= len(n) {
				return "", false
			}
			v = n[i]
		default:
			return "", false
		}
	}
	switch id := v.(type) {
	case string:
		return id, id != ""
	case json.Number:
		return id.String(), true
	}
	return "", false
}

// retryAfter reads a Retry-After header, seconds or an HTTP date; 0 if
// there is none or it is past.
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
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// transportError describes a failed request without its URL, which may
// hold user data or a key.
func transportError(err error, timeout time.Duration) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "no answer within " + timeout.String()
	}
	return withoutURL(err)
}

// withoutURL is err's text without the URL a *url.Error names.
func withoutURL(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}
