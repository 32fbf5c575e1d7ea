package authorize_test

import (
	"net/url"
	"strings"
	"testing"
)

// TestOwnWords: the sign-in pages and the error redirects say what went
// wrong in orgauth's words; text the link's author chose (parameter names,
// a method, a scope) is never shown back.
func TestOwnWords(t *testing.T) {
	e := newEnv(t)
	const planted = "Your session expired Sign in again at https://evil.example"
	b := e.browser()

	// A repeated parameter whose name is the attacker's sentence.
	resp := b.do(t, "GET", "/logout?"+url.Values{planted: {"1", "2"}}.Encode(), nil)
	page := wantPage(t, resp, 400, "repeats a parameter")
	if strings.Contains(page, "evil.example") || strings.Contains(page, "session expired") {
		t.Fatalf("the logout page echoes the parameter name:\n%s", page)
	}
	// A repeated parameter orgauth knows is named.
	wantPage(t, b.do(t, "GET", "/logout?state=1&state=2", nil), 400, "repeats state")

	// Any method name on the 405 page.
	resp = b.do(t, "YOURSESSIONEXPIRED", "/logout", nil)
	page = body(t, resp)
	if resp.StatusCode != 405 || strings.Contains(strings.ToUpper(page), "YOURSESSIONEXPIRED") {
		t.Fatalf("405 page: %d\n%s", resp.StatusCode, page)
	}

	// error_description in the redirect to the client.
	for name, change := range map[string]func(url.Values){
		"repeated unknown parameter": func(q url.Values) { q[planted] = []string{"1", "2"} },
		"unknown scope":              func(q url.Values) { q.Set("scope", "openid Your_session_expired_visit_evil.example") },
	} {
		resp := b.do(t, "GET", authzQuery(e.spa, change), nil)
		q := e.wantRedirect(t, resp, callback)
		desc := q.Get("error_description")
		if q.Get("error") == "" || desc == "" || strings.Contains(desc, "evil") || strings.Contains(desc, "session") {
			t.Errorf("%s: error %q, error_description %q", name, q.Get("error"), desc)
		}
	}
}
