package authorize_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"orgauth/test/testenv"
)

// TestLogoutRevokesSessionGrants: logging out revokes the refresh tokens
// that the session's sign-ins obtained, and their access tokens (at
// /userinfo); what another browser session of the same user obtained is
// kept.
func TestLogoutRevokesSessionGrants(t *testing.T) {
	e := newEnv(t)
	tokenEP := e.st.WithClock(e.clock, e.st.Token)
	userinfo := e.st.WithClock(e.clock, e.st.WellKnown)
	email := e.user(t, e.st.OrgID, "lou")
	withOffline := func(q url.Values) { q.Set("scope", "openid offline_access") }

	signIn := func(b *browser) (access, refresh string) {
		t.Helper()
		var code string
		if _, signedIn := b.cookies["__Host-orgauth_session"]; signedIn {
			code = e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, withOffline), nil)).Get("code")
		} else {
			code = e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, withOffline)), email, pw)).Get("code")
		}
		resp, body := testenv.Do(t, tokenEP, testenv.Call{Path: "/oauth/token", Form: url.Values{
			"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier},
			"redirect_uri": {callback}, "client_id": {e.spa}}})
		access, _ = body["access_token"].(string)
		refresh, _ = body["refresh_token"].(string)
		if resp.StatusCode != 200 || access == "" || refresh == "" {
			t.Fatalf("code exchange: %d %v", resp.StatusCode, body)
		}
		return access, refresh
	}
	refresh := func(rt string) (int, string) {
		t.Helper()
		resp, body := testenv.Do(t, tokenEP, testenv.Call{Path: "/oauth/token", Form: url.Values{
			"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.spa}}})
		next, _ := body["refresh_token"].(string)
		return resp.StatusCode, next
	}
	userinfoStatus := func(at string) int {
		r := httptest.NewRequest("GET", "/userinfo", nil)
		r.Header.Set("Authorization", "Bearer "+at)
		w := httptest.NewRecorder()
		userinfo.ServeHTTP(w, r)
		return w.Code
	}

	b, other := e.browser(), e.browser()
	_, rt1 := signIn(b)
	status, rt1 := refresh(rt1) // a rotated successor is in the family too
	if status != 200 {
		t.Fatalf("refresh before logout: %d", status)
	}
	at2, rt2 := signIn(b) // a second sign-in of the same session, through SSO
	atOther, rtOther := signIn(other)
	if userinfoStatus(at2) != 200 {
		t.Fatal("userinfo before logout")
	}

	if resp := b.do(t, "GET", "/logout", nil); resp.StatusCode != 200 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	for name, rt := range map[string]string{"first sign-in": rt1, "second sign-in": rt2} {
		if status, _ := refresh(rt); status != 400 {
			t.Errorf("%s: the refresh token still works after logout: %d", name, status)
		}
	}
	if s := userinfoStatus(at2); s != http.StatusUnauthorized {
		t.Errorf("the access token still works at /userinfo after logout: %d", s)
	}
	// The other browser's session is not this logout's.
	if s := userinfoStatus(atOther); s != 200 {
		t.Errorf("another session's access token: %d", s)
	}
	if status, _ := refresh(rtOther); status != 200 {
		t.Errorf("another session's refresh token: %d", status)
	}
}
