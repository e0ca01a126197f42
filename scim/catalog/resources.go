package catalog

import (
	"github.com/elimity-com/scim/optional"
	"github.com/elimity-com/scim/schema"
)

// Catalog holds the resource types of one SCIM service provider.
type Catalog struct {
	User  *Resource
	Group *Resource
}

// New builds the catalog: the core User with the enterprise and scimbridge
// extensions, and the core Group.
func New() *Catalog {
	return &Catalog{
		User: newResource("User", "/Users", schema.CoreUserSchema(),
			schema.ExtensionEnterpriseUser(), BridgeUserExtension()),
		Group: newResource("Group", "/Groups", schema.CoreGroupSchema()),
	}
}

// BridgeUserExtension is the read-only extension through which the IdP admin
// sees how far scimbridge has got with the user's account in the downstream
// app. The IdP cannot write it; the adapters fill it.
func BridgeUserExtension() schema.Schema {
	readOnly := schema.AttributeMutabilityReadOnly()
	return schema.Schema{
		ID:          BridgeUserSchema,
		Name:        optional.NewString("scimbridge User"),
		Description: optional.NewString("The state of the user's account in the downstream app, as scimbridge knows it."),
		Attributes: []schema.CoreAttribute{
			schema.SimpleCoreAttribute(schema.SimpleStringParams(schema.StringParams{
				Name:            "provisioningState",
				Mutability:      readOnly,
				CaseExact:       true,
				CanonicalValues: []string{"pending", "awaiting_login", "active", "deactivated", "deleted", "blocked"},
				Description:     optional.NewString("Lifecycle state of the account in the downstream app."),
			})),
			schema.SimpleCoreAttribute(schema.SimpleNumberParams(schema.NumberParams{
				Name:        "pendingActions",
				Type:        schema.AttributeTypeInteger(),
				Mutability:  readOnly,
				Description: optional.NewString("Number of actions not yet carried out in the downstream app."),
			})),
			schema.SimpleCoreAttribute(schema.SimpleDateTimeParams(schema.DateTimeParams{
				Name:        "lastLogin",
				Mutability:  readOnly,
				Description: optional.NewString("Time of the user's last observed sign-in to the downstream app."),
			})),
		},
	}
}
