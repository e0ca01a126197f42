package metrics

import "strings"

// Route names the kind of endpoint a request path reaches, as a label
// with few values: never an id, an app name or anything from the query.
func Route(path string) string {
	switch {
	case path == "/healthz" || path == "/readyz":
		return "health"
	case path == "/metrics":
		return "metrics"
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/console" || strings.HasPrefix(path, "/console/"):
		return "console"
	case strings.HasPrefix(path, "/saml/"):
		return "saml"
	case strings.HasPrefix(path, "/hooks/"):
		return "hook"
	case strings.HasPrefix(path, "/apps/"):
		return appRoute(path[len("/apps/"):])
	}
	return "other"
}

// appRoute names what lies below /apps/{app}/.
func appRoute(rest string) string {
	_, rest, ok := strings.Cut(rest, "/")
	switch {
	case !ok:
		return "other"
	case strings.HasPrefix(rest, "saml/"):
		return "saml"
	case rest == "scim/v2" || rest == "scim/v2/":
		return "scim_other"
	case strings.HasPrefix(rest, "scim/v2/"):
		return scimRoute(strings.TrimSuffix(rest[len("scim/v2/"):], "/"))
	}
	return "other"
}

// scimRoute names a path below an app's SCIM base URL, as the SCIM
// server routes it: a trailing slash names the same endpoint.
func scimRoute(p string) string {
	first, rest, hasRest := strings.Cut(p, "/")
	switch first {
	case "Users", "Groups":
		kind := strings.ToLower(first[:len(first)-1])
		switch {
		case !hasRest || rest == ".search":
			return "scim_" + kind + "s"
		case rest != "" && !strings.Contains(rest, "/"):
			return "scim_" + kind
		}
	case "ServiceProviderConfig", "Schemas", "ResourceTypes":
		return "scim_discovery"
	}
	return "scim_other"
}

// method keeps the label to the methods scimbridge serves: a client can
// send any token as a method.
func method(m string) string {
	switch m {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
		return m
	}
	return "other"
}
