package query_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
)

func TestParseSort(t *testing.T) {
	cases := []struct {
		res              *catalog.Resource
		sortBy, order    string
		wantPath         string // empty: nil Sort
		wantDescending   bool
		wantParam, inMsg string // for errors
	}{
		{res: cat.User, sortBy: "", order: ""},
		{res: cat.User, sortBy: "  ", order: "descending"},
		{res: cat.User, sortBy: "userName", order: "", wantPath: "userName"},
		{res: cat.User, sortBy: "userName", order: "ascending", wantPath: "userName"},
		{res: cat.User, sortBy: " USERNAME ", order: " DESCENDING ", wantPath: "userName", wantDescending: true},
		{res: cat.User, sortBy: "name.givenName", order: "Descending", wantPath: "name.givenName", wantDescending: true},
		{res: cat.User, sortBy: "meta.created", wantPath: "meta.created"},
		{res: cat.User, sortBy: "urn:ietf:params:scim:schemas:core:2.0:User:title", wantPath: "title"},
		{res: cat.User, sortBy: ent + ":employeeNumber", wantPath: ent + ":employeeNumber"},
		{res: cat.User, sortBy: "employeeNumber", wantPath: ent + ":employeeNumber"},
		{res: cat.User, sortBy: ent + ":manager.value", wantPath: ent + ":manager.value"},
		{res: cat.User, sortBy: brg + ":lastLogin", order: "descending", wantPath: brg + ":lastLogin", wantDescending: true},
		{res: cat.Group, sortBy: "displayName", wantPath: "displayName"},

		{res: cat.User, sortBy: "userName", order: "up", wantParam: "sortOrder", inMsg: `"up"`},
		{res: cat.User, sortBy: "", order: "sideways", wantParam: "sortOrder", inMsg: `"sideways"`},
		{res: cat.User, sortBy: "foo", wantParam: "sortBy", inMsg: `unknown attribute "foo"`},
		{res: cat.User, sortBy: "name.foo", wantParam: "sortBy", inMsg: "unknown attribute"},
		{res: cat.User, sortBy: "emails", wantParam: "sortBy", inMsg: "multi-valued"},
		{res: cat.User, sortBy: "emails.value", wantParam: "sortBy", inMsg: "multi-valued"},
		{res: cat.User, sortBy: "name", wantParam: "sortBy", inMsg: "complex"},
		{res: cat.User, sortBy: ent + ":manager", wantParam: "sortBy", inMsg: "complex"},
		{res: cat.User, sortBy: "password", wantParam: "sortBy", inMsg: "cannot be sorted on"},
		{res: cat.Group, sortBy: "members.value", wantParam: "sortBy", inMsg: "multi-valued"},
		{res: cat.Group, sortBy: "userName", wantParam: "sortBy", inMsg: "unknown attribute"},
	}
	for _, c := range cases {
		t.Run(c.res.Name+" "+c.sortBy+" "+c.order, func(t *testing.T) {
			s, err := query.ParseSort(c.res, c.sortBy, c.order)
			if c.wantParam != "" {
				var qe *query.Error
				if !errors.As(err, &qe) {
					t.Fatalf("got %+v, %v; want a *query.Error", s, err)
				}
				if qe.Param != c.wantParam || !strings.Contains(qe.Msg, c.inMsg) {
					t.Errorf("error %+v, want Param %q and a message containing %q", qe, c.wantParam, c.inMsg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.wantPath == "" {
				if s != nil {
					t.Errorf("got sort on %s, want nil", s.Attr.Path())
				}
				return
			}
			if s == nil || s.Attr.Path() != c.wantPath || s.Descending != c.wantDescending {
				t.Errorf("got %+v, want %s descending=%v", s, c.wantPath, c.wantDescending)
			}
		})
	}
}
