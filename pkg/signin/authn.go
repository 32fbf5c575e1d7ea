package signin

import (
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
)

// authn is how a sign-in authenticated its user, which the session it
// starts records: with a password, or at the organization's provider.
type authn struct {
	method string    // domain.AuthPassword or domain.AuthSSO
	issuer string    // the provider, for domain.AuthSSO
	at     time.Time // when the user authenticated: the session's AuthTime
}

func passwordAuth(now time.Time) authn { return authn{method: domain.AuthPassword, at: now} }

func ssoAuth(issuer string, at time.Time) authn {
	return authn{method: domain.AuthSSO, issuer: issuer, at: at}
}

// formEmail is the login form's email in address.NormalizeEmail's form; an
// address that is not valid is kept trimmed and ASCII lower-cased, to show
// again in the form, and matches no user.
func formEmail(s string) string {
	if e, err := address.NormalizeEmail(s); err == nil {
		return e
	}
	return domain.LowerASCII(strings.TrimSpace(s))
}
