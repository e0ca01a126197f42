package rest

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/scimbridge/scimbridge/adapters/profile"
)

// Action is one HTTP call that carries out one kind of task. Its
// templates are text/templates over the task, the account and its params
// (see the package doc for what they see and how values are escaped).
type Action struct {
	Method string // GET POST PUT PATCH DELETE
	// URL, e.g. "{{.Base}}/api/users/{{.Account.AppUserID}}/deactivate".
	// Values are percent-encoded; the URL must stay on Base's host.
	URL string
	// Headers by name; values may use {{secret "name"}}.
	Headers map[string]string
	// Body produces JSON, values JSON-encoded, e.g.
	// {"email": {{.Account.Email}}}. Empty: no body.
	Body string
	// IDField is the dotted path of the app's user id in a JSON answer,
	// such as "id" or "data.user.id" (a number indexes an array);
	// optional.
	IDField string
	// Success are the statuses meaning done (default: any 2xx). A delete
	// may list 404, so that repeating it after a crash is done too.
	Success []int
	// Retry are the statuses worth trying again (default: 408, 425, 429,
	// 500, 502, 503, 504). Every other status is a final refusal.
	Retry []int
}

// Config is one app's API.
type Config struct {
	App     string
	Base    string            // base URL, available as .Base
	Actions map[string]Action // by task kind
	// Secrets are resolved secret values by name; never logged, and
	// removed from every error.
	Secrets map[string]string
	// RatePerMinute bounds the requests in any 60 seconds (0: no bound).
	RatePerMinute int
	// Timeout bounds each request, answer included (default 15s).
	Timeout time.Duration
	// BreakerFailures retryable failures in a row open the circuit
	// (default 5) for BreakerCooldown (default 5 min).
	BreakerFailures int
	BreakerCooldown time.Duration
	// HTTPClient is the base client (its transport); redirects are
	// followed only by GET, and only on Base's scheme and host.
	HTTPClient *http.Client
	Logger     *slog.Logger
	Now        func() time.Time
}

// Defaults of Config.
const (
	defaultTimeout         = 15 * time.Second
	defaultBreakerFailures = 5
	defaultBreakerCooldown = 5 * time.Minute
	maxRedirects           = 5
)

var defaultRetry = []int{408, 425, 429, 500, 502, 503, 504}

