package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"orgauth/test/testenv"
)

var (
	sessionTxField   = regexp.MustCompile(`name="transaction" value="([^"]+)"`)
	sessionCSRFField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// cookieBrowser keeps cookies and does not follow redirects, so the test
// sees where it is sent (nothing listens on the demo SPA's address).
func cookieBrowser(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func browse(t *testing.T, c *http.Client, method, u string, form url.Values) (*http.Response, string) {
	t.Helper()
	var resp *http.Response
	var err error
	if method == http.MethodPost {
		resp, err = c.PostForm(u, form)
	} else {
		resp, err = c.Get(u)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// redirectedTo checks a 303 to want and returns its query.
func redirectedTo(t *testing.T, resp *http.Response, body, want string) url.Values {
	t.Helper()
	loc, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), want) {
		t.Fatalf("want a redirect to %s, got %d %q\n%s", want, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return loc.Query()
}

// The demo user signs in to the demo SPA through the login form over HTTP
// (a wrong password first), the session then signs in silently, logout
// returns to the registered address and ends the session, and an open
// redirect through logout is refused.
func TestSignInSessionAndLogoutOverHTTP(t *testing.T) {
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	spa := l.File.SPA
	if spa.ClientID == "" || spa.RedirectURI == "" {
		t.Fatalf("local.json has no SPA: %+v", l.File)
	}
	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{
		ClientID: spa.ClientID, RedirectURL: spa.RedirectURI, Endpoint: provider.Endpoint(),
		Scopes: []string{oidc.ScopeOpenID, "profile", "email"},
	}
	conf.Endpoint.AuthStyle = oauth2.AuthStyleInParams
	verifier := oauth2.GenerateVerifier()
	authURL := func(state string, opts ...oauth2.AuthCodeOption) string {
		return conf.AuthCodeURL(state, append(opts, oauth2.S256ChallengeOption(verifier), oidc.Nonce("nonce-"+state))...)
	}
	browser := cookieBrowser(t)

	resp, page := browse(t, browser, "GET", authURL("s1"), nil)
	tx, csrf := sessionTxField.FindStringSubmatch(page), sessionCSRFField.FindStringSubmatch(page)
	if resp.StatusCode != 200 || tx == nil || csrf == nil {
		t.Fatalf("login page: %d\n%s", resp.StatusCode, page)
	}
	l.Secret(csrf[1], "not the password")
	form := url.Values{"transaction": {tx[1]}, "csrf_token": {csrf[1]}, "email": {l.File.User.Email}, "password": {"not the password"}}
	resp, page = browse(t, browser, "POST", l.Issuer+"/login", form)
	if resp.StatusCode != 200 || !strings.Contains(page, "Incorrect email or password.") {
		t.Fatalf("wrong password: %d\n%s", resp.StatusCode, page)
	}
	form.Set("password", l.File.User.Password)
	resp, page = browse(t, browser, "POST", l.Issuer+"/login", form)
	q := redirectedTo(t, resp, page, spa.RedirectURI+"?")
	code := q.Get("code")
	if code == "" || q.Get("state") != "s1" || q.Get("iss") != l.Issuer {
		t.Fatalf("callback query %v", q)
	}
	l.Secret(code)
	issuerURL, _ := url.Parse(l.Issuer)
	cookies := browser.Jar.Cookies(issuerURL)
	for _, c := range cookies {
		l.Secret(c.Value)
	}
	names := map[string]bool{}
	for _, c := range cookies {
		names[c.Name] = true
	}
	if len(cookies) != 3 || !names["orgauth_session"] || !names["orgauth_csrf"] || !names["orgauth_device"] {
		t.Fatalf("cookies %v, want orgauth_session, orgauth_csrf and the device cookie orgauth_device", cookies)
	}

	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := provider.Verifier(&oidc.Config{ClientID: spa.ClientID}).Verify(ctx, raw); err != nil {
		t.Fatalf("ID token: %v", err)
	}
	l.Secret(tok.AccessToken, raw, tok.RefreshToken)

	// The session signs in again without the form, also with prompt=none.
	resp, page = browse(t, browser, "GET", authURL("s2", oauth2.SetAuthURLParam("prompt", "none")), nil)
	q = redirectedTo(t, resp, page, spa.RedirectURI+"?")
	if q.Get("code") == "" || q.Get("state") != "s2" {
		t.Fatalf("silent sign-in: %v", q)
	}
	l.Secret(q.Get("code"))

	// An open redirect through logout is refused with a page, and the
	// session survives it.
	resp, page = browse(t, browser, "GET", l.Issuer+"/logout?"+url.Values{
		"client_id": {spa.ClientID}, "post_logout_redirect_uri": {"https://evil.example/"}}.Encode(), nil)
	if resp.StatusCode != 400 || resp.Header.Get("Location") != "" {
		t.Fatalf("open redirect: %d %q\n%s", resp.StatusCode, resp.Header.Get("Location"), page)
	}
	// Logout returns to the registered logout URL and ends the session.
	home := strings.TrimSuffix(spa.RedirectURI, "/callback") + "/"
	resp, page = browse(t, browser, "GET", l.Issuer+"/logout?"+url.Values{
		"id_token_hint": {raw}, "post_logout_redirect_uri": {home}, "state": {"bye"}}.Encode(), nil)
	if q := redirectedTo(t, resp, page, home+"?"); q.Get("state") != "bye" {
		t.Fatalf("logout query %v", q)
	}
	resp, page = browse(t, browser, "GET", authURL("s3", oauth2.SetAuthURLParam("prompt", "none")), nil)
	if q := redirectedTo(t, resp, page, spa.RedirectURI+"?"); q.Get("error") != "login_required" || q.Get("state") != "s3" {
		t.Fatalf("after logout: %v", q)
	}
}
