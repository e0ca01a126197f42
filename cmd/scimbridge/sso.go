package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/scimbridge/scimbridge/adapters/account"
	"github.com/scimbridge/scimbridge/adapters/engine"
	"github.com/scimbridge/scimbridge/adapters/oktahook"
	"github.com/scimbridge/scimbridge/adapters/plan"
	"github.com/scimbridge/scimbridge/adapters/queue"
	"github.com/scimbridge/scimbridge/adapters/task"
	"github.com/scimbridge/scimbridge/cmd/scimbridge/internal/config"
	"github.com/scimbridge/scimbridge/samlsp"
	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// directory answers samlsp and the Okta hook from the shadow directory
// and the engine's accounts.
type directory struct {
	db    *sqlite.DB
	eng   *engine.Engine
	users *catalog.Resource
	// roleApps are the apps whose assertions carry the role, so that a
	// proxied login also tells which role the app gave.
	roleApps map[string]bool
}

// lookup finds the user of app that signs in as login: by userName, else
// by an email address.
func (d *directory) lookup(ctx context.Context, app, login string) (store.User, error) {
	login = strings.TrimSpace(login)
	if login == "" || strings.ContainsAny(login, `"\`) {
		return store.User{}, samlsp.ErrUnknownUser
	}
	f, err := query.ParseFilter(d.users, fmt.Sprintf(`userName eq "%s" or emails.value eq "%s"`, login, login))
	if err != nil {
		return store.User{}, fmt.Errorf("find user: %w", err)
	}
	page, err := d.db.ListUsers(ctx, app, store.List{Filter: f, Count: 2})
	if err != nil {
		return store.User{}, fmt.Errorf("find user: %w", err)
	}
	if len(page.Resources) != 1 {
		// None, or two users share the address: neither may sign in as it.
		return store.User{}, samlsp.ErrUnknownUser
	}
	return page.Resources[0], nil
}

func (d *directory) Authorize(ctx context.Context, app, subject string, attrs map[string][]string) (samlsp.User, error) {
	u, err := d.lookup(ctx, app, subject)
	if errors.Is(err, samlsp.ErrUnknownUser) {
		for _, v := range attrs["email"] {
			if u, err = d.lookup(ctx, app, v); err == nil {
				break
			}
		}
	}
	if err != nil {
		return samlsp.User{}, err
	}
	// The shadow directory decides at once, without waiting for the
	// engine: a user the IdP deactivated a moment ago is refused now.
	f := engine.UserDetails(u)
	if !f.Active {
		return samlsp.User{}, samlsp.ErrInactive
	}
	out := samlsp.User{ID: u.ID, UserName: u.UserName, Email: f.Email, GivenName: f.GivenName, FamilyName: f.FamilyName}
	acct, found, err := queue.In(d.db.ReadSQL()).Account(ctx, app, u.ID)
	if err != nil {
		return samlsp.User{}, err
	}
	if found && acct.Desired.Role != "" {
		out.Roles = []string{acct.Desired.Role}
	}
	return out, nil
}

func (d *directory) RecordLogin(ctx context.Context, app string, u samlsp.User, at time.Time, source string) error {
	l := engine.Login{App: app, UserID: u.ID, At: at, Source: source}
	if d.roleApps[app] && len(u.Roles) > 0 {
		l.Role = u.Roles[0]
	}
	return d.eng.RecordLogin(ctx, l)
}

// hookSink records the logins an Okta event hook reports.
type hookSink struct {
	d   *directory
	log *slog.Logger
}

func (h hookSink) RecordLogin(ctx context.Context, app string, ev oktahook.LoginEvent) error {
	u, err := h.d.lookup(ctx, app, ev.Login)
	if errors.Is(err, samlsp.ErrUnknownUser) {
		// Okta knows people the IdP never pushed to this app.
		h.log.DebugContext(ctx, "an Okta login of a user the app does not have", "app", app, "event", ev.EventID)
		return nil
	}
	if err != nil {
		return err
	}
	return h.d.eng.RecordLogin(ctx, engine.Login{App: app, UserID: u.ID, At: ev.At, Source: engine.LoginHook})
}

// samlExecutor carries out create tasks of just-in-time apps by a
// simulated SSO login.
type samlExecutor struct {
	d   *directory
	sso *samlsp.Service
}

func (x samlExecutor) Execute(ctx context.Context, t task.Task, a account.Account) (engine.Result, error) {
	u, err := x.d.db.GetUser(ctx, t.App, t.UserID, store.Load{})
	if errors.Is(err, store.ErrNotFound) {
		return engine.Result{}, engine.Refused(fmt.Errorf("user %s is no longer in the directory", t.UserID))
	}
	if err != nil {
		return engine.Result{}, err
	}
	f := engine.UserDetails(u)
	err = x.sso.SimulateLogin(ctx, t.App, samlsp.User{ID: u.ID, UserName: u.UserName, Email: a.Email,
		GivenName: f.GivenName, FamilyName: f.FamilyName, Roles: []string{a.Desired.Role}})
	var refused *samlsp.RefusedError
	if errors.As(err, &refused) {
		return engine.Result{}, engine.Refused(err)
	}
	return engine.Result{}, err
}

// sso is what serve runs for the SSO side: the SAML service, the Okta
// hook and the executors that need them.
type sso struct {
	service   *samlsp.Service
	hook      http.Handler
	executors map[string]engine.Executor
}

func startSSO(ctx context.Context, cfg *config.Config, getenv func(string) string, db *sqlite.DB, eng *engine.Engine, log *slog.Logger) (*sso, error) {
	d := &directory{db: db, eng: eng, users: catalog.New().User, roleApps: map[string]bool{}}
	out := &sso{executors: map[string]engine.Executor{}}
	if s := cfg.SAML; s != nil {
		sp, err := samlsp.LoadKeyPair(cfg.File(s.SPKeyFile), cfg.File(s.SPCertFile))
		if err != nil {
			return nil, fmt.Errorf("saml: service-provider key: %w", err)
		}
		idp, err := samlsp.LoadKeyPair(cfg.File(s.IdPKeyFile), cfg.File(s.IdPCertFile))
		if err != nil {
			return nil, fmt.Errorf("saml: identity-provider key: %w", err)
		}
		meta, err := os.ReadFile(cfg.File(s.UpstreamMetadataFile))
		if err != nil {
			return nil, fmt.Errorf("saml: upstream_metadata_file: %w", err)
		}
		sc := samlsp.Config{BaseURL: cfg.PublicURL, SPKey: sp, IdPKey: idp, UpstreamMetadata: meta,
			EmailAttribute: s.EmailAttribute, GroupsAttribute: s.GroupsAttribute, SignAuthnRequests: s.SignAuthnRequests}
		for _, a := range cfg.Apps {
			if a.SAML == nil {
				continue
			}
			md, err := os.ReadFile(cfg.File(a.SAML.SPMetadataFile))
			if err != nil {
				return nil, fmt.Errorf("app %q: saml.sp_metadata_file: %w", a.Name, err)
			}
			sc.Apps = append(sc.Apps, samlsp.AppConfig{Name: a.Name, SPMetadata: md, NameID: a.SAML.NameID,
				NameIDFormat: a.SAML.NameIDFormat, RoleAttribute: a.SAML.RoleAttribute, EmailAttribute: a.SAML.EmailAttribute,
				GivenNameAttribute: a.SAML.GivenNameAttribute, FamilyNameAttribute: a.SAML.FamilyNameAttribute})
			d.roleApps[a.Name] = a.SAML.RoleAttribute != ""
		}
		svc, err := samlsp.New(ctx, db, sc, d, log)
		if err != nil {
			return nil, fmt.Errorf("saml: %w", err)
		}
		out.service = svc
		out.executors[plan.ExecutorSAML] = samlExecutor{d: d, sso: svc}
	}
	if cfg.OktaHook != nil {
		secret, err := cfg.ReadOktaHookSecret(getenv)
		if err != nil {
			return nil, err
		}
		ids, labels := map[string]string{}, map[string]string{}
		for _, a := range cfg.Apps {
			if a.OktaApp != "" {
				// Okta app ids start with 0oa; anything else is a label.
				if strings.HasPrefix(a.OktaApp, "0oa") {
					ids[a.OktaApp] = a.Name
				} else {
					labels[a.OktaApp] = a.Name
				}
			}
		}
		h, err := oktahook.New(oktahook.Config{Secrets: []string{secret}, AppIDs: ids, AppLabels: labels,
			Sink: hookSink{d: d, log: log}, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("okta_hook: %w", err)
		}
		out.hook = h
	}
	return out, nil
}

// ssoPerson is who the company IdP signed in, for the console: the email
// attribute, else the NameID, and the groups.
func ssoPerson(ctx context.Context) (string, []string, bool) {
	s, ok := samlsp.SessionFrom(ctx)
	if !ok {
		return "", nil, false
	}
	name := s.Email
	if name == "" {
		name = s.Subject
	}
	return name, s.Groups, true
}
