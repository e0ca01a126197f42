package samltest

import (
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/golang-jwt/jwt/v4"
)

// ShiftClock moves the clocks crewjam reads (saml.TimeNow, and jwt's
// TimeFunc for its cookies) by d until the test ends; calls add up. They
// are process globals: call it only while no request is in flight, and
// never from a parallel test.
func ShiftClock(t testing.TB, d time.Duration) {
	t.Helper()
	prevSAML, prevJWT := saml.TimeNow, jwt.TimeFunc
	saml.TimeNow = func() time.Time { return prevSAML().Add(d) }
	jwt.TimeFunc = func() time.Time { return prevJWT().Add(d) }
	t.Cleanup(func() {
		saml.TimeNow, jwt.TimeFunc = prevSAML, prevJWT
	})
}
