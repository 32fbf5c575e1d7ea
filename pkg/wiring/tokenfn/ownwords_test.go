package tokenfn_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

// attack is text an attacker would like orgauth to say.
const attack = "Your session expired. Sign in again at https://evil.example"

// The token, revocation and introspection endpoints say what went wrong in
// their own words: no error_description, header or 405 answer repeats a
// parameter name, a scope or a method the sender chose.
func TestTokenEndpointErrorsNeverEchoInput(t *testing.T) {
	st := testenv.NewStack(t)
	h := st.Handler(tokenfn.New)
	word := "EvilExample"
	for name, c := range map[string]struct {
		method string
		body   string
	}{
		"repeated unknown parameter": {"POST", url.Values{"grant_type": {"client_credentials"}, attack: {"1", "2"}}.Encode()},
		"scope not allowed": {"POST", url.Values{"grant_type": {"client_credentials"}, "client_id": {st.ClientID},
			"client_secret": {st.ClientSecret}, "audience": {st.Audience}, "scope": {"read https://evil.example/admin"}}.Encode()},
		"method": {"EVILEXAMPLE", ""},
	} {
		for _, path := range []string{"/oauth/token", "/oauth/revoke", "/oauth/introspect"} {
			r := httptest.NewRequest(c.method, path, strings.NewReader(c.body))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			body, _ := io.ReadAll(w.Result().Body)
			if w.Code < 400 {
				t.Errorf("%s %s: answered %d", name, path, w.Code)
			}
			seen := string(body) + " " + w.Header().Get("WWW-Authenticate")
			if strings.Contains(strings.ToLower(seen), "evil") || strings.Contains(seen, word) {
				t.Errorf("%s %s: the answer repeats the sender's text: %d %s", name, path, w.Code, seen)
			}
			if c.method != "POST" && w.Code != http.StatusMethodNotAllowed {
				t.Errorf("%s %s: %d, want 405", name, path, w.Code)
			}
		}
	}
}
