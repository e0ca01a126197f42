// Package scim is the IdP-facing side of scimbridge: one SCIM 2.0 service
// provider per app at /apps/{app}/scim/v2/, built on
// github.com/elimity-com/scim, with bearer-token authentication, IdP quirk
// normalisation, and the shadow directory behind it.
package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	elimity "github.com/elimity-com/scim"
	"github.com/elimity-com/scim/optional"

	"github.com/scimbridge/scimbridge/scim/catalog"
	"github.com/scimbridge/scimbridge/scim/compat"
	"github.com/scimbridge/scimbridge/scim/limit"
	"github.com/scimbridge/scimbridge/scim/query"
	"github.com/scimbridge/scimbridge/scim/store"
)

const contentType = "application/scim+json"

// Defaults for Config fields left zero.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultPageSize     = 100
	DefaultMaxPageSize  = 1000
)

// MaxJSONDepth bounds the nesting of objects and lists in a request
// body. A SCIM body needs six levels (a PATCH value holding an extension's
// manager); the bound keeps a hostile body from costing the decoders work
// in its depth.
const MaxJSONDepth = 32

// filterShapes bounds the filter shapes remembered (see query.Filters).
const filterShapes = 1024

// AppNamePattern is what an app name may look like; it becomes part of URLs.
var AppNamePattern = regexp.MustCompile(`^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$`)

// Config configures a Server.
type Config struct {
	Store store.Store
	// Apps are the names of the apps served.
	Apps []string
	// Rules are the IdP normalisation rules of each app; an app without
	// an entry has every rule on.
	Rules map[string]compat.Set
	// BaseURL is the externally visible URL scimbridge is reached at, such
	// as https://scim.example.com; it prefixes meta.location and $ref.
	BaseURL string
	// MaxBodyBytes bounds request bodies (default DefaultMaxBodyBytes).
	MaxBodyBytes int64
	// DefaultPageSize is the count of a list request that gives none;
	// MaxPageSize caps count.
	DefaultPageSize int
	MaxPageSize     int
	Logger          *slog.Logger

	// TokenRate bounds each token's requests: admin tokens', and SCIM
	// tokens' of apps without an entry in AppTokenRates. The zero Rate
	// is no limit.
	TokenRate     limit.Rate
	AppTokenRates map[string]limit.Rate
	// FailedAuthPerMinute is how many failed authentications a client
	// address may have in a burst, and then a minute, before its requests
	// are refused with 429: 0 is DefaultFailedAuthPerMinute, negative no
	// limit.
	FailedAuthPerMinute int
	// Proxies are the reverse proxies whose X-Forwarded-For names the
	// client; without them, the client is the connection's peer.
	Proxies limit.Proxies
	// Now is the rate limits' clock (default time.Now).
	Now func() time.Time
}

// Server serves the SCIM endpoints of every app.
type Server struct {
	cfg     Config
	log     *slog.Logger
	cat     *catalog.Catalog
	filters *query.Filters
	auth    *authenticator
	apps    map[string]*appHandler
	stop    context.CancelFunc
	stopped chan struct{}
}

// NewServer checks cfg and prepares the per-app SCIM servers. Close stops
// its background work.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("scim: no store")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxPageSize <= 0 {
		cfg.MaxPageSize = DefaultMaxPageSize
	}
	if cfg.DefaultPageSize <= 0 {
		cfg.DefaultPageSize = min(DefaultPageSize, cfg.MaxPageSize)
	}
	cfg.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	s := &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		cat:     catalog.New(),
		filters: query.NewFilters(filterShapes),
		auth:    newAuthenticator(cfg.Store, cfg.Logger, newGuard(cfg)),
		apps:    map[string]*appHandler{},
		stopped: make(chan struct{}),
	}
	for _, name := range cfg.Apps {
		if !AppNamePattern.MatchString(name) {
			return nil, fmt.Errorf("scim: app name %q: use lower-case letters, digits and inner dashes", name)
		}
		if _, dup := s.apps[name]; dup {
			return nil, fmt.Errorf("scim: app %q given twice", name)
		}
		a, err := newAppHandler(s, name)
		if err != nil {
			return nil, err
		}
		s.apps[name] = a
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	go func() {
		defer close(s.stopped)
		s.auth.recordTouches(ctx)
	}()
	return s, nil
}

// Close stops the server's background work. It does not close the store.
func (s *Server) Close() {
	s.stop()
	<-s.stopped
}

// Handler returns the handler for everything under /apps/.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/apps/{app}/scim/v2/{rest...}", s.serveSCIM)
	mux.HandleFunc("/apps/{app}/scim/v2", s.serveSCIM)
	mux.HandleFunc("/apps/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint; SCIM lives at /apps/{app}/scim/v2/"})
	})
	return mux
}

// appHandler is one app's SCIM service provider.
type appHandler struct {
	s      *Server
	name   string
	rules  compat.Set
	base   string // absolute URL of the app's SCIM root, without trailing slash
	lib    elimity.Server
	users  *userHandler
	groups *groupHandler
}

