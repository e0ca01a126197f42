package samlsp

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"

	"github.com/crewjam/saml"
	crewsp "github.com/crewjam/saml/samlsp"
	xrv "github.com/mattermost/xml-roundtrip-validator"
)

// parseUpstreamMetadata reads the company IdP's metadata and checks that
// it names a single sign-on service and a signing certificate, without
// which no response could ever be accepted.
func parseUpstreamMetadata(data []byte) (*saml.EntityDescriptor, error) {
	if len(data) == 0 {
		return nil, errors.New("the upstream IdP metadata is missing")
	}
	ed, err := crewsp.ParseMetadata(data)
	if err != nil {
		return nil, fmt.Errorf("the upstream IdP metadata is not valid SAML metadata: %w", err)
	}
	if ed.EntityID == "" {
		return nil, errors.New("the upstream IdP metadata has no entityID")
	}
	if len(ed.IDPSSODescriptors) == 0 {
		return nil, errors.New("the upstream IdP metadata has no IDPSSODescriptor; is it an IdP's metadata?")
	}
	hasSSO, hasCert := false, false
	for _, d := range ed.IDPSSODescriptors {
		for _, s := range d.SingleSignOnServices {
			if s.Binding == saml.HTTPPostBinding || s.Binding == saml.HTTPRedirectBinding {
				hasSSO = true
			}
		}
		for _, k := range d.KeyDescriptors {
			if (k.Use == "" || k.Use == "signing") && len(k.KeyInfo.X509Data.X509Certificates) > 0 {
				hasCert = true
			}
		}
	}
	if !hasSSO {
		return nil, errors.New("the upstream IdP metadata has no HTTP-POST or HTTP-Redirect SingleSignOnService")
	}
	if !hasCert {
		return nil, errors.New("the upstream IdP metadata has no signing certificate")
	}
	return ed, nil
}

// appSP is an app's parsed SP metadata and the endpoint that IdP-initiated
// (simulated) logins post to.
type appSP struct {
	meta    *saml.EntityDescriptor
	spsso   *saml.SPSSODescriptor
	postACS *saml.IndexedEndpoint
}

// parseAppMetadata reads an app's SP metadata. Only the HTTP-POST binding
// of the ACS is usable: it is the one scimbridge answers with.
func parseAppMetadata(name string, data []byte) (appSP, error) {
	ed, err := parseSPMetadata(data)
	if err != nil {
		return appSP{}, fmt.Errorf("app %s: the SP metadata is not valid SAML metadata: %w", name, err)
	}
	if ed.EntityID == "" {
		return appSP{}, fmt.Errorf("app %s: the SP metadata has no entityID", name)
	}
	for i := range ed.SPSSODescriptors {
		d := &ed.SPSSODescriptors[i]
		for j := range d.AssertionConsumerServices {
			acs := &d.AssertionConsumerServices[j]
			if acs.Binding == saml.HTTPPostBinding && acs.Location != "" {
				return appSP{meta: ed, spsso: d, postACS: acs}, nil
			}
		}
	}
	if len(ed.SPSSODescriptors) == 0 {
		return appSP{}, fmt.Errorf("app %s: the SP metadata has no SPSSODescriptor; is it a service provider's metadata?", name)
	}
	return appSP{}, fmt.Errorf("app %s: the SP metadata has no HTTP-POST AssertionConsumerService", name)
}

// parseSPMetadata is crewjam's ParseMetadata for an SP: that one picks an
// IdP out of an EntitiesDescriptor.
func parseSPMetadata(data []byte) (*saml.EntityDescriptor, error) {
	ed, err := crewsp.ParseMetadata(data)
	if err == nil {
		return ed, nil
	}
	var eds saml.EntitiesDescriptor
	if xrv.Validate(bytes.NewReader(data)) != nil || xml.Unmarshal(data, &eds) != nil {
		return nil, err
	}
	for i, e := range eds.EntityDescriptors {
		if len(e.SPSSODescriptors) > 0 {
			return &eds.EntityDescriptors[i], nil
		}
	}
	return nil, err
}
