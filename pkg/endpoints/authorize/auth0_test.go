package authorize_test

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var scriptRe = regexp.MustCompile(`(?s)<script>(.*)</script>`)

// webMessage is what a response_mode=web_message page posts, and where.
type webMessage struct {
	Type     string            `json:"type"`
	Response map[string]string `json:"response"`
	Target   string
}

// wantWebMessage checks the web_message page: no redirect, a script that
// the page's CSP allows by its hash, posting to exactly target (never "*"),
// and framable by target only.
func wantWebMessage(t *testing.T, resp *http.Response, target string) webMessage {
	t.Helper()
	page := body(t, resp)
	csp := resp.Header.Get("Content-Security-Policy")
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || resp.Header.Get("X-Frame-Options") != "" ||
		resp.Header.Get("Cache-Control") != "no-store" || !strings.Contains(csp, "frame-ancestors "+target+";") {
		t.Fatalf("web_message page: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	m := scriptRe.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no script in\n%s", page)
	}
	sum := sha256.Sum256([]byte(m[1]))
	if !strings.Contains(csp, "script-src 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || strings.Contains(csp, "unsafe-inline") {
		t.Fatalf("the CSP does not allow exactly this script: %s", csp)
	}
	// postMessage({...}, "<target>")
	call := regexp.MustCompile(`postMessage\((\{.*\}),("[^"]*")\)`).FindStringSubmatch(m[1])
	if call == nil {
		t.Fatalf("no postMessage in %s", m[1])
	}
	var msg webMessage
	if err := json.Unmarshal([]byte(call[1]), &msg); err != nil {
		t.Fatal(err)
	}
	_ = json.Unmarshal([]byte(call[2]), &msg.Target)
	if msg.Target != target || msg.Type != "authorization_response" {
		t.Fatalf("posted %+v to %q, want %s", msg, msg.Target, target)
	}
	return msg
}

func TestWebMessage(t *testing.T) {
	e := newEnv(t)
	const origin = "https://spa.example.com"
	wm := func(change func(url.Values)) string {
		return authzQuery(e.spa, func(q url.Values) {
			q.Set("response_mode", "web_message")
			if change != nil {
				change(q)
			}
		})
	}
	none := func(q url.Values) { q.Set("prompt", "none") }

	t.Run("silent without a session", func(t *testing.T) {
		b := e.browser()
		msg := wantWebMessage(t, b.do(t, "GET", wm(none), nil), origin)
		if msg.Response["error"] != "login_required" || msg.Response["state"] != "xyz-state" || msg.Response["code"] != "" {
			t.Fatalf("%+v", msg)
		}
	})

	t.Run("popup sign-in, then silent in an iframe", func(t *testing.T) {
		email := e.user(t, e.st.OrgID, "wm")
		b := e.browser()
		// The login page itself is never framable.
		form := b.loginForm(t, wm(nil))
		msg := wantWebMessage(t, b.submit(t, form, email, pw), origin)
		if msg.Response["code"] == "" || msg.Response["state"] != "xyz-state" || msg.Response["iss"] != e.issuer {
			t.Fatalf("%+v", msg)
		}
		msg = wantWebMessage(t, b.do(t, "GET", wm(none), nil), origin)
		if msg.Response["code"] == "" || msg.Response["state"] != "xyz-state" {
			t.Fatalf("silent: %+v", msg)
		}
		// Query mode is unchanged: a redirect, and nothing framable.
		e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, none), nil))
	})

	// A popup that ends in an error gets it by message, as it would have
	// got the code: never by a redirect of the popup.
	t.Run("popup errors at login go by message", func(t *testing.T) {
		b := e.browser()
		outsider := e.user(t, e.org2, "wm-outsider")
		msg := wantWebMessage(t, b.submit(t, b.loginForm(t, wm(nil)), outsider, pw), origin)
		if msg.Response["error"] != "access_denied" || msg.Response["state"] != "xyz-state" || msg.Response["code"] != "" ||
			msg.Response["iss"] != e.issuer {
			t.Fatalf("another organization's user: %+v", msg)
		}
		if b.cookies["__Host-orgauth_session"] != nil {
			t.Fatal("a session was created")
		}
	})

	t.Run("popup consent answers go by message", func(t *testing.T) {
		email, _ := e.newcomer(t, e.st.OrgID, "wm-new")
		b := e.browser()
		_, form := consentFields(t, b.submit(t, b.loginForm(t, wm(nil)), email, pw))
		msg := wantWebMessage(t, b.answer(t, form, "deny"), origin)
		if msg.Response["error"] != "access_denied" || msg.Response["state"] != "xyz-state" || msg.Response["code"] != "" {
			t.Fatalf("deny: %+v", msg)
		}
		// Signed in but not consented: the iframe hears consent_required.
		msg = wantWebMessage(t, b.do(t, "GET", wm(none), nil), origin)
		if msg.Response["error"] != "consent_required" || msg.Response["code"] != "" {
			t.Fatalf("silent without consent: %+v", msg)
		}
		msg = wantWebMessage(t, b.approve(t, b.do(t, "GET", wm(nil), nil)), origin)
		if msg.Response["code"] == "" || msg.Response["state"] != "xyz-state" {
			t.Fatalf("approve: %+v", msg)
		}
	})

	t.Run("login page not framable", func(t *testing.T) {
		b := e.browser()
		resp := b.do(t, "GET", wm(nil), nil)
		wantPage(t, resp, 200, "Sign in")
		if !strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("%v", resp.Header)
		}
	})

	t.Run("errors after the client is known go by message", func(t *testing.T) {
		b := e.browser()
		msg := wantWebMessage(t, b.do(t, "GET", wm(func(q url.Values) { q.Del("code_challenge") }), nil), origin)
		if msg.Response["error"] != "invalid_request" {
			t.Fatalf("%+v", msg)
		}
		msg = wantWebMessage(t, b.do(t, "GET", wm(func(q url.Values) { q.Set("resource", "https://unknown.example.com") }), nil), origin)
		if msg.Response["error"] != "invalid_target" {
			t.Fatalf("%+v", msg)
		}
	})

	t.Run("never posted to an unregistered origin", func(t *testing.T) {
		b := e.browser()
		for name, change := range map[string]func(url.Values){
			"unregistered":          func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") },
			"another app's":         func(q url.Values) { q.Set("redirect_uri", "https://other.example.com/cb") },
			"same origin, unlisted": func(q url.Values) { q.Set("redirect_uri", origin+"/elsewhere") },
			"unknown client":        func(q url.Values) { q.Set("client_id", "nope") },
		} {
			resp := b.do(t, "GET", wm(func(q url.Values) { none(q); change(q) }), nil)
			page := wantPage(t, resp, 400, "")
			if strings.Contains(page, "<script") || strings.Contains(page, "postMessage") ||
				!strings.Contains(resp.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
				t.Errorf("%s: %v\n%s", name, resp.Header, page)
			}
		}
	})

	t.Run("other response modes", func(t *testing.T) {
		b := e.browser()
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("response_mode", "fragment") }), nil), "invalid_request")
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) {
			q.Set("audience", e.st.Audience)
			q.Set("resource", "https://api2.example.com")
		}), nil), "invalid_request")
	})
}

