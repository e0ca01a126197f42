package samltest

import (
	"context"
	"sync"
	"time"

	"github.com/scimbridge/scimbridge/samlsp"
)

// Directory is an in-memory samlsp.Directory: users allowed per app and
// subject, refusals, and the logins recorded.
type Directory struct {
	mu       sync.Mutex
	allowed  map[[2]string]samlsp.User
	refusals map[[2]string]error
	logins   []Login
}

// Login is one RecordLogin call.
type Login struct {
	App    string
	User   samlsp.User
	At     time.Time
	Source string
}

// NewDirectory returns an empty directory: it refuses everyone with
// samlsp.ErrNotAssigned until told otherwise.
func NewDirectory() *Directory {
	return &Directory{allowed: map[[2]string]samlsp.User{}, refusals: map[[2]string]error{}}
}

// Allow lets subject into app as u.
func (d *Directory) Allow(app, subject string, u samlsp.User) {
	d.mu.Lock()
	defer d.mu.Unlock()
	delete(d.refusals, [2]string{app, subject})
	d.allowed[[2]string{app, subject}] = u
}

// Refuse makes Authorize answer err for subject in app.
func (d *Directory) Refuse(app, subject string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.refusals[[2]string{app, subject}] = err
}

// Authorize implements samlsp.Directory.
func (d *Directory) Authorize(_ context.Context, app, subject string, _ map[string][]string) (samlsp.User, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	k := [2]string{app, subject}
	if err, ok := d.refusals[k]; ok {
		return d.allowed[k], err
	}
	if u, ok := d.allowed[k]; ok {
		return u, nil
	}
	return samlsp.User{}, samlsp.ErrNotAssigned
}

// RecordLogin implements samlsp.Directory.
func (d *Directory) RecordLogin(_ context.Context, app string, u samlsp.User, at time.Time, source string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.logins = append(d.logins, Login{App: app, User: u, At: at, Source: source})
	return nil
}

// Logins returns the recorded logins in order.
func (d *Directory) Logins() []Login {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Login(nil), d.logins...)
}
