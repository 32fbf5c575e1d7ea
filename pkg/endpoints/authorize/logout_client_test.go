package authorize_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"orgauth/pkg/domain"
)

// OpenID RP-Initiated Logout §2 with client_id and no id_token_hint: the
// return address must be one of that application's logout URLs, character
// for character. Anything else (another application's URL, an unknown
// client, an address never registered) is an error page, never a
// redirect, and the session stays; the registered one ends the session
// and returns there with state.
func TestLogoutByClientID(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// An application of another organization with a logout URL of its own.
	const foreignURL = "https://third.example.net/bye"
	foreign := e.st.AddSPA(t, e.org2, "https://third.example.net/cb", foreignURL)
	email := e.user(t, e.st.OrgID, "logan")
	b := e.browser()
	e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	session := b.cookies["__Host-orgauth_session"].Value

	for name, q := range map[string]url.Values{
		"same org's other app's URL": {"client_id": {e.spa}, "post_logout_redirect_uri": {"https://other.example.com/"}},
		"other org's app's URL":      {"client_id": {e.spa}, "post_logout_redirect_uri": {foreignURL}},
		"URL named by its own app":   {"client_id": {foreign}, "post_logout_redirect_uri": {logoutURL}},
		"unknown client":             {"client_id": {"no-such-client"}, "post_logout_redirect_uri": {logoutURL}},
		"unregistered URL":           {"client_id": {e.spa}, "post_logout_redirect_uri": {"https://spa.example.com/"}},
		"registered URL plus a path": {"client_id": {e.spa}, "post_logout_redirect_uri": {logoutURL + "/x"}},
		"registered URL, other case": {"client_id": {e.spa}, "post_logout_redirect_uri": {strings.ToUpper(logoutURL)}},
	} {
		q.Set("state", "bye")
		resp := b.do(t, "GET", "/logout?"+q.Encode(), nil)
		page := wantPage(t, resp, http.StatusBadRequest, "sign-out")
		if strings.Contains(page, q.Get("post_logout_redirect_uri")) {
			t.Errorf("%s: the refused address is on the page", name)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "__Host-orgauth_session" {
				t.Errorf("%s: a refused logout touched the session cookie: %v", name, c)
			}
		}
	}
	if c := b.cookies["__Host-orgauth_session"]; c == nil || c.Value != session {
		t.Fatal("a refused logout cleared the session cookie")
	}
	if _, err := e.st.Stage.Store.GetSession(ctx, domain.HashSecret(session), e.clock()); err != nil {
		t.Fatalf("a refused logout ended the session: %v", err)
	}

	// The application's own logout URL: 303 there with state, the session
	// ended on the server and its cookie cleared.
	resp := b.do(t, "GET", "/logout?"+url.Values{"client_id": {e.spa}, "post_logout_redirect_uri": {logoutURL}, "state": {"bye now"}}.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != logoutURL+"?state=bye+now" {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	cleared := false
	for _, c := range resp.Cookies() {
		cleared = cleared || (c.Name == "__Host-orgauth_session" && c.MaxAge < 0 && c.Value == "")
	}
	if !cleared || b.cookies["__Host-orgauth_session"] != nil {
		t.Fatalf("the session cookie was not cleared: %v", resp.Header["Set-Cookie"])
	}
	if _, err := e.st.Stage.Store.GetSession(ctx, domain.HashSecret(session), e.clock()); err == nil {
		t.Fatal("the session still exists after logout")
	}
	// The old cookie signs nobody in.
	b.cookies["__Host-orgauth_session"] = &http.Cookie{Name: "__Host-orgauth_session", Value: session}
	e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")

	// The other organization's application returns to its own URL.
	resp = b.do(t, "GET", "/logout?"+url.Values{"client_id": {foreign}, "post_logout_redirect_uri": {foreignURL}}.Encode(), nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != foreignURL {
		t.Fatalf("logout for another organization's application: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}
