package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/scimbridge/scimbridge/adapters/notify"
	"github.com/scimbridge/scimbridge/adapters/queue"
)

// Webhook is one receiver of notifications. Its secret is read from a
// file or an environment variable when the server starts (see
// ReadWebhookSecrets), never from this file.
type Webhook struct {
	URL        string `yaml:"url"`
	SecretFile string `yaml:"secret_file"`
	SecretEnv  string `yaml:"secret_env"`
	// Secret is refused: a secret does not belong in the configuration.
	Secret string `yaml:"secret"`
	// Events are the notification kinds it wants; empty means all.
	Events []string `yaml:"events"`
	// Apps are the apps it wants; empty means all.
	Apps   []string `yaml:"apps"`
	Format string   `yaml:"format"` // json (default) | slack

	// Line is where the webhook starts in the file.
	Line int `yaml:"-"`
	// lines holds the line of each key, for errors found after parsing.
	lines map[string]int
}

// line is the line of key k of the webhook, or its first line.
func (h Webhook) line(k string) int {
	if l, ok := h.lines[k]; ok {
		return l
	}
	return h.Line
}

// webhookNodes returns the YAML node of each webhook in the file.
func webhookNodes(doc *yaml.Node) []*yaml.Node {
	if len(doc.Content) == 0 {
		return nil
	}
	list, _ := child(doc.Content[0], "webhooks")
	if list == nil || list.Kind != yaml.SequenceNode {
		return nil
	}
	return list.Content
}

// checkWebhooks checks the webhooks and applies their defaults.
func (c *Config) checkWebhooks(doc *yaml.Node) error {
	nodes := webhookNodes(doc)
	events := queue.NotificationKinds()
	seen := map[string]int{}
	for i := range c.Webhooks {
		h := &c.Webhooks[i]
		h.lines = map[string]int{}
		var node *yaml.Node
		if i < len(nodes) {
			node = nodes[i]
			h.Line = node.Line
			for j := 0; j+1 < len(node.Content); j += 2 {
				h.lines[node.Content[j].Value] = node.Content[j].Line
			}
		}
		// element is the line of element j of list k.
		element := func(k string, j int) int {
			if node != nil {
				if list, _ := child(node, k); list != nil {
					if el, l := child(list, fmt.Sprint(j)); el != nil {
						return l
					}
				}
			}
			return h.line(k)
		}
		name := fmt.Sprintf("webhook %d", i+1)
		if h.Secret != "" {
			return c.errorf(h.line("secret"), "%s: secret: do not put the secret in the configuration; "+
				"put it in a file (secret_file) or an environment variable (secret_env)", name)
		}
		if err := checkWebhookURL(h.URL); err != nil {
			return c.errorf(h.line("url"), "%s: url: %v", name, err)
		}
		switch {
		case h.SecretFile == "" && h.SecretEnv == "":
			return c.errorf(h.Line, "%s: give its signing secret with secret_file or secret_env", name)
		case h.SecretFile != "" && h.SecretEnv != "":
			return c.errorf(h.line("secret_env"), "%s: give secret_file or secret_env, not both", name)
		}
		for j, e := range h.Events {
			if !slices.Contains(events, e) {
				return c.errorf(element("events", j), "%s: events: unknown event %q (known: %s)", name, e, strings.Join(events, ", "))
			}
		}
		for j, a := range h.Apps {
			if !c.HasApp(a) {
				return c.errorf(element("apps", j), "%s: apps: no app %q is configured (apps: %s)", name, a, strings.Join(c.AppNames(), ", "))
			}
		}
		if h.Format == "" {
			h.Format = notify.FormatJSON
		}
		if !slices.Contains(notify.Formats(), h.Format) {
			return c.errorf(h.line("format"), "%s: format: %q is not one of %s", name, h.Format, strings.Join(notify.Formats(), ", "))
		}
		key := h.Format + " " + h.URL
		if first, dup := seen[key]; dup {
			return c.errorf(h.line("url"), "%s: the same url and format as the webhook on line %d", name, c.Webhooks[first].Line)
		}
		seen[key] = i
	}
	return nil
}

func checkWebhookURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// Not quoted back: a webhook URL may hold a token.
		return errors.New("not an http(s) URL such as https://hooks.example.com/scimbridge")
	}
	if u.Fragment != "" {
		return errors.New("must not have a fragment")
	}
	return nil
}

// ReadWebhookSecrets reads each webhook's signing secret from its file
// (relative to the configuration file's directory) or environment
// variable, in the order of Webhooks. Surrounding white space, such as
// a file's last newline, is not part of the secret. Only the server
// needs the secrets, so other commands do not call this.
func (c *Config) ReadWebhookSecrets(getenv func(string) string) ([][]byte, error) {
	out := make([][]byte, len(c.Webhooks))
	for i, h := range c.Webhooks {
		name := fmt.Sprintf("webhook %d", i+1)
		if h.SecretEnv != "" {
			v := strings.TrimSpace(getenv(h.SecretEnv))
			if v == "" {
				return nil, c.errorf(h.line("secret_env"), "%s: the environment variable %s is not set or empty", name, h.SecretEnv)
			}
			out[i] = []byte(v)
			continue
		}
		path := h.SecretFile
		if !filepath.IsAbs(path) {
			path = filepath.Join(filepath.Dir(c.Path), path)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			// The error names the file, never its content.
			return nil, c.errorf(h.line("secret_file"), "%s: secret_file: %v", name, err)
		}
		if b = bytes.TrimSpace(b); len(b) == 0 {
			return nil, c.errorf(h.line("secret_file"), "%s: secret_file %s is empty", name, path)
		}
		out[i] = b
	}
	return out, nil
}
