package wellknown_test

import (
	"net/http"
	"testing"

	"orgauth/test/testenv"
)

// README's one answer: discovery and JWKS are readable cross-origin by any
// application's allowed origin and no other; a request without Origin (a
// server) always reads them.
func TestDiscoveryAndJWKSOrigins(t *testing.T) {
	st := testenv.NewStack(t)
	org2 := st.AddOrganization(t, "team")
	st.AddSPA(t, org2, "https://other-org.example.com/cb", "https://other-org.example.com/")
	h := st.WellKnown()
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server", "/.well-known/jwks.json"} {
		for origin, allowed := range map[string]bool{"https://other-org.example.com": true, "https://evil.example": false, "": false} {
			c := testenv.Call{Method: http.MethodGet, Path: path}
			if origin != "" {
				c.Header = http.Header{"Origin": {origin}}
			}
			resp, body := testenv.Do(t, h, c)
			if resp.StatusCode != 200 || body == nil {
				t.Fatalf("%s from %q: %d", path, origin, resp.StatusCode)
			}
			got := resp.Header.Get("Access-Control-Allow-Origin")
			if allowed && got != origin || !allowed && got != "" {
				t.Errorf("%s from %q: Access-Control-Allow-Origin %q", path, origin, got)
			}
		}
	}
}
