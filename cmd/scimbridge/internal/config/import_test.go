package config

import (
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/adapters/reconcile"
)

func TestImportColumns(t *testing.T) {
	yaml := `apps:
  - name: acme
  - name: sales
    profile: peopleai
    import:
      email: Email Address
      status: Status
      role: User Role
      last_login: Last Login
  - name: beta
    import: {email: Login}
`
	c, err := Parse("cfg.yaml", []byte(yaml), profiles)
	if err != nil {
		t.Fatal(err)
	}
	want := []reconcile.Columns{
		{},
		{Email: "Email Address", Status: "Status", Role: "User Role", LastLogin: "Last Login"},
		{Email: "Login"},
	}
	for i, w := range want {
		if got := c.Apps[i].Import; got != w {
			t.Errorf("%s: import %+v, want %+v", c.Apps[i].Name, got, w)
		}
	}
}

func TestImportColumnErrors(t *testing.T) {
	const app = "apps:\n  - name: acme\n  - name: sales\n    profile: peopleai\n" // the app's keys start on line 5
	cases := []struct {
		name, yaml string
		want       string
	}{
		{"unknown sub-key", app + "    import:\n      email: Email\n      department: Dept\n", `cfg.yaml:7: unknown key "department"`},
		{"misspelt sub-key", app + "    import: {email: Email, lastlogin: Seen}\n", `cfg.yaml:5: unknown key "lastlogin"`},
		{"not a mapping", app + "    import: Email\n", `cfg.yaml:5: cannot unmarshal`},
		{"one column for two fields", app + "    import:\n      status: State\n      role: state\n",
			`cfg.yaml:5: app "sales": import: status and role both name the column "state"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse("cfg.yaml", []byte(c.yaml), profiles)
			if err == nil {
				t.Fatalf("no error, want %q", c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}
