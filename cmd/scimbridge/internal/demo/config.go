package demo

import "strings"

// Files of the demo directory that the configuration names, relative to
// it, as scimbridge reads them.
const (
	ConfigFile       = "scimbridge.yaml"
	DatabaseFile     = "scimbridge.db"
	KeysDir          = "saml"
	CompanyIdPFile   = "company-idp.xml"
	SixsenseSPFile   = "sixsense-sp.xml"
	SixclicksKeyFile = "sixclicks-api-token"
)

// Settings are what the configuration needs from the demo's wiring.
type Settings struct {
	// Listen is the address scimbridge listens on.
	Listen string
	// SixclicksURL is the base URL of the 6clicks-like app's API.
	SixclicksURL string
}

// Configuration is scimbridge's configuration for the demo, with
// comments that say why each part is there.
func Configuration(s Settings) string {
	return strings.NewReplacer("$LISTEN", s.Listen, "$SIXCLICKS_URL", s.SixclicksURL).Replace(configTemplate)
}

// The rest templates use {{ }}, so the two values are put in by name.
const configTemplate = `# scimbridge's configuration for "scimbridge demo", written by the demo.
# It is an ordinary configuration: docs/configuration.md explains every
# key. The apps behind it are stand-ins the demo runs on 127.0.0.1, and
# they stop with the demo.

listen: $LISTEN
database: scimbridge.db
log:
  level: info
  format: text

# scimbridge in the SSO path of just-in-time apps (docs/jit.md). The keys
# were made as "scimbridge saml keygen -out saml" makes them; the company
# IdP is the demo's stand-in for Okta, whose metadata is saved beside
# this file.
saml:
  sp_key_file: saml/sp.key
  sp_cert_file: saml/sp.crt
  idp_key_file: saml/idp.key
  idp_cert_file: saml/idp.crt
  upstream_metadata_file: company-idp.xml

apps:
  # 6sense: no SCIM and no user API. A user appears at their first SSO
  # login, as Insights User; simulate_login has scimbridge sign each new
  # user in once, so that the account exists at once. Promotions are
  # tasks. 6sense enforces the SI seats: three are bought.
  - name: sixsense
    profile: sixsense
    simulate_login: true
    seats:
      - {module: SI, limit: 3}
      - {module: ABM, limit: 10}
    role_rules:
      groups:
        - {group: Sales, role: Sales AE / SDR}
        - {group: Marketing Ops, role: Marketing Administrator}
    saml:
      sp_metadata_file: sixsense-sp.xml

  # 6clicks: the stand-in has a user API, so scimbridge makes each change
  # itself instead of opening a task (docs/rest.md). Everyone answers
  # compliance questionnaires (Respondent); Security works in the modules
  # (User). A leaver's items go to the Head of Security (docs/offboarding.md).
  - name: sixclicks
    profile: sixclicks
    default_role: Respondent
    role_rules:
      groups:
        - {group: Security, role: User}
    reassign:
      default: dana.ruiz@example.com
    rest:
      base_url: $SIXCLICKS_URL
      rate_per_minute: 600
      secrets:
        token: {file: sixclicks-api-token}
      actions:
        create:
          method: POST
          url: "{{.Base}}/api/users"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
          body: '{"email": {{.Account.Email}}, "type": {{.Task.Role}}}'
          id_field: data.id
        set_role:
          method: PATCH
          url: "{{.Base}}/api/users/{{.Account.AppUserID}}"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
          body: '{"type": {{.Task.Role}}}'
        deactivate:
          method: POST
          url: "{{.Base}}/api/users/{{.Account.AppUserID}}/deactivate"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
        reactivate:
          method: POST
          url: "{{.Base}}/api/users/{{.Account.AppUserID}}/activate"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
          body: '{"type": {{.Task.Role}}}'
        reassign:
          method: POST
          url: "{{.Base}}/api/users/{{.Account.AppUserID}}/reassign"
          headers: {Authorization: 'Bearer {{secret "token"}}'}
          body: '{"to": {{.Params.target_app_user_id}}}'

  # SixMap: every change by hand. Deactivation wipes a member's roles and
  # factors, so scimbridge notes them and, when the member comes back,
  # opens a task to restore each (docs/offboarding.md).
  - name: sixmap
    profile: sixmap
    mfa_required: true
    role_rules:
      groups:
        - {group: Security, role: Organization manager}

  # People.ai: no SCIM and no API; every change is a task with People.ai's
  # own steps. Granting Admin waits for an approver.
  - name: peopleai
    profile: peopleai
    role_rules:
      groups:
        - {group: Marketing Ops, role: Admin}
`