var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// New checks cfg, parses every template and renders it with sample data,
// so that a mistake shows at start, not at a user's first task.
func New(cfg Config) (*Executor, error) {
	if strings.TrimSpace(cfg.App) == "" {
		return nil, errors.New("rest: the app has no name")
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("rest (app %s): "+format, append([]any{cfg.App}, args...)...)
	}
	if hasControl(cfg.App) {
		return nil, fail("the app's name has a control character")
	}
	base, err := url.Parse(strings.TrimRight(cfg.Base, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fail("the base URL must be an absolute http(s) URL")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fail("the base URL must have no query or fragment")
	}
	if base.User != nil {
		// It would travel in logs and errors; a secret header does not.
		return nil, fail(`the base URL must hold no credentials: send them in a header with {{secret "name"}}`)
	}
	for name, v := range cfg.Secrets {
		if v == "" {
			return nil, fail("secret %q is empty", name)
		}
	}
	if cfg.RatePerMinute < 0 {
		return nil, fail("RatePerMinute must not be negative")
	}
	if len(cfg.Actions) == 0 {
		return nil, fail("no actions")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.BreakerFailures <= 0 {
		cfg.BreakerFailures = defaultBreakerFailures
	}
	if cfg.BreakerCooldown <= 0 {
		cfg.BreakerCooldown = defaultBreakerCooldown
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	x := &Executor{
		app:     cfg.App,
		base:    base,
		actions: map[string]*compiled{},
		timeout: cfg.Timeout,
		log:     cfg.Logger,
		now:     cfg.Now,
		limit:   newLimiter(cfg.RatePerMinute, cfg.Timeout),
		breaker: &breaker{threshold: cfg.BreakerFailures, cooldown: cfg.BreakerCooldown},
		scrub:   newScrubber(cfg.Secrets),
	}
	x.client = x.httpClient(cfg.HTTPClient)
	fm := funcs(cfg.Secrets)
	for kind, a := range cfg.Actions {
		if !slices.Contains(profile.Kinds(), profile.ActionKind(kind)) {
			return nil, fail("action %q: no such kind of task (known: %v)", kind, profile.Kinds())
		}
		c, err := compile(kind, a, fm, cfg.Secrets)
		if err == nil {
			err = x.check(c)
		}
		if err != nil {
			return nil, fail("action %q: %w", kind, x.scrub.error(err))
		}
		x.actions[kind] = c
	}
	return x, nil
}

// httpClient copies base, so that its redirect rule is ours alone.
func (x *Executor) httpClient(base *http.Client) *http.Client {
	c := &http.Client{}
	if base != nil {
		*c = *base
	}
	// A redirect to another host would carry the secret headers there.
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		if via[0].Method != http.MethodGet || len(via) > maxRedirects ||
			req.URL.Scheme != x.base.Scheme || req.URL.Host != x.base.Host {
			return http.ErrUseLastResponse
		}
		return nil
	}
	return c
}

// compiled is an Action ready to render.
type compiled struct {
	kind    string
	method  string
	url     *templateField
	headers []header
	body    *templateField // nil: no body
	idPath  []string
	success func(int) bool
	retry   func(int) bool
}

type header struct {
	name  string
	value *templateField
}

func compile(kind string, a Action, fm template.FuncMap, secrets map[string]string) (*compiled, error) {
	c := &compiled{kind: kind, method: strings.ToUpper(a.Method)}
	if !slices.Contains(methods, c.method) {
		return nil, fmt.Errorf("Method: %q is not one of %v", a.Method, methods)
	}
	if strings.TrimSpace(a.URL) == "" {
		return nil, errors.New("URL: empty")
	}
	var err error
	if c.url, err = newField(kind, "URL", a.URL, fm, secrets); err != nil {
		return nil, err
	}
	escapeURL(c.url.t)
	if a.Body != "" {
		if c.method == http.MethodGet {
			return nil, errors.New("Body: a GET has no body")
		}
		if c.body, err = newField(kind, "Body", a.Body, fm, secrets); err != nil {
			return nil, err
		}
		escapeJSON(c.body.t)
	}
	for _, name := range sortedKeys(a.Headers) {
		canonical := http.CanonicalHeaderKey(name)
		switch {
		case !validHeaderName(name):
			return nil, fmt.Errorf("Headers: %q is not a header name", name)
		case slices.Contains(reservedHeaders, canonical):
			return nil, fmt.Errorf("Headers: %s is set by scimbridge", canonical)
		}
		f, err := newField(kind, "Headers["+name+"]", a.Headers[name], fm, secrets)
		if err != nil {
			return nil, err
		}
		c.headers = append(c.headers, header{name: canonical, value: f})
	}
	if a.IDField != "" {
		c.idPath = strings.Split(a.IDField, ".")
		if slices.Contains(c.idPath, "") {
			return nil, fmt.Errorf("IDField: %q has an empty part", a.IDField)
		}
	}
	if c.success, err = statuses("Success", a.Success, func(s int) bool { return s >= 200 && s < 300 }); err != nil {
		return nil, err
	}
	if c.retry, err = statuses("Retry", a.Retry, func(s int) bool { return slices.Contains(defaultRetry, s) }); err != nil {
		return nil, err
	}
	for _, s := range a.Retry {
		if c.success(s) {
			return nil, fmt.Errorf("Retry: %d means success too", s)
		}
	}
	return c, nil
}

// reservedHeaders are set by the executor or the transport.
var reservedHeaders = []string{"Idempotency-Key", "User-Agent", "Host", "Content-Length", "Transfer-Encoding", "Connection"}

func statuses(field string, list []int, def func(int) bool) (func(int) bool, error) {
	if len(list) == 0 {
		return def, nil
	}
	for _, s := range list {
		if s < 100 || s > 599 {
			return nil, fmt.Errorf("%s: %d is not an HTTP status", field, s)
		}
	}
	list = slices.Clone(list)
	return func(s int) bool { return slices.Contains(list, s) }, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// validHeaderName reports whether s is an HTTP token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return true
}

// hasControl reports whether s has a control character other than tab,
// which no header value may carry.
func hasControl(s string) bool {
	for _, r := range s {
		if (r < ' ' && r != '\t') || r == 0x7f {
			return true
		}
	}
	return false
}
