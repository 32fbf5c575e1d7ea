package e2e

import (
	"fmt"
	"testing"

	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// The standards-based clients work with either form of the issuer: the
// tests above run them against http://127.0.0.1:<port>, these against the
// same server configured with a trailing slash (as Auth0's issuers have),
// which is then the iss of every token and of discovery.
func TestClientsWithIssuerSlash(t *testing.T) {
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprintf("http://127.0.0.1:%d/", port)
	l := testenv.StartLocalOn(t, "", port, "ISSUER="+issuer)
	if l.Issuer != issuer || l.File.Issuer != issuer {
		t.Fatalf("issuer %q, local.json %q", l.Issuer, l.File.Issuer)
	}
	// One stack, one client after the other: each uses its own tokens.
	t.Run("go-oidc and x/oauth2 client credentials", func(t *testing.T) { clientCredentialsEndToEnd(t, l) })
	t.Run("go-oidc and x/oauth2 sign-in", func(t *testing.T) { spaSignInEndToEnd(t, l) })
	t.Run("openid-client sign-in", func(t *testing.T) { spaSignInWithOpenIDClient(t, l) })
}
