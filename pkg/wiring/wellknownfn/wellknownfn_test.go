package wellknownfn_test

import (
	"net/http"
	"testing"
	"time"

	"orgauth/pkg/wiring/wellknownfn"
	"orgauth/test/testenv"
)

// The wellknown function serves JWKS_MAX_AGE as the documents'
// Cache-Control max-age: key rotation waits that long after publishing a
// key, so the served value must be the configured one.
func TestJWKSMaxAgeIsServed(t *testing.T) {
	st := testenv.NewStack(t)
	st.Stage.Cfg.JWKSMaxAge = 7 * time.Minute
	h := st.Handler(wellknownfn.New)
	for _, path := range []string{"/.well-known/jwks.json", "/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodGet, Path: path})
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=420" {
			t.Errorf("%s: %d Cache-Control %q", path, resp.StatusCode, resp.Header.Get("Cache-Control"))
		}
	}
	// /userinfo is per user and never cacheable.
	resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodGet, Path: "/userinfo"})
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/userinfo Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
}