func newAppHandler(s *Server, name string) (*appHandler, error) {
	a := &appHandler{s: s, name: name, base: s.cfg.BaseURL + "/apps/" + name + "/scim/v2", rules: s.cfg.Rules[name]}
	userUnstored, err := lookupAll(s.cat.User, "id", "externalId", "meta", "groups", "password")
	if err != nil {
		return nil, err
	}
	groupUnstored, err := lookupAll(s.cat.Group, "id", "externalId", "meta", "members")
	if err != nil {
		return nil, err
	}
	a.users = &userHandler{base{a: a, res: s.cat.User, unstored: userUnstored}}
	a.groups = &groupHandler{base{a: a, res: s.cat.Group, unstored: groupUnstored}}
	var lib elimity.Server
	lib, err = elimity.NewServer(&elimity.ServerArgs{
		ServiceProviderConfig: &elimity.ServiceProviderConfig{MaxResults: s.cfg.MaxPageSize, SupportFiltering: true},
		ResourceTypes: []elimity.ResourceType{
			{
				ID:          optional.NewString("User"),
				Name:        "User",
				Endpoint:    "/Users",
				Description: optional.NewString("User Account"),
				Schema:      s.cat.User.Core,
				SchemaExtensions: []elimity.SchemaExtension{
					{Schema: s.cat.User.Extensions[0]},
					{Schema: s.cat.User.Extensions[1]},
				},
				Handler: a.users,
			},
			{
				ID:          optional.NewString("Group"),
				Name:        "Group",
				Endpoint:    "/Groups",
				Description: optional.NewString("Group"),
				Schema:      s.cat.Group.Core,
				Handler:     a.groups,
			},
		},
	}, elimity.WithBaseURL(a.base), elimity.WithLogger(libraryLogger{s.log}))
	if err != nil {
		return nil, fmt.Errorf("scim: app %s: %w", name, err)
	}
	a.lib = lib
	return a, nil
}

// lookupAll resolves core attribute names.
func lookupAll(res *catalog.Resource, names ...string) ([]*catalog.Attribute, error) {
	out := make([]*catalog.Attribute, len(names))
	for i, n := range names {
		a, ok := res.Lookup("", n, "")
		if !ok {
			return nil, fmt.Errorf("scim: the %s schema lacks %s", res.Name, n)
		}
		out[i] = a
	}
	return out, nil
}

// libraryLogger passes on the library's messages and errors but never the
// other values it logs, which can be whole resources with personal data.
type libraryLogger struct{ log *slog.Logger }

func (l libraryLogger) Error(args ...any) {
	var msg string
	var errText string
	for i, a := range args {
		if i == 0 {
			msg, _ = a.(string)
		}
		if err, ok := a.(error); ok {
			errText = err.Error()
		}
	}
	l.log.Error("scim library: "+msg, "error", errText)
}

// route is one endpoint a request can reach, found from its path.
type route int

const (
	routeNone route = iota
	routeSPC
	routeSchemas
	routeResourceTypes
	routeCollection // /Users, /Groups
	routeSearch     // /Users/.search, /Groups/.search
	routeResource   // /Users/{id}, /Groups/{id}
)

func (s *Server) serveSCIM(w http.ResponseWriter, r *http.Request) {
	w = retryHint{w}
	w.Header().Set("Content-Type", contentType)
	name := r.PathValue("app")
	a, ok := s.apps[name]
	setRequestApp(r.Context(), name, ok)
	if err := s.auth.check(r, name); err != nil {
		writeError(w, classify(r.Context(), s.log, err))
		return
	}
	if !ok {
		// A token for an app that has left the configuration.
		writeError(w, errUnauthorized)
		return
	}
	path := "/" + r.PathValue("rest")
	if len(path) > 1 && strings.HasSuffix(path, "/") && a.rules.On(compat.TrailingSlash) {
		path = strings.TrimSuffix(path, "/")
	}
	if r.Header.Get("User-Agent") == "" && !a.rules.On(compat.MissingUserAgent) {
		writeError(w, badRequest("", "a User-Agent header is required by this app's configuration"))
		return
	}
	a.serve(w, r, path)
}

