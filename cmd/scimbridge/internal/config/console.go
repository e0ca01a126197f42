package config

import "strings"

// Console configures who may use the admin console when people sign in
// through the company IdP (the saml section). Members of AdminGroup may
// look; of OperatorGroup, also work tasks; of ApproverGroup, also approve
// and reject. An admin API token typed into the local sign-in acts as an
// approver, as it can do all of that through the API anyway.
type Console struct {
	AdminGroup    string `yaml:"admin_group"`
	OperatorGroup string `yaml:"operator_group"`
	ApproverGroup string `yaml:"approver_group"`
}

// checkConsole checks the console's groups.
func (c *Config) checkConsole(w where) error {
	k := c.Console
	if k == nil {
		return nil
	}
	if c.SAML == nil {
		return c.errorf(w.key("console"), "console: the groups apply to sign-in through the company IdP; configure the saml section too")
	}
	if strings.TrimSpace(k.AdminGroup) == "" {
		return c.errorf(w.key("console"), "console.admin_group is required: the IdP group whose members may sign in")
	}
	return nil
}
