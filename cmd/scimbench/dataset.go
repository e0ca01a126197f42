package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode"
)

const (
	coreUserSchema       = "urn:ietf:params:scim:schemas:core:2.0:User"
	enterpriseUserSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
	coreGroupSchema      = "urn:ietf:params:scim:schemas:core:2.0:Group"
)

// Name pools; users get combinations of them, as a real directory has
// many people sharing a first or last name.
const (
	givenNames  = "Ada Alan Amara Anil Beatriz Chen Chloe David Elena Emeka Fatima Grace Hana Ivan Jamal Julia Kenji Lars Leila Lucas Maria Mateo Mei Nadia Noah Olga Omar Priya Rafael Sara Sofia Tariq Tomas Uma Victor Wei Yara Yusuf Zoe Zora"
	familyNames = "Abe Adeyemi Alvarez Andersen Bauer Brown Chen Costa Dubois Evans Fischer Garcia Gupta Haddad Ivanova Jensen Kim Kowalski Lee Lopez Martin Meyer Moreau Nakamura Nguyen Novak Okafor Patel Rossi Schmidt Silva Singh Smith Tanaka Taylor Walker Wang Weber Yilmaz Zhang"
	departments = "Engineering Finance Sales Marketing Support Legal People Operations Security Research"
)

// dataset makes the SCIM bodies an Entra ID provisioning job would send.
type dataset struct {
	given, family, departments []string
}

func newDataset() *dataset {
	return &dataset{
		given:       strings.Fields(givenNames),
		family:      strings.Fields(familyNames),
		departments: strings.Fields(departments),
	}
}

// mailNickname is the local part of user i's address; prefix keeps the
// loaded users ("user") apart from those the POST scenario makes ("new").
func mailNickname(prefix string, i int) string {
	return fmt.Sprintf("%s%05d", prefix, i)
}

// userName is user i's UPN-style userName.
func userName(prefix string, i int) string {
	return mailNickname(prefix, i) + "@example.com"
}

type userBody struct {
	Schemas     []string       `json:"schemas"`
	ExternalID  string         `json:"externalId"`
	UserName    string         `json:"userName"`
	Name        nameBody       `json:"name"`
	DisplayName string         `json:"displayName"`
	Title       string         `json:"title,omitempty"`
	Active      bool           `json:"active"`
	Emails      []emailBody    `json:"emails"`
	Enterprise  enterpriseBody `json:"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"`
}

type nameBody struct {
	GivenName  string `json:"givenName"`
	FamilyName string `json:"familyName"`
	Formatted  string `json:"formatted"`
}

type emailBody struct {
	Value   string `json:"value"`
	Type    string `json:"type"`
	Primary bool   `json:"primary"`
}

type enterpriseBody struct {
	EmployeeNumber string `json:"employeeNumber"`
	Department     string `json:"department"`
}

// user returns the POST /Users body of user i. Entra maps mailNickname to
// externalId by default, so that is what externalId holds.
func (d *dataset) user(prefix string, i int) ([]byte, error) {
	return d.userTitled(prefix, i, "")
}

// userTitled is user with a title, as a PUT after a title change sends.
func (d *dataset) userTitled(prefix string, i int, title string) ([]byte, error) {
	given := d.given[i%len(d.given)]
	family := d.family[(i/len(d.given))%len(d.family)]
	full := given + " " + family
	return json.Marshal(userBody{
		Schemas:     []string{coreUserSchema, enterpriseUserSchema},
		ExternalID:  mailNickname(prefix, i),
		UserName:    userName(prefix, i),
		Name:        nameBody{GivenName: given, FamilyName: family, Formatted: full},
		DisplayName: full,
		Title:       title,
		Active:      true,
		Emails:      []emailBody{{Value: userName(prefix, i), Type: "work", Primary: true}},
		Enterprise: enterpriseBody{
			EmployeeNumber: fmt.Sprintf("E%06d", i),
			Department:     d.departments[i%len(d.departments)],
		},
	})
}

type groupBody struct {
	Schemas     []string     `json:"schemas"`
	ExternalID  string       `json:"externalId"`
	DisplayName string       `json:"displayName"`
	Members     []memberBody `json:"members,omitempty"`
}

type memberBody struct {
	Value string `json:"value"`
}

// group returns the POST /Groups body of group i with the given member ids.
func (d *dataset) group(i int, memberIDs []string) ([]byte, error) {
	members := make([]memberBody, len(memberIDs))
	for j, id := range memberIDs {
		members[j] = memberBody{Value: id}
	}
	return json.Marshal(groupBody{
		Schemas:     []string{coreGroupSchema},
		ExternalID:  fmt.Sprintf("group%05d", i),
		DisplayName: d.groupName(i),
		Members:     members,
	})
}

// groupName is group i's displayName.
func (d *dataset) groupName(i int) string {
	return fmt.Sprintf("%s team %05d", d.departments[i%len(d.departments)], i)
}

// pickDistinct returns k distinct random elements of ids (k ≤ len(ids)).
// Rejection sampling is cheap for the small k of group memberships.
func pickDistinct(ids []string, k int) []string {
	seen := make(map[int]bool, k)
	out := make([]string, 0, k)
	for len(out) < k {
		i := rand.IntN(len(ids))
		if seen[i] {
			continue
		}
		seen[i] = true
		out = append(out, ids[i])
	}
	return out
}

// randomCase flips the case of each letter at random: userName is
// case-insensitive (RFC 7643 §4.1.1), and IdPs do not always keep case.
func randomCase(s string) string {
	r := []rune(s)
	for i, c := range r {
		if rand.IntN(2) == 0 {
			r[i] = unicode.ToUpper(c)
		} else {
			r[i] = unicode.ToLower(c)
		}
	}
	return string(r)
}
