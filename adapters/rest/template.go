package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/task"
)

// data is what an action's templates see.
type data struct {
	Base           string            // Config.Base, without a trailing slash
	Task           task.Task         // the task being carried out
	Account        account.Account   // the user's account in the app
	Params         map[string]string // the task's params
	IdempotencyKey string            // also sent as the Idempotency-Key header
}

// Names of the functions the escaping adds to URL templates.
const urlPartFunc = "urlPart"

// funcs are the functions templates may call.
func funcs(secrets map[string]string) template.FuncMap {
	return template.FuncMap{
		"secret": func(name string) (string, error) {
			v, ok := secrets[name]
			if !ok {
				return "", fmt.Errorf("no secret %q", name)
			}
			return v, nil
		},
		"json":      jsonValue,
		urlPartFunc: urlPart,
	}
}

// jsonValue encodes v as JSON; < > & are escaped too, so that no value
// can close a script tag in an app that echoes it into HTML.
func jsonValue(v any) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("cannot be encoded as JSON: %w", err)
	}
	return string(b), nil
}

// urlPart percent-encodes v, the value of the template action named by
// what, as one path segment or query value: every byte but the
// unreserved ones of RFC 3986.
func urlPart(what string, v any) (string, error) {
	s := ""
	if v != nil {
		s = fmt.Sprint(v)
	}
	switch s {
	case "":
		return "", &valueError{what + " is empty"}
	case ".", "..":
		return "", &valueError{fmt.Sprintf("%s is %q, which would name another resource", what, s)}
	}
	var b strings.Builder
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String(), nil
}

// parseTemplate parses one template of an action. Missing map keys are
// errors: a task without the param its call needs is not carried out.
func parseTemplate(name, text string, fm template.FuncMap, secrets map[string]string) (*template.Template, error) {
	t, err := template.New(name).Option("missingkey=error").Funcs(fm).Parse(text)
	if err != nil {
		return nil, err
	}
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		if err := checkSecrets(tt.Tree.Root, secrets); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checkSecrets makes sure that every use of secret names, as a quoted
// string, a secret that exists, so that no request fails for it later.
func checkSecrets(root parse.Node, secrets map[string]string) error {
	var err error
	walk(root, func(n parse.Node) {
		c, ok := n.(*parse.CommandNode)
		if !ok || err != nil {
			return
		}
		for i, arg := range c.Args {
			if id, ok := arg.(*parse.IdentifierNode); !ok || id.Ident != "secret" {
				continue
			}
			name, quoted := (*parse.StringNode)(nil), false
			if i == 0 && len(c.Args) == 2 {
				name, quoted = c.Args[1].(*parse.StringNode)
			}
			if !quoted {
				err = errors.New(`secret takes one quoted name, as in {{secret "token"}}`)
				return
			}
			if _, ok := secrets[name.Text]; !ok {
				err = fmt.Errorf("no secret %q is configured", name.Text)
				return
			}
		}
	})
	return err
}

// escapeURL makes every action of t that prints a value percent-encode
// it, except {{.Base}}.
func escapeURL(t *template.Template) {
	for _, a := range printingActions(t) {
		if isBase(a.Pipe) {
			continue
		}
		what := a.Pipe.String()
		a.Pipe.Cmds = append(a.Pipe.Cmds, command(a.Pos, urlPartFunc,
			&parse.StringNode{NodeType: parse.NodeString, Pos: a.Pos, Quoted: strconv.Quote(what), Text: what}))
	}
}

// escapeJSON makes every action of t that prints a value JSON-encode it,
// unless it already ends with json.
func escapeJSON(t *template.Template) {
	for _, a := range printingActions(t) {
		last := a.Pipe.Cmds[len(a.Pipe.Cmds)-1]
		if id, ok := last.Args[0].(*parse.IdentifierNode); ok && id.Ident == "json" {
			continue
		}
		a.Pipe.Cmds = append(a.Pipe.Cmds, command(a.Pos, "json"))
	}
}

// printingActions returns the actions of t and its associated templates
// that print a value ({{$x := ...}} prints nothing).
func printingActions(t *template.Template) []*parse.ActionNode {
	var out []*parse.ActionNode
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			if a, ok := n.(*parse.ActionNode); ok && len(a.Pipe.Decl) == 0 && len(a.Pipe.Cmds) > 0 {
				out = append(out, a)
			}
		})
	}
	return out
}

func isBase(p *parse.PipeNode) bool {
	if len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch n := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode:
		return len(n.Ident) == 1 && n.Ident[0] == "Base"
	case *parse.VariableNode:
		return len(n.Ident) == 2 && n.Ident[0] == "$" && n.Ident[1] == "Base"
	}
	return false
}

// command is a pipeline stage calling fn with args (and, as a later
// stage, the value before it).
func command(pos parse.Pos, fn string, args ...parse.Node) *parse.CommandNode {
	id := parse.NewIdentifier(fn).SetPos(pos)
	return &parse.CommandNode{NodeType: parse.NodeCommand, Pos: pos, Args: append([]parse.Node{id}, args...)}
}

// paramKeys returns the keys of .Params a template names, so that the
// sample data New checks templates with has them.
func paramKeys(t *template.Template) []string {
	var keys []string
	for _, tt := range t.Templates() {
		if tt.Tree == nil {
			continue
		}
		walk(tt.Tree.Root, func(n parse.Node) {
			switch n := n.(type) {
			case *parse.FieldNode:
				if len(n.Ident) >= 2 && n.Ident[0] == "Params" {
					keys = append(keys, n.Ident[1])
				}
			case *parse.VariableNode:
				if len(n.Ident) >= 3 && n.Ident[0] == "$" && n.Ident[1] == "Params" {
					keys = append(keys, n.Ident[2])
				}
			case *parse.CommandNode:
				// index .Params "key"
				if len(n.Args) == 3 {
					id, ok1 := n.Args[0].(*parse.IdentifierNode)
					f, ok2 := n.Args[1].(*parse.FieldNode)
					s, ok3 := n.Args[2].(*parse.StringNode)
					if ok1 && ok2 && ok3 && id.Ident == "index" && len(f.Ident) == 1 && f.Ident[0] == "Params" {
						keys = append(keys, s.Text)
					}
				}
			}
		})
	}
	return keys
}

// walk calls fn on n and every node below it.
func walk(n parse.Node, fn func(parse.Node)) {
	fn(n)
	switch n := n.(type) {
	case *parse.ListNode:
		for _, c := range n.Nodes {
			walk(c, fn)
		}
	case *parse.ActionNode:
		walk(n.Pipe, fn)
	case *parse.PipeNode:
		for _, c := range n.Cmds {
			walk(c, fn)
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			walk(a, fn)
		}
	case *parse.ChainNode:
		walk(n.Node, fn)
	case *parse.IfNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.RangeNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.WithNode:
		walkBranch(&n.BranchNode, fn)
	case *parse.TemplateNode:
		if n.Pipe != nil {
			walk(n.Pipe, fn)
		}
	}
}

func walkBranch(b *parse.BranchNode, fn func(parse.Node)) {
	walk(b.Pipe, fn)
	walk(b.List, fn)
	if b.ElseList != nil {
		walk(b.ElseList, fn)
	}
}