func (a *appHandler) serve(w http.ResponseWriter, r *http.Request, path string) {
	rt, res := a.route(path)
	if rt == routeNone {
		writeError(w, &Error{Status: http.StatusNotFound, Detail: "no such endpoint: " + path})
		return
	}
	if allowed := allowedMethods(rt); !strings.Contains(" "+allowed+" ", " "+r.Method+" ") {
		w.Header().Set("Allow", strings.ReplaceAll(allowed, " ", ", "))
		writeError(w, &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not allowed here; use " + allowed})
		return
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
		body, err := a.readBody(w, r, res, rt)
		if err != nil {
			writeError(w, err)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
	}
	switch {
	case rt == routeSPC:
		a.serviceProviderConfig(w, r)
	case rt == routeCollection && r.Method == http.MethodGet:
		a.listFromQuery(w, r, res)
	case rt == routeSearch:
		a.search(w, r, res)
	case rt == routeResource && r.Method == http.MethodPatch:
		a.patch(w, r, res, resourceID(res, path))
	case rt == routeResource && r.Method == http.MethodGet && r.Header.Get("If-None-Match") != "" &&
		a.notModified(w, r, res, resourceID(res, path)):
	default:
		lr := r.Clone(r.Context())
		lr.URL.Path = "/v2" + path
		lr.URL.RawPath = ""
		serveLibrary(a.lib, w, lr)
	}
}

func (a *appHandler) route(path string) (route, *catalog.Resource) {
	switch path {
	case "/ServiceProviderConfig":
		return routeSPC, nil
	case "/Schemas":
		return routeSchemas, nil
	case "/ResourceTypes":
		return routeResourceTypes, nil
	}
	if strings.HasPrefix(path, "/Schemas/") {
		return routeSchemas, nil
	}
	if strings.HasPrefix(path, "/ResourceTypes/") {
		return routeResourceTypes, nil
	}
	for _, res := range []*catalog.Resource{a.s.cat.User, a.s.cat.Group} {
		switch {
		case path == res.Endpoint:
			return routeCollection, res
		case path == res.Endpoint+"/.search":
			return routeSearch, res
		case strings.HasPrefix(path, res.Endpoint+"/") && !strings.Contains(path[len(res.Endpoint)+1:], "/"):
			return routeResource, res
		}
	}
	return routeNone, nil
}

// resourceID is the id in a /Users/{id} or /Groups/{id} path (the
// router has unescaped it).
func resourceID(res *catalog.Resource, path string) string {
	return strings.TrimPrefix(path, res.Endpoint+"/")
}

func allowedMethods(rt route) string {
	switch rt {
	case routeCollection:
		return "GET POST"
	case routeSearch:
		return "POST"
	case routeResource:
		return "GET PUT PATCH DELETE"
	}
	return "GET"
}

// readBody reads a request body within the size limit, checks that it is
// JSON, and applies the normalisation rules to resource bodies.
func (a *appHandler) readBody(w http.ResponseWriter, r *http.Request, res *catalog.Resource, rt route) ([]byte, *Error) {
	limit := a.s.cfg.MaxBodyBytes
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the request body is larger than %d bytes", limit)}
	case err != nil:
		return nil, badRequest("invalidSyntax", "the request body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, badRequest("invalidSyntax", "the request body is empty; send a JSON object")
	}
	if tooDeep(body, MaxJSONDepth) {
		return nil, badRequest("invalidSyntax", "the request body nests objects and lists deeper than %d levels", MaxJSONDepth)
	}
	var doc any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return nil, badRequest("invalidSyntax", "the request body is not valid JSON: %s", jsonProblem(err))
	}
	if dec.More() {
		return nil, badRequest("invalidSyntax", "the request body holds more than one JSON value")
	}
	obj, ok := doc.(map[string]any)
	if !ok {
		return nil, badRequest("invalidSyntax", "the request body must be a JSON object")
	}
	if (rt == routeCollection && r.Method == http.MethodPost) || (rt == routeResource && r.Method == http.MethodPut) {
		if err := compat.Resource(res, obj, a.rules); err != nil {
			return nil, badRequest(err.ScimType, "%s", err.Detail)
		}
		out, err := json.Marshal(obj)
		if err != nil {
			return nil, badRequest("invalidSyntax", "the request body could not be re-encoded")
		}
		return out, nil
	}
	return body, nil
}

// tooDeep reports whether the JSON text body nests objects and lists more
// than max levels deep. It only counts brackets outside strings, so it
// runs before, and costs far less than, decoding.
func tooDeep(body []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range body {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case c == '}' || c == ']':
			depth--
		}
	}
	return false
}

func jsonProblem(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d)", syn.Error(), syn.Offset)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "it ends too early"
	}
	return err.Error()
}

func (a *appHandler) serviceProviderConfig(w http.ResponseWriter, r *http.Request) {
	spc := map[string]any{
		"schemas":          []string{"urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"},
		"documentationUri": "https://github.com/scimbridge/scimbridge/tree/main/docs",
		"patch":            map[string]any{"supported": true},
		"bulk":             map[string]any{"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
		"filter":           map[string]any{"supported": true, "maxResults": a.s.cfg.MaxPageSize},
		"changePassword":   map[string]any{"supported": false},
		"sort":             map[string]any{"supported": true},
		"etag":             map[string]any{"supported": true},
		"authenticationSchemes": []map[string]any{{
			"type":        "oauthbearertoken",
			"name":        "OAuth Bearer Token",
			"description": "A bearer token created with `scimbridge token create`, scoped to this app.",
			"primary":     true,
		}},
		"meta": map[string]any{
			"resourceType": "ServiceProviderConfig",
			"location":     a.base + "/ServiceProviderConfig",
		},
	}
	writeJSON(w, http.StatusOK, spc)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		writeError(w, &Error{Status: http.StatusInternalServerError, Detail: "internal server error"})
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
