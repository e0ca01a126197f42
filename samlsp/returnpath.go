package samlsp

import (
	"net/url"
	"strings"
)

// safeReturnPath keeps a return target only if it is a path on this
// host: "/..." but not "//host" or "/\host", which browsers read as
// another host. Anything else becomes "/", so that no sign-in can be
// used to send a person off-site.
func safeReturnPath(target string) string {
	if target == "" || target[0] != '/' {
		return "/"
	}
	if len(target) > 1 && (target[1] == '/' || target[1] == '\\') {
		return "/"
	}
	// Control characters and backslashes anywhere: browsers strip or
	// rewrite them, which can turn a path into a host.
	if strings.ContainsFunc(target, func(r rune) bool { return r < 0x20 || r == 0x7f || r == '\\' }) {
		return "/"
	}
	u, err := url.Parse(target)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil {
		return "/"
	}
	return u.RequestURI()
}
