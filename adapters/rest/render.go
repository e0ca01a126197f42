package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/template"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// templateField is one parsed template of an action, named for errors.
type templateField struct {
	field string
	t     *template.Template
}

func newField(kind, field, text string, fm template.FuncMap, secrets map[string]string) (*templateField, error) {
	t, err := parseTemplate(kind+"."+field, text, fm, secrets)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", field, err)
	}
	return &templateField{field: field, t: t}, nil
}

func (f *templateField) execute(d data) (string, error) {
	var b strings.Builder
	if err := f.t.Execute(&b, d); err != nil {
		// Our own escapers say plainly which value is wrong.
		var ve *valueError
		if errors.As(err, &ve) {
			return "", fmt.Errorf("%s: %w", f.field, ve)
		}
		return "", fmt.Errorf("%s: %w", f.field, err)
	}
	return b.String(), nil
}

// valueError is a value a template cannot print where it stands.
type valueError struct{ msg string }

func (e *valueError) Error() string { return e.msg }

// request is a rendered action.
type request struct {
	method string
	url    string
	header http.Header
	body   []byte
}

// render fills c's templates with d.
func (x *Executor) render(c *compiled, d data) (*request, error) {
	u, err := c.url.execute(d)
	if err != nil {
		return nil, err
	}
	pu, err := url.Parse(u)
	if err != nil {
		return nil, fmt.Errorf("URL: not a URL: %s", withoutURL(err))
	}
	if pu.Scheme != x.base.Scheme || pu.Host != x.base.Host {
		return nil, fmt.Errorf("URL: must start with the base URL (%s://%s)", x.base.Scheme, x.base.Host)
	}
	r := &request{method: c.method, url: u, header: http.Header{}}
	for _, h := range c.headers {
		v, err := h.value.execute(d)
		if err != nil {
			return nil, err
		}
		if hasControl(v) {
			// Not the value: it may hold a secret.
			return nil, fmt.Errorf("%s: the value has a line break or control character", h.value.field)
		}
		r.header.Set(h.name, v)
	}
	if c.body != nil {
		b, err := c.body.execute(d)
		if err != nil {
			return nil, err
		}
		if !json.Valid([]byte(b)) {
			return nil, errors.New("Body: not valid JSON (values are JSON-encoded: write {\"email\": {{.Account.Email}}}, without quotes around the action)")
		}
		r.body = []byte(b)
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "application/json")
		}
	}
	r.header.Set("Idempotency-Key", d.IdempotencyKey)
	r.header.Set("User-Agent", userAgent)
	return r, nil
}

const userAgent = "scimbridge"

// idempotencyKey is the same on every try of a task and differs between
// tasks, so that an app that honours it performs each task once.
func (x *Executor) idempotencyKey(t task.Task) string {
	return fmt.Sprintf("scimbridge-%s-task-%d", x.app, t.ID)
}

func (x *Executor) data(t task.Task, a account.Account) data {
	return data{Base: x.base.String(), Task: t, Account: a, Params: t.Params, IdempotencyKey: x.idempotencyKey(t)}
}

// check renders c with sample data: unknown fields, bad URLs and bodies
// that are not JSON show at start.
func (x *Executor) check(c *compiled) error {
	params := map[string]string{}
	fields := []*templateField{c.url, c.body}
	for _, h := range c.headers {
		fields = append(fields, h.value)
	}
	for _, f := range fields {
		if f == nil {
			continue
		}
		for _, k := range paramKeys(f.t) {
			params[k] = "sample-" + k
		}
	}
	t := task.Task{ID: 1, App: x.app, UserID: "sample-user-id", UserName: "sample.user@example.com",
		Kind: c.kind, Role: "sample-role", PreviousRole: "sample-previous-role", Params: params}
	a := account.Account{App: x.app, UserID: t.UserID, UserName: t.UserName, Email: "sample.user@example.com",
		Desired: account.Desired{Exists: true, Active: true, Role: t.Role}, AppUserID: "sample-app-user-id"}
	_, err := x.render(c, x.data(t, a))
	return err
}

// bodyReader returns a fresh reader of r's body, or nil.
func (r *request) bodyReader() io.Reader {
	if r.body == nil {
		return nil
	}
	return bytes.NewReader(r.body)
}
