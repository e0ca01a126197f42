package metrics_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/metrics"
)

func TestRoute(t *testing.T) {
	const id = "7f3c9a1e-4b2d-4f8e-9c1a-2b3c4d5e6f70"
	cases := []struct {
		path, want string
	}{
		{"/apps/acme/scim/v2/Users", "scim_users"},
		{"/apps/acme/scim/v2/Users/", "scim_users"},
		{"/apps/acme/scim/v2/Users/.search", "scim_users"},
		{"/apps/acme/scim/v2/Users/" + id, "scim_user"},
		{"/apps/acme/scim/v2/Users/" + id + "/", "scim_user"},
		{"/apps/acme/scim/v2/Users/ann@example.com", "scim_user"},
		{"/apps/acme/scim/v2/Users/" + id + "/extra", "scim_other"},
		{"/apps/acme/scim/v2/Groups", "scim_groups"},
		{"/apps/acme/scim/v2/Groups/.search", "scim_groups"},
		{"/apps/acme/scim/v2/Groups/" + id, "scim_group"},
		{"/apps/acme/scim/v2/ServiceProviderConfig", "scim_discovery"},
		{"/apps/acme/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User", "scim_discovery"},
		{"/apps/acme/scim/v2/ResourceTypes/User", "scim_discovery"},
		{"/apps/acme/scim/v2", "scim_other"},
		{"/apps/acme/scim/v2/", "scim_other"},
		{"/apps/acme/scim/v2/Bulk", "scim_other"},
		{"/apps/acme/scim/v2/users", "scim_other"},
		{"/apps/" + id + "/scim/v2/Users/" + id, "scim_user"},
		{"/apps/acme/saml/sso", "saml"},
		{"/apps/acme", "other"},
		{"/apps/acme/" + id, "other"},
		{"/api/v1/apps/acme/accounts/ann@example.com/login", "api"},
		{"/api/v1/tasks/42", "api"},
		{"/console/", "console"},
		{"/console/tasks/42", "console"},
		{"/console", "console"},
		{"/saml/acs", "saml"},
		{"/hooks/okta", "hook"},
		{"/healthz", "health"},
		{"/readyz", "health"},
		{"/metrics", "metrics"},
		{"/", "other"},
		{"/" + id, "other"},
		{"/consolex", "other"},
		{"/metrics/x", "other"},
	}
	allowed := []string{"scim_users", "scim_user", "scim_groups", "scim_group", "scim_discovery", "scim_other",
		"api", "console", "saml", "hook", "health", "metrics", "other"}
	for _, c := range cases {
		t.Run(c.path, func(t *testing.T) {
			got := metrics.Route(c.path)
			if got != c.want {
				t.Errorf("Route(%q) = %q, want %q", c.path, got, c.want)
			}
			if !slices.Contains(allowed, got) || strings.Contains(got, id) || strings.Contains(got, "acme") {
				t.Errorf("Route(%q) = %q is not a fixed route name", c.path, got)
			}
		})
	}
}
