// Package config loads and checks scimbridge's YAML configuration file.
// Every problem is reported with the file and line it comes from.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/adapters/profile"
	"github.com/scimbridge/scimbridge/adapters/reconcile"
	"github.com/scimbridge/scimbridge/scim"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/limit"
)

// Defaults for settings the file leaves out.
const (
	DefaultListen          = "127.0.0.1:8080"
	DefaultDatabase        = "scimbridge.db"
	DefaultMaxRequestBytes = 1 << 20
	DefaultProfile         = "manual"
	// DefaultOutboxRetention keeps processed change events a week, long
	// enough to look back at what happened with scimbridge events tail.
	DefaultOutboxRetention = 7 * 24 * time.Hour
)

// Config is the whole configuration file.
type Config struct {
	// Listen is the host:port the HTTP server binds.
	Listen string `yaml:"listen"`
	// Database is the SQLite file; a relative path is relative to the
	// config file's directory.
	Database string `yaml:"database"`
	// PublicURL is how IdPs reach scimbridge (scheme, host, optional path
	// prefix); it appears in meta.location and $ref. Default: http:// +
	// the listen address.
	PublicURL string `yaml:"public_url"`
	// MaxRequestBytes limits request bodies.
	MaxRequestBytes int64 `yaml:"max_request_bytes"`
	Log             Log   `yaml:"log"`
	Apps            []App `yaml:"apps"`
	// Webhooks receive notifications (see webhooks.go).
	Webhooks []Webhook `yaml:"webhooks"`
	// OutboxRetention is how long processed change events are kept, as
	// text ("168h"); "0" keeps them for ever. Retention holds the parsed
	// value.
	OutboxRetention string        `yaml:"outbox_retention"`
	Retention       time.Duration `yaml:"-"`
	// SAML puts scimbridge in the SSO path of just-in-time apps (sso.go).
	SAML *SAML `yaml:"saml"`
	// OktaHook receives Okta's event hook of SSO logins (sso.go).
	OktaHook *OktaHook `yaml:"okta_hook"`
	// Console says who may sign in to the admin console through the
	// company IdP (console.go).
	Console *Console `yaml:"console"`
	// Metrics configures GET /metrics (metrics.go).
	Metrics Metrics `yaml:"metrics"`
	// RateLimit bounds requests per token and failed authentications per
	// client; TrustedProxies are the reverse proxies whose
	// X-Forwarded-For names the client, Proxies them parsed (limits.go).
	RateLimit      RateLimit     `yaml:"rate_limit"`
	TrustedProxies []string      `yaml:"trusted_proxies"`
	Proxies        limit.Proxies `yaml:"-"`

	// Path is the file the configuration was read from.
	Path string `yaml:"-"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // auto, text, json
}

// App is one downstream app.
type App struct {
	Name string `yaml:"name"`
	// ProfileName names the built-in profile the app starts from.
	ProfileName string `yaml:"profile"`
	// DisableRules names the IdP normalisation rules switched off for
	// this app (see package compat).
	DisableRules []string `yaml:"disable_rules"`
	// Override is the app's changes to its profile: roles, role rules,
	// runbooks, deadlines and so on, as keys of the app itself.
	Override profile.Override `yaml:",inline"`
	// Import names the columns of the app's user export that an import
	// reads; a column left out is found by its usual names.
	Import reconcile.Columns `yaml:"import"`
	// SAML makes scimbridge the app's SAML IdP (sso.go).
	SAML *AppSAML `yaml:"saml"`
	// OktaApp is the Okta app (its id, or its label) whose SSO logins the
	// Okta event hook reports for this app.
	OktaApp string `yaml:"okta_app"`
	// REST is the app's HTTP API, for the actions it carries out (rest.go).
	REST *AppREST `yaml:"rest"`
	// RateLimit, when set, bounds the app's SCIM tokens instead of the
	// top-level rate_limit (limits.go).
	RateLimit *TokenRate `yaml:"rate_limit"`

	// Rules is DisableRules checked: the rules that apply to the app.
	Rules compat.Set `yaml:"-"`
	// Profile is the effective profile: the built-in one with Override
	// applied.
	Profile *profile.Profile `yaml:"-"`
}

// AppNames returns the configured app names in file order.
func (c *Config) AppNames() []string {
	names := make([]string, len(c.Apps))
	for i, a := range c.Apps {
		names[i] = a.Name
	}
	return names
}

// Rules returns the normalisation rules of each app by name.
func (c *Config) Rules() map[string]compat.Set {
	m := make(map[string]compat.Set, len(c.Apps))
	for _, a := range c.Apps {
		m[a.Name] = a.Rules
	}
	return m
}

// HasApp reports whether name is a configured app.
func (c *Config) HasApp(name string) bool {
	return slices.Contains(c.AppNames(), name)
}

// DatabasePath is the database file with a relative path resolved against
// the config file's directory.
func (c *Config) DatabasePath() string {
	if filepath.IsAbs(c.Database) {
		return c.Database
	}
	return filepath.Join(filepath.Dir(c.Path), c.Database)
}

// Load reads, decodes and checks the file at path. profiles lists the
// profile names the binary knows.
func Load(path string, profiles []string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("config file %s does not exist (pass -config FILE or set SCIMBRIDGE_CONFIG)", path)
		}
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 4<<20))
	if err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return Parse(path, data, profiles)
}

// Parse decodes and checks configuration data read from path.
func Parse(path string, data []byte, profiles []string) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(path, err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: the file is empty; it needs at least an apps list", path)
	}
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, yamlError(path, err)
	}
	c.Path = path
	if err := c.check(positions(&doc), profiles); err != nil {
		return nil, err
	}
	if err := c.checkWebhooks(&doc); err != nil {
		return nil, err
	}
	if err := c.checkSSO(positions(&doc)); err != nil {
		return nil, err
	}
	if err := c.checkREST(positions(&doc)); err != nil {
		return nil, err
	}
	if err := c.checkConsole(positions(&doc)); err != nil {
		return nil, err
	}
	if err := c.checkMetrics(positions(&doc)); err != nil {
		return nil, err
	}
	if err := c.checkLimits(positions(&doc)); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	fieldNotFound = regexp.MustCompile(`^field (\S+) not found in type \S+$`)
	atLine        = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)
)

// yamlError rewords yaml errors in the file:line style of the others.
func yamlError(path string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		line := ""
		if sub := atLine.FindStringSubmatch(m); sub != nil {
			line, m = sub[1], sub[2]
		}
		m = strings.TrimPrefix(m, "yaml: ")
		if sub := fieldNotFound.FindStringSubmatch(m); sub != nil {
			m = fmt.Sprintf("unknown key %q", sub[1])
		}
		if line != "" {
			msgs[i] = path + ":" + line + ": " + m
		} else {
			msgs[i] = path + ": " + m
		}
	}
	return errors.New(strings.Join(msgs, "\n"))
}

// where remembers the line of each setting for error messages.
type where struct {
	keys map[string]int // top-level key → line of its value
	apps []map[string]int
	// appLines holds the line each app entry starts on.
	appLines []int
	// appNodes holds each app entry, to find nested settings in.
	appNodes []*yaml.Node
	// lists holds, per app, the line of each element of its list-valued
	// keys, so that one bad element can be pointed at.
	lists []map[string][]int
}

func positions(doc *yaml.Node) where {
	w := where{keys: map[string]int{}}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return w
	}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		w.keys[k.Value] = v.Line
		if k.Value != "apps" || v.Kind != yaml.SequenceNode {
			continue
		}
		for _, item := range v.Content {
			w.appLines = append(w.appLines, item.Line)
			w.appNodes = append(w.appNodes, item)
			m := map[string]int{}
			lists := map[string][]int{}
			for j := 0; j+1 < len(item.Content); j += 2 {
				key, val := item.Content[j].Value, item.Content[j+1]
				m[key] = val.Line
				if val.Kind == yaml.SequenceNode {
					for _, el := range val.Content {
						lists[key] = append(lists[key], el.Line)
					}
				}
			}
			w.apps = append(w.apps, m)
			w.lists = append(w.lists, lists)
		}
	}
	return w
}

func (w where) key(k string) int {
	return w.keys[k]
}

func (w where) app(i int, k string) int {
	if i < len(w.apps) {
		if line, ok := w.apps[i][k]; ok {
			return line
		}
	}
	if i < len(w.appLines) {
		return w.appLines[i]
	}
	return w.keys["apps"]
}

// element is the line of element j of app i's list under key k.
func (w where) element(i int, k string, j int) int {
	if i < len(w.lists) && j < len(w.lists[i][k]) {
		return w.lists[i][k][j]
	}
	return w.app(i, k)
}

// setting is the line of the setting that path leads to inside app i:
// mapping keys, and list indexes as decimal numbers. A path that leads
// nowhere, such as a setting inherited from the profile, gives the line
// of the deepest part that exists, at least the app's.
func (w where) setting(i int, path []string) int {
	line := w.app(i, "")
	if i >= len(w.appNodes) {
		return line
	}
	n := w.appNodes[i]
	for _, k := range path {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		next, l := child(n, k)
		if next == nil {
			break
		}
		n, line = next, l
	}
	return line
}

// child is the value under key k of a mapping, at the key's line, or
// element k of a sequence.
func child(n *yaml.Node, k string) (*yaml.Node, int) {
	switch n.Kind {
	case yaml.MappingNode:
		for j := 0; j+1 < len(n.Content); j += 2 {
			if n.Content[j].Value == k {
				return n.Content[j+1], n.Content[j].Line
			}
		}
	case yaml.SequenceNode:
		if j, err := strconv.Atoi(k); err == nil && j >= 0 && j < len(n.Content) {
			return n.Content[j], n.Content[j].Line
		}
	}
	return nil, 0
}

func (c *Config) errorf(line int, format string, args ...any) error {
	if line > 0 {
		return fmt.Errorf("%s:%d: %s", c.Path, line, fmt.Sprintf(format, args...))
	}
	return fmt.Errorf("%s: %s", c.Path, fmt.Sprintf(format, args...))
}

func (c *Config) check(w where, profiles []string) error {
	if c.Listen == "" {
		c.Listen = DefaultListen
	}
	if err := checkListen(c.Listen); err != nil {
		return c.errorf(w.key("listen"), "listen: %v", err)
	}
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + reachable(c.Listen)
	} else if err := checkPublicURL(c.PublicURL); err != nil {
		return c.errorf(w.key("public_url"), "public_url: %v", err)
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	switch {
	case c.MaxRequestBytes == 0:
		c.MaxRequestBytes = DefaultMaxRequestBytes
	case c.MaxRequestBytes < 1024:
		return c.errorf(w.key("max_request_bytes"), "max_request_bytes: %d is too small; IdP requests need at least 1024 bytes", c.MaxRequestBytes)
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		return c.errorf(w.key("log"), "log.level: %q is not one of debug, info, warn, error", c.Log.Level)
	}
	if c.Log.Format == "" {
		c.Log.Format = "auto"
	}
	if !slices.Contains([]string{"auto", "text", "json"}, c.Log.Format) {
		return c.errorf(w.key("log"), "log.format: %q is not one of auto, text, json", c.Log.Format)
	}
	c.Retention = DefaultOutboxRetention
	if v := strings.TrimSpace(c.OutboxRetention); v != "" {
		d, err := time.ParseDuration(v)
		switch {
		case err != nil:
			return c.errorf(w.key("outbox_retention"), "outbox_retention: %q is not a duration such as 168h (or 0 to keep events for ever)", c.OutboxRetention)
		case d < 0:
			return c.errorf(w.key("outbox_retention"), "outbox_retention: %s must not be negative", v)
		case d > 0 && d < time.Hour:
			return c.errorf(w.key("outbox_retention"), "outbox_retention: %s is too short; keep processed events at least 1h", v)
		}
		c.Retention = d
	}
	if len(c.Apps) == 0 {
		return c.errorf(w.key("apps"), "apps: configure at least one app, for example:\n  apps:\n    - name: acme\n      profile: manual")
	}
	builtin, err := profile.Builtin()
	if err != nil {
		return fmt.Errorf("built-in profiles: %w", err)
	}
	seen := map[string]int{}
	for i := range c.Apps {
		a := &c.Apps[i]
		if a.Name == "" {
			return c.errorf(w.app(i, "name"), "app %d has no name", i+1)
		}
		if !scim.AppNamePattern.MatchString(a.Name) {
			return c.errorf(w.app(i, "name"), "app name %q: use lower-case letters, digits and inner dashes (it becomes part of URLs)", a.Name)
		}
		if first, dup := seen[a.Name]; dup {
			return c.errorf(w.app(i, "name"), "app %q is already defined on line %d", a.Name, w.app(first, "name"))
		}
		seen[a.Name] = i
		if a.ProfileName == "" {
			a.ProfileName = DefaultProfile
		}
		if !slices.Contains(profiles, a.ProfileName) {
			return c.errorf(w.app(i, "profile"), "app %q: unknown profile %q (known: %s)", a.Name, a.ProfileName, strings.Join(profiles, ", "))
		}
		base, ok := builtin[a.ProfileName]
		if !ok {
			return c.errorf(w.app(i, "profile"), "app %q: profile %q is not built in", a.Name, a.ProfileName)
		}
		// Building the effective profile now makes a bad override stop
		// the start instead of the first task.
		p, err := base.With(a.Override)
		if err != nil {
			line := w.app(i, "")
			var ke *profile.KeyError
			if errors.As(err, &ke) {
				line = w.setting(i, ke.Path)
			}
			return c.errorf(line, "app %q: %v", a.Name, err)
		}
		a.Profile = p
		// One name at a time, to point at the line of the bad one.
		for j, name := range a.DisableRules {
			if _, err := compat.Disable([]string{name}); err != nil {
				return c.errorf(w.element(i, "disable_rules", j), "app %q: disable_rules: %v", a.Name, err)
			}
		}
		rules, err := compat.Disable(a.DisableRules)
		if err != nil {
			return c.errorf(w.app(i, "disable_rules"), "app %q: disable_rules: %v", a.Name, err)
		}
		a.Rules = rules
		if err := a.Import.Check(); err != nil {
			return c.errorf(w.setting(i, []string{"import"}), "app %q: import: %v", a.Name, err)
		}
	}
	return nil
}

func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("%q is not a host:port address such as 127.0.0.1:8080", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("%q: port %q is not a number from 0 to 65535", addr, port)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("%q: %q is neither an IP address nor a host name", addr, host)
	}
	return nil
}

var hostname = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$`)

func validHostname(h string) bool { return len(h) <= 253 && hostname.MatchString(h) }

// reachable turns a listen address into one a client on this machine can
// use: an empty or wildcard host becomes localhost.
func reachable(listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func checkPublicURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%q is not an http(s) URL such as https://scim.example.com", s)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("%q must not have a query or fragment", s)
	}
	return nil
}
