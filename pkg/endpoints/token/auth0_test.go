package token_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"orgauth/pkg/jwt"
	"orgauth/test/testenv"
)

// doJSON posts params as an application/json body.
func doJSON(t *testing.T, h http.Handler, path string, params map[string]string, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(params)
	return doRaw(t, h, path, "application/json", string(b), header)
}

func doRaw(t *testing.T, h http.Handler, path, ctype, body string, header http.Header) (*http.Response, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
	r.Header.Set("Content-Type", ctype)
	for k, vs := range header {
		r.Header[k] = vs
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var m map[string]any
	_ = json.NewDecoder(w.Result().Body).Decode(&m)
	return w.Result(), m
}

// What @auth0/auth0-spa-js and Auth0-style callers send: the Auth0-Client
// header on every call (so the preflight must allow it), JSON bodies, and
// RFC 8707's resource as the name of audience.
func TestAuth0StyleCalls(t *testing.T) {
	e := newFlowEnv(t)
	const otherAPI = "https://api2.example.com"
	e.st.Stage.Cfg.Audiences = append(e.st.Stage.Cfg.Audiences, otherAPI)
	h := e.token()
	m2m := func(extra map[string]string) map[string]string {
		p := map[string]string{"grant_type": "client_credentials", "client_id": e.st.ClientID, "client_secret": e.st.ClientSecret}
		for k, v := range extra {
			p[k] = v
		}
		return p
	}
	audOf := func(t *testing.T, raw any, want string) []string {
		t.Helper()
		s, _ := raw.(string)
		c, err := jwt.NewVerifier(e.st.Stage.Cfg.Issuer, e.st.Stage.Keys, nil).VerifyAccessToken(t.Context(), s, want)
		if err != nil {
			t.Fatalf("access token for %s: %v", want, err)
		}
		return c.Audience
	}

	t.Run("preflight allows the SDK headers", func(t *testing.T) {
		for _, path := range []string{"/oauth/token", "/oauth/revoke"} {
			resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodOptions, Path: path, Header: http.Header{"Origin": {e.origin},
				"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"auth0-client,content-type"}}})
			allowed := strings.ToLower(resp.Header.Get("Access-Control-Allow-Headers"))
			for _, want := range []string{"auth0-client", "dpop", "authorization", "content-type"} {
				if !strings.Contains(allowed, want) {
					t.Errorf("%s: Access-Control-Allow-Headers %q lacks %s", path, allowed, want)
				}
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
				t.Errorf("%s: %v", path, resp.Header)
			}
		}
		wk := e.wellKnown()
		resp, _ := testenv.Do(t, wk, testenv.Call{Method: http.MethodOptions, Path: "/userinfo", Header: http.Header{"Origin": {e.origin},
			"Access-Control-Request-Method": {"GET"}, "Access-Control-Request-Headers": {"auth0-client,authorization"}}})
		if !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Auth0-Client") {
			t.Errorf("userinfo preflight: %v", resp.Header)
		}
		// The origin rules are unchanged: an origin no application allows
		// gets nothing, whatever the headers.
		resp, _ = testenv.Do(t, h, testenv.Call{Method: http.MethodOptions, Path: "/oauth/token", Header: http.Header{"Origin": {"https://evil.example"},
			"Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"auth0-client"}}})
		if resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Headers") != "" {
			t.Errorf("unknown origin: %v", resp.Header)
		}
	})

	t.Run("json body, every grant", func(t *testing.T) {
		resp, body := doJSON(t, h, "/oauth/token", m2m(map[string]string{"audience": e.st.Audience}), nil)
		if resp.StatusCode != 200 || body["access_token"] == nil {
			t.Fatalf("client_credentials: %d %v", resp.StatusCode, body)
		}
		code, v := e.code(t, nil)
		resp, body = doJSON(t, h, "/oauth/token", map[string]string{"grant_type": "authorization_code", "code": code, "code_verifier": v,
			"redirect_uri": e.redirect, "client_id": e.spa}, http.Header{"Origin": {e.origin}})
		if resp.StatusCode != 200 || body["refresh_token"] == nil || resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
			t.Fatalf("authorization_code: %d %v %v", resp.StatusCode, body, resp.Header)
		}
		resp, body2 := doJSON(t, h, "/oauth/token", map[string]string{"grant_type": "refresh_token", "refresh_token": body["refresh_token"].(string),
			"client_id": e.spa}, nil)
		if resp.StatusCode != 200 || body2["access_token"] == nil {
			t.Fatalf("refresh_token: %d %v", resp.StatusCode, body2)
		}
		resp, _ = doJSON(t, h, "/oauth/revoke", map[string]string{"token": body2["refresh_token"].(string), "client_id": e.spa}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		if resp, body := e.refresh(t, h, body2["refresh_token"].(string)); body["error"] != "invalid_grant" {
			t.Fatalf("refresh after a JSON revocation: %d %v", resp.StatusCode, body)
		}
	})

	t.Run("json body, same errors as the form", func(t *testing.T) {
		for name, body := range map[string]string{
			"repeated":      `{"grant_type":"client_credentials","grant_type":"client_credentials"}`,
			"number":        `{"grant_type":"client_credentials","expires_in":5}`,
			"malformed":     `{"grant_type":`,
			"too large":     `{"grant_type":"client_credentials","x":"` + strings.Repeat("a", 17<<10) + `"}`,
			"missing grant": `{}`,
		} {
			resp, m := doRaw(t, h, "/oauth/token", "application/json", body, nil)
			if resp.StatusCode != 400 || m["error"] != "invalid_request" {
				t.Errorf("%s: %d %v", name, resp.StatusCode, m)
			}
		}
		resp, m := doRaw(t, h, "/oauth/token", "text/plain", `grant_type=client_credentials`, nil)
		if resp.StatusCode != 400 || m["error"] != "invalid_request" {
			t.Errorf("text/plain: %d %v", resp.StatusCode, m)
		}
		resp, m = doJSON(t, h, "/oauth/token", m2m(map[string]string{"client_secret": "wrong-secret-value", "audience": e.st.Audience}), nil)
		if resp.StatusCode != 401 || m["error"] != "invalid_client" {
			t.Errorf("wrong secret: %d %v", resp.StatusCode, m)
		}
	})

	t.Run("resource on client_credentials", func(t *testing.T) {
		form := func(extra ...string) url.Values {
			f := url.Values{"grant_type": {"client_credentials"}, "client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}}
			for i := 0; i+1 < len(extra); i += 2 {
				f.Set(extra[i], extra[i+1])
			}
			return f
		}
		resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: form("resource", otherAPI)})
		if resp.StatusCode != 200 || !equal(audOf(t, body["access_token"], otherAPI), []string{otherAPI}) {
			t.Fatalf("resource: %d %v", resp.StatusCode, body)
		}
		resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: form("resource", otherAPI, "audience", otherAPI)})
		if resp.StatusCode != 200 {
			t.Fatalf("resource and audience agreeing: %d %v", resp.StatusCode, body)
		}
		resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: form("resource", "https://unknown.example.com")})
		wantError(t, resp, body, 400, "invalid_target")
		resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: form("resource", otherAPI, "audience", e.st.Audience)})
		wantError(t, resp, body, 400, "invalid_request")
		resp, body = doJSON(t, h, "/oauth/token", m2m(map[string]string{"resource": otherAPI}), nil)
		if resp.StatusCode != 200 {
			t.Fatalf("resource in JSON: %d %v", resp.StatusCode, body)
		}
	})

	t.Run("refresh audience", func(t *testing.T) {
		code, v := e.code(t, nil)
		_, body := e.exchange(t, h, code, v)
		rt := body["refresh_token"].(string)
		// Another API of this server, not granted by the sign-in.
		for _, p := range [][]string{{"audience", otherAPI}, {"resource", otherAPI}, {"audience", "https://unknown.example.com"}} {
			resp, b := e.refresh(t, h, rt, p...)
			wantError(t, resp, b, 400, "invalid_target")
		}
		resp, b := e.refresh(t, h, rt, "audience", e.st.Audience, "resource", otherAPI)
		wantError(t, resp, b, 400, "invalid_request")
		// The granted one, by either name: the refusals above did not
		// rotate the token.
		resp, b = e.refresh(t, h, rt, "audience", e.st.Audience)
		if resp.StatusCode != 200 || !equal(audOf(t, b["access_token"], e.st.Audience), []string{e.st.Audience}) {
			t.Fatalf("granted audience: %d %v", resp.StatusCode, b)
		}
		resp, b = e.refresh(t, h, b["refresh_token"].(string), "resource", e.st.Audience)
		if resp.StatusCode != 200 {
			t.Fatalf("granted resource: %d %v", resp.StatusCode, b)
		}
	})
}

func equal(a, b []string) bool { return strings.Join(a, " ") == strings.Join(b, " ") }