// Auth0's GET /v2/logout?client_id&returnTo: returnTo must be one of the
// application's logout URLs; anything else is a page, never a redirect.
func TestLogoutV2(t *testing.T) {
	e := newEnv(t)
	email := e.user(t, e.st.OrgID, "v2")
	b := e.browser()
	e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	session := b.cookies["__Host-orgauth_session"].Value
	for name, q := range map[string]string{
		"unregistered":    url.Values{"client_id": {e.spa}, "returnTo": {"https://evil.example/"}}.Encode(),
		"other app's URL": url.Values{"client_id": {e.spa2}, "returnTo": {logoutURL}}.Encode(),
		"no client":       url.Values{"returnTo": {logoutURL}}.Encode(),
		"unknown client":  url.Values{"client_id": {"nope"}, "returnTo": {logoutURL}}.Encode(),
		"prefix":          url.Values{"client_id": {e.spa}, "returnTo": {logoutURL + ".evil.example"}}.Encode(),
		"repeated":        url.Values{"client_id": {e.spa}, "returnTo": {logoutURL, "https://evil.example/"}}.Encode(),
		"both names":      url.Values{"client_id": {e.spa}, "returnTo": {logoutURL}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode(),
	} {
		resp := b.do(t, "GET", "/v2/logout?"+q, nil)
		page := body(t, resp)
		if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || strings.Contains(page, "evil") {
			t.Errorf("%s: %d %q\n%s", name, resp.StatusCode, resp.Header.Get("Location"), page)
		}
	}
	if c := b.cookies["__Host-orgauth_session"]; c == nil || c.Value != session {
		t.Fatal("a refused logout cleared the session")
	}
	resp := b.do(t, "GET", "/v2/logout?"+url.Values{"client_id": {e.spa}, "returnTo": {logoutURL}}.Encode()+"&federated", nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != logoutURL {
		t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	if b.cookies["__Host-orgauth_session"] != nil {
		t.Fatal("the session cookie was not cleared")
	}
	// Signed out: silent authentication now says login_required.
	e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
	wantPage(t, b.do(t, "POST", "/v2/logout", url.Values{}), 405, "")
}
