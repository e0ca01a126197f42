package samlsp

import (
	"fmt"
	"time"

	"github.com/crewjam/saml"
)

// mint signs an assertion (and its response) for u and returns the form
// that carries it to the app's ACS. req must have its ACS endpoint and Now
// set; the signature is RSA-SHA256 with the IdP key.
func (a *app) mint(req *saml.IdpAuthnRequest, u User, authnInstant time.Time) (saml.IdpAuthnRequestForm, error) {
	if err := a.usePostACS(req); err != nil {
		return saml.IdpAuthnRequestForm{}, err
	}
	session, err := a.cfg.sessionFor(u, authnInstant)
	if err != nil {
		return saml.IdpAuthnRequestForm{}, err
	}
	if err := a.idp.AssertionMaker.MakeAssertion(req, session); err != nil {
		return saml.IdpAuthnRequestForm{}, err
	}
	form, err := req.PostBinding()
	if err != nil {
		return saml.IdpAuthnRequestForm{}, fmt.Errorf("app %s: sign the response: %w", a.cfg.Name, err)
	}
	return form, nil
}

// usePostACS makes sure the response goes by HTTP-POST, the only binding
// scimbridge answers with, to the ACS location the request chose.
func (a *app) usePostACS(req *saml.IdpAuthnRequest) error {
	if req.ACSEndpoint == nil {
		return fmt.Errorf("app %s: no ACS endpoint", a.cfg.Name)
	}
	if req.ACSEndpoint.Binding == saml.HTTPPostBinding {
		return nil
	}
	for _, d := range req.ServiceProviderMetadata.SPSSODescriptors {
		for _, acs := range d.AssertionConsumerServices {
			if acs.Binding == saml.HTTPPostBinding && acs.Location == req.ACSEndpoint.Location {
				req.ACSEndpoint = &acs
				return nil
			}
		}
	}
	return fmt.Errorf("app %s: the requested ACS %s has no HTTP-POST binding", a.cfg.Name, req.ACSEndpoint.Location)
}
