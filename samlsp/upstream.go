package samlsp

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"
	dsig "github.com/russellhaering/goxmldsig"
)

// Cookie names; unique, since cookies ignore ports and apps may share
// scimbridge's host name.
const (
	sessionCookieName     = "scimbridge_session"
	trackerCookiePrefix   = "scimbridge_saml_"
	parkedCookiePrefix    = "scimbridge_pending_"
	upstreamMetadataPath  = "/saml/metadata"
	upstreamACSPath       = "/saml/acs"
	upstreamLoginPath     = "/saml/login"
	upstreamLogoutPath    = "/saml/logout"
	resumePath            = "/saml/resume"
	maxSAMLResponseLength = 4 << 20 // Entra's responses with many groups are large
)

// newUpstreamSP builds crewjam's middleware for scimbridge as an SP of the
// company IdP, with the fixes crewjam's defaults need (see each line).
func newUpstreamSP(base *url.URL, cfg Config, idp *saml.EntityDescriptor, sessions crewsp.SessionProvider, replay crewsp.AssertionHandler) (*crewsp.Middleware, error) {
	https := base.Scheme == "https"
	opts := crewsp.Options{
		EntityID:    base.ResolveReference(&url.URL{Path: upstreamMetadataPath}).String(),
		URL:         *base,
		Key:         cfg.SPKey.Key,
		Certificate: cfg.SPKey.Cert,
		IDPMetadata: idp,
		// IdP-initiated responses carry no request to match, so they could
		// be replayed from anywhere and their RelayState is an open redirect.
		AllowIDPInitiated: false,
		SignRequest:       cfg.SignAuthnRequests,
	}
	// The tracker cookie must come back on the IdP's cross-site POST to
	// the ACS: only SameSite=None (which needs Secure) does that. Over
	// plain http, for development, the attribute is left out.
	if https {
		opts.CookieSameSite = http.SameSiteNoneMode
	}
	mw, err := crewsp.New(opts)
	if err != nil {
		return nil, fmt.Errorf("upstream SP: %w", err)
	}
	if cfg.SignAuthnRequests {
		// crewjam signs with RSA-SHA1 by default.
		mw.ServiceProvider.SignatureMethod = dsig.RSASHA256SignatureMethod
	}
	mw.Binding = saml.HTTPPostBinding
	mw.ResponseBinding = saml.HTTPPostBinding
	// crewjam accepts an assertion without any AudienceRestriction; ours
	// must name scimbridge.
	mw.ServiceProvider.ValidateAudienceRestriction = requireAudience(opts.EntityID)
	mw.RequestTracker = newReturnTracker(opts, &mw.ServiceProvider, cfg.RequestTTL)
	mw.Session = sessions
	mw.AssertionHandler = replay
	return mw, nil
}

// returnTracker is crewjam's cookie tracker with a longer life (crewjam's
// 90 s fails anyone who takes longer at the IdP, e.g. for MFA) and a
// return path that is always local.
type returnTracker struct {
	crewsp.CookieRequestTracker
}

func newReturnTracker(opts crewsp.Options, sp *saml.ServiceProvider, ttl time.Duration) returnTracker {
	codec := crewsp.DefaultTrackedRequestCodec(opts)
	codec.MaxAge = ttl
	t := crewsp.DefaultRequestTracker(opts, sp)
	t.Codec = codec
	t.MaxAge = ttl
	t.NamePrefix = trackerCookiePrefix
	return returnTracker{t}
}

// GetTrackedRequest is the tracked request with its return path made safe.
func (t returnTracker) GetTrackedRequest(r *http.Request, index string) (*crewsp.TrackedRequest, error) {
	tr, err := t.CookieRequestTracker.GetTrackedRequest(r, index)
	if err != nil {
		return nil, err
	}
	tr.URI = safeReturnPath(tr.URI)
	return tr, nil
}

var errNoAudience = errors.New("the assertion's audience is not scimbridge")

func requireAudience(entityID string) func(*saml.Assertion) error {
	return func(a *saml.Assertion) error {
		if a.Conditions == nil {
			return errNoAudience
		}
		for _, ar := range a.Conditions.AudienceRestrictions {
			if ar.Audience.Value == entityID {
				return nil
			}
		}
		return errNoAudience
	}
}
