package samlsp

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"

	"github.com/scimbridge/scimbridge/scim/store/sqlite"
)

// Service is scimbridge's SAML side: the SP of the company IdP and the IdP
// of the just-in-time apps.
type Service struct {
	cfg        Config
	base       *url.URL
	db         *sqlite.DB
	dir        Directory
	log        *slog.Logger
	sp         *crewsp.Middleware
	sessions   *sessionStore
	apps       map[string]*app
	client     *http.Client
	formPolicy string
	// now is crewjam's clock, so that our expiries and crewjam's checks
	// agree (and move together in tests).
	now func() time.Time
}

// New checks cfg, creates samlsp's tables in db if needed, and returns the
// service. logger may be nil (slog.Default()).
func New(ctx context.Context, db *sqlite.DB, cfg Config, dir Directory, logger *slog.Logger) (*Service, error) {
	if db == nil {
		return nil, errors.New("saml: no database")
	}
	if dir == nil {
		return nil, errors.New("saml: no directory")
	}
	if logger == nil {
		logger = slog.Default()
	}
	cfg = cfg.withDefaults()
	base, err := parseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	if err := cfg.checkKeys(); err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	if cfg.SessionTTL < 0 || cfg.RequestTTL < 0 || cfg.SimulateTimeout < 0 {
		return nil, errors.New("saml: durations must not be negative")
	}
	upstream, err := parseUpstreamMetadata(cfg.UpstreamMetadata)
	if err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	apps := map[string]*app{}
	for _, ac := range cfg.Apps {
		if _, dup := apps[ac.Name]; dup {
			return nil, fmt.Errorf("saml: app %s is configured twice", ac.Name)
		}
		a, err := newApp(base, ac, cfg.IdPKey)
		if err != nil {
			return nil, fmt.Errorf("saml: %w", err)
		}
		apps[ac.Name] = a
	}
	if err := Migrate(ctx, db); err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	s := &Service{
		cfg:        cfg,
		base:       base,
		db:         db,
		dir:        dir,
		log:        logger,
		apps:       apps,
		client:     newSimulateClient(cfg.HTTPClient, cfg.SimulateTimeout),
		formPolicy: postFormPolicy(),
		now:        func() time.Time { return saml.TimeNow() },
	}
	s.sessions = &sessionStore{
		db:         db,
		cookieName: sessionCookieName,
		secure:     base.Scheme == "https",
		ttl:        cfg.SessionTTL,
		emailAttr:  cfg.EmailAttribute,
		groupsAttr: cfg.GroupsAttribute,
		now:        s.now,
	}
	s.sp, err = newUpstreamSP(base, cfg, upstream, s.sessions, replayCache{db: db, now: s.now})
	if err != nil {
		return nil, fmt.Errorf("saml: %w", err)
	}
	s.sp.OnError = s.onSPError
	return s, nil
}

// Register adds scimbridge's SAML routes to mux. A cross-origin guard in
// front of mux (http.CrossOriginProtection) must let through
// "POST /saml/acs" and "POST /apps/{app}/saml/sso": both are cross-site
// posts by design.
func (s *Service) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET "+upstreamMetadataPath, s.sp.ServeMetadata)
	mux.HandleFunc("POST "+upstreamACSPath, s.serveACS)
	mux.HandleFunc("GET "+upstreamLoginPath, s.serveLogin)
	mux.HandleFunc("POST "+upstreamLogoutPath, s.serveLogout)
	mux.Handle("GET "+resumePath, s.RequireSession(http.HandlerFunc(s.serveResume)))
	mux.HandleFunc("GET /apps/{app}/saml/metadata", s.serveAppMetadata)
	mux.HandleFunc("GET /apps/{app}/saml/sso", s.serveAppSSO)
	mux.HandleFunc("POST /apps/{app}/saml/sso", s.serveAppSSO)
}

// Handler is a mux with only the SAML routes.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	s.Register(mux)
	return mux
}

// SPMetadata is the metadata to register scimbridge with the upstream IdP.
func (s *Service) SPMetadata() ([]byte, error) {
	b, err := xml.MarshalIndent(s.sp.ServiceProvider.Metadata(), "", "  ")
	if err != nil {
		return nil, fmt.Errorf("saml: encode SP metadata: %w", err)
	}
	return append([]byte(xml.Header), b...), nil
}

// AppIdPMetadata is the IdP metadata to configure app with.
func (s *Service) AppIdPMetadata(app string) ([]byte, error) {
	a, ok := s.apps[app]
	if !ok {
		return nil, fmt.Errorf("saml: no SAML app %q is configured", app)
	}
	return a.metadata()
}
