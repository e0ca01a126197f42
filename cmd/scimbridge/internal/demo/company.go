// Package demo is the scripted side of "scimbridge demo": a made-up
// company whose IdP pushes its people to four apps over SCIM, the way
// Okta does, through joiners, movers and leavers, while a person reads
// along what scimbridge makes of each change. It also writes the
// configuration the demo runs scimbridge with, so that the two agree on
// the apps, groups and roles.
package demo

import (
	"fmt"
	"slices"
	"strings"

	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/simapp"
)

// Domain is the made-up company's email domain.
const Domain = "example.com"

// person is someone at the company, as its IdP knows them.
type person struct {
	key           string // how the script refers to them
	given, family string
	title         string
	groups        []string // department groups in the IdP
	email         string   // the work address, also the userName
	externalID    string   // the IdP's own id
	active        bool
	// ids are the person's SCIM ids, per app they are pushed to.
	ids map[string]string
}

func (p *person) name() string { return p.given + " " + p.family }

// label is the person as a step names them: "Maya Chen (Sales)".
func (p *person) label() string {
	return fmt.Sprintf("%s (%s)", p.name(), strings.Join(p.groups, ", "))
}

func (p *person) department() string { return p.groups[0] }

func newPerson(n int, key, given, family, title string, groups ...string) *person {
	email := strings.ToLower(given+"."+family) + "@" + Domain
	return &person{key: key, given: given, family: family, title: title, groups: groups, email: email,
		externalID: fmt.Sprintf("00u%07d", n), active: true, ids: map[string]string{}}
}

// company returns the company's people: ten at the start, and two who
// join during the script.
func company() []*person {
	return []*person{
		newPerson(1, "dana", "Dana", "Ruiz", "Head of Security", "Security"),
		newPerson(2, "erik", "Erik", "Lund", "Security Engineer", "Security"),
		newPerson(3, "alex", "Alex", "Novak", "Staff Engineer", "Engineering"),
		newPerson(4, "ben", "Ben", "Okafor", "Software Engineer", "Engineering"),
		newPerson(5, "chloe", "Chloe", "Martin", "Site Reliability Engineer", "Engineering"),
		newPerson(6, "luis", "Luis", "Ortega", "Sales Engineer", "Sales", "Engineering"),
		newPerson(7, "priya", "Priya", "Natarajan", "Account Executive", "Sales"),
		newPerson(8, "tom", "Tom", "Becker", "Sales Development Representative", "Sales"),
		newPerson(9, "sara", "Sara", "Kim", "Marketing Operations Lead", "Marketing Ops"),
		newPerson(10, "jonas", "Jonas", "Weber", "Marketing Operations Analyst", "Marketing Ops"),
		newPerson(11, "maya", "Maya", "Chen", "Account Executive", "Sales"),
		newPerson(12, "noah", "Noah", "Fischer", "Software Engineer", "Engineering"),
	}
}

// joiners are the people who join during the script.
func joiners() []string { return []string{"maya", "noah"} }

// Changes the script makes to people, which the sign-in page of the
// company IdP shows already.
const (
	moverKey      = "ben"
	moverTo       = "Security"
	moverFrom     = "Engineering"
	leaverKey     = "luis"
	returnerKey   = "erik"
	renamedKey    = "chloe"
	renamedFamily = "Dubois"
)

// app is one of the company's apps, with the IdP groups assigned to it:
// their members are pushed to the app, and the groups themselves too.
type app struct {
	name   string // in scimbridge's configuration and URLs
	label  string // for people
	groups []string
}

// Apps are the apps, in the order the configuration lists them.
func apps() []app {
	return []app{
		{"sixsense", "6sense", []string{"Sales", "Marketing Ops"}},
		{"sixclicks", "6clicks", []string{"Security", "Engineering"}},
		{"sixmap", "SixMap", []string{"Security", "Engineering"}},
		{"peopleai", "People.ai", []string{"Sales", "Marketing Ops"}},
	}
}

// AppNames are the names of the apps in scimbridge's configuration.
func AppNames() []string {
	var out []string
	for _, a := range apps() {
		out = append(out, a.name)
	}
	return out
}

// assigned reports whether the IdP assigns a to p, through a group.
func (a app) assigned(p *person) bool {
	for _, g := range p.groups {
		if slices.Contains(a.groups, g) {
			return true
		}
	}
	return false
}

// People are the people who can sign in at the company IdP, with the
// addresses they have at the end of the script.
func People() []simapp.Person {
	var out []simapp.Person
	for _, p := range company() {
		switch p.key {
		case renamedKey:
			p.family = renamedFamily
			p.email = strings.ToLower(p.given+"."+p.family) + "@" + Domain
		case moverKey:
			p.groups = []string{moverTo}
		}
		out = append(out, simapp.Person{Name: p.name(), Email: p.email, Groups: p.groups})
	}
	return out
}
