package config

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/profile"
)

// AppREST is the HTTP API of an app that has one: how each kind of
// action is carried out by a call instead of a task. Secrets are named
// here and read from the environment or files when the server starts.
type AppREST struct {
	BaseURL       string                `yaml:"base_url"`
	RatePerMinute int                   `yaml:"rate_per_minute"`
	Timeout       string                `yaml:"timeout"`
	Secrets       map[string]SecretRef  `yaml:"secrets"`
	Actions       map[string]RESTAction `yaml:"actions"`

	// TimeoutValue is Timeout parsed (0: the default).
	TimeoutValue time.Duration `yaml:"-"`
}

// SecretRef says where a secret is: exactly one of an environment
// variable or a file.
type SecretRef struct {
	Env  string `yaml:"env"`
	File string `yaml:"file"`
}

// RESTAction is one HTTP call (see package adapters/rest for the
// templates).
type RESTAction struct {
	Method  string            `yaml:"method"`
	URL     string            `yaml:"url"`
	Headers map[string]string `yaml:"headers"`
	Body    string            `yaml:"body"`
	IDField string            `yaml:"id_field"`
	Success []int             `yaml:"success"`
	Retry   []int             `yaml:"retry"`
}

// checkREST checks the apps' API settings as far as can be done without
// their secrets; templates are checked when the server starts.
func (c *Config) checkREST(w where) error {
	for i := range c.Apps {
		a := &c.Apps[i]
		r := a.REST
		if r == nil {
			continue
		}
		line := w.setting(i, []string{"rest"})
		u, err := url.Parse(r.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c.errorf(line, "app %q: rest.base_url: %q is not an http(s) URL such as https://api.example.com", a.Name, r.BaseURL)
		}
		if r.RatePerMinute < 0 {
			return c.errorf(line, "app %q: rest.rate_per_minute must not be negative", a.Name)
		}
		if r.Timeout != "" {
			d, err := time.ParseDuration(r.Timeout)
			if err != nil || d <= 0 {
				return c.errorf(line, "app %q: rest.timeout: %q is not a positive duration such as 15s", a.Name, r.Timeout)
			}
			r.TimeoutValue = d
		}
		if len(r.Actions) == 0 {
			return c.errorf(line, "app %q: rest.actions: name at least one kind of action the API carries out", a.Name)
		}
		for _, kind := range slices.Sorted(maps.Keys(r.Actions)) {
			if !slices.Contains(profile.Kinds(), profile.ActionKind(kind)) {
				return c.errorf(w.setting(i, []string{"rest", "actions", kind}), "app %q: rest.actions: unknown action kind %q", a.Name, kind)
			}
			if strings.TrimSpace(r.Actions[kind].URL) == "" {
				return c.errorf(w.setting(i, []string{"rest", "actions", kind}), "app %q: rest.actions.%s: url is required", a.Name, kind)
			}
		}
		for _, name := range slices.Sorted(maps.Keys(r.Secrets)) {
			s := r.Secrets[name]
			if (s.Env == "") == (s.File == "") {
				return c.errorf(w.setting(i, []string{"rest", "secrets", name}), "app %q: rest.secrets.%s: give exactly one of env or file", a.Name, name)
			}
		}
	}
	return nil
}

// ReadRESTSecrets reads the secrets of app's API.
func (c *Config) ReadRESTSecrets(a App, getenv func(string) string) (map[string]string, error) {
	out := map[string]string{}
	for name, s := range a.REST.Secrets {
		v, err := c.readSecret(getenv, s.Env, s.File)
		if err != nil {
			return nil, fmt.Errorf("%s: app %q: rest.secrets.%s: %w", c.Path, a.Name, name, err)
		}
		out[name] = v
	}
	return out, nil
}
