package scim

import (
	"net/http"
	"strconv"
	"strings"
)

// etag is the weak entity tag of a resource version.
func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// etagMatches reports whether an If-Match or If-None-Match header names
// the version. Tags are compared without their weakness: SCIM versions
// are weak tags that clients send back either way.
func etagMatches(header string, version int64) bool {
	want := `"` + strconv.FormatInt(version, 10) + `"`
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}

// checkIfMatch refuses a write whose If-Match names another version than
// the stored one (RFC 7644 §3.14). Without the header every write goes.
func checkIfMatch(r *http.Request, version int64) error {
	h := r.Header.Get("If-Match")
	if h == "" || etagMatches(h, version) {
		return nil
	}
	return &Error{
		Status: http.StatusPreconditionFailed,
		Detail: "the resource has changed since it was read: it is now at version " + etag(version) + "; read it again",
	}
}
