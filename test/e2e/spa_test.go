package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

var hiddenInput = regexp.MustCompile(`name="(transaction|csrf_token)" value="([^"]*)"`)

// signIn drives the built-in login page over HTTP as a browser would
// (cookies, no automatic redirects) and returns the redirect back to the
// application.
func signIn(t *testing.T, l *testenv.Local, authURL string) *url.URL {
	t.Helper()
	return signInAs(t, l, authURL, l.File.User.Email, l.File.User.Password)
}

// signInAs is signIn with another user's email and password.
func signInAs(t *testing.T, l *testenv.Local, authURL, email, password string) *url.URL {
	t.Helper()
	return signInWith(t, l, authURL, email, password, false)
}

// signInApproving is signInAs for a user who did not create the
// application: it approves the consent page that follows the password.
func signInApproving(t *testing.T, l *testenv.Local, authURL, email, password string) *url.URL {
	t.Helper()
	return signInWith(t, l, authURL, email, password, true)
}

func signInWith(t *testing.T, l *testenv.Local, authURL, email, password string, approve bool) *url.URL {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := browser.Get(authURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /authorize: %d %s", resp.StatusCode, page)
	}
	form := url.Values{"email": {email}, "password": {password}}
	for _, m := range hiddenInput.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	if form.Get("transaction") == "" || form.Get("csrf_token") == "" {
		t.Fatalf("login form without transaction or csrf_token:\n%s", page)
	}
	resp, err = browser.PostForm(l.Base()+"/login", form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if approve && resp.StatusCode == 200 && strings.Contains(string(body), `action="/consent"`) {
		consent := url.Values{"decision": {"approve"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(string(body), -1) {
			consent.Set(m[1], m[2])
		}
		req, _ := http.NewRequest("POST", l.Issuer+"/consent", strings.NewReader(consent.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", strings.TrimSuffix(l.Issuer, "/"))
		if resp, err = browser.Do(req); err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if resp.StatusCode/100 != 3 {
		t.Fatalf("POST /login: %d %s", resp.StatusCode, body)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The demo user signs in to the developer console's application with
// golang.org/x/oauth2 (PKCE S256), the ID token verifies with coreos/go-oidc,
// userinfo answers, the refresh token rotates, revocation ends it, and the
// access token (for the management audience, which only the console may ask
// for) manages applications: the two halves meet.
func TestSPASignInEndToEnd(t *testing.T) {
	spaSignInEndToEnd(t, testenv.StartLocal(t, ""))
}

func spaSignInEndToEnd(t *testing.T, l *testenv.Local) {
	if l.File.Console.ClientID == "" || l.File.SPA.ClientID == "" || l.File.User.Email == "" {
		t.Fatal("local.json has no console, demo SPA or user")
	}
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := &oauth2.Config{
		ClientID:    l.File.Console.ClientID,
		Endpoint:    provider.Endpoint(),
		RedirectURL: l.File.Console.RedirectURI,
		Scopes:      []string{oidc.ScopeOpenID, "profile", "email", oidc.ScopeOfflineAccess},
	}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams // a public client: client_id, no secret

	verifier := oauth2.GenerateVerifier()
	state, nonce := domain.NewID(), domain.NewID()
	authURL := cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("audience", l.File.ManagementAudience))
	back := signIn(t, l, authURL)
	q := back.Query()
	if got := back.Scheme + "://" + back.Host + back.Path; got != l.File.Console.RedirectURI {
		t.Fatalf("redirected to %s", back)
	}
	if q.Get("state") != state || q.Get("iss") != l.Issuer || q.Get("code") == "" {
		t.Fatalf("authorization response %v", q)
	}

	// A wrong verifier burns nothing of value and gets invalid_grant; the
	// code then counts as used, so sign in again for the real exchange.
	_, err = cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("wrong verifier: %v", err)
	}
	verifier = oauth2.GenerateVerifier()
	back = signIn(t, l, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce),
		oauth2.SetAuthURLParam("audience", l.File.ManagementAudience)))
	l.Secret(q.Get("code"), back.Query().Get("code"))
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	l.Secret(tok.AccessToken, tok.RefreshToken, rawID)
	idt, err := provider.Verifier(&oidc.Config{ClientID: l.File.Console.ClientID}).Verify(ctx, rawID)
	if err != nil {
		t.Fatalf("go-oidc ID token: %v", err)
	}
	if idt.Nonce != nonce {
		t.Fatalf("nonce %q", idt.Nonce)
	}
	if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
		t.Fatalf("at_hash: %v", err)
	}
	var idClaims struct {
		Email    string `json:"email"`
		AuthTime int64  `json:"auth_time"`
		AZP      string `json:"azp"`
	}
	if err := idt.Claims(&idClaims); err != nil || idClaims.Email != l.File.User.Email || idClaims.AuthTime == 0 || idClaims.AZP != l.File.Console.ClientID {
		t.Fatalf("ID token claims %+v %v", idClaims, err)
	}
	if tok.RefreshToken == "" {
		t.Fatal("no refresh token for offline_access")
	}

	// The access token is an RFC 9068 JWT for the management audience.
	at, err := provider.Verifier(&oidc.Config{ClientID: l.File.ManagementAudience}).Verify(ctx, tok.AccessToken)
	if err != nil || at.Subject != idt.Subject {
		t.Fatalf("access token: %v (sub %s)", err, at.Subject)
	}

	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != idt.Subject || ui.Email != l.File.User.Email {
		t.Fatalf("userinfo: %+v %v", ui, err)
	}

	// The two halves meet: the signed-in user manages applications.
	api := apiClient{t: t, base: l.Base(), token: tok.AccessToken}
	status, _, created := api.do("POST", "/applications", `{"name":"made by the SPA","type":"spa","callback_urls":["https://spa.example.com/cb"],"allowed_origins":["https://spa.example.com"]}`)
	if status != 201 {
		t.Fatalf("create application: %d %v", status, created)
	}
	id, _ := created["client_id"].(string)
	status, _, list := api.do("GET", "/applications", "")
	if status != 200 || !strings.Contains(mustJSON(t, list), id) {
		t.Fatalf("list: %d %v", status, list)
	}
	if status, _, body := api.do("DELETE", "/applications/"+id, ""); status != 204 {
		t.Fatalf("delete: %d %v", status, body)
	}

	// Refresh: the token source sees an expired token and rotates.
	old := tok.RefreshToken
	expired := *tok
	expired.Expiry = time.Now().Add(-time.Minute)
	fresh, err := cfg.TokenSource(ctx, &expired).Token()
	if err != nil {
		t.Fatalf("refresh: %v", err)
	}
	l.Secret(fresh.AccessToken, fresh.RefreshToken)
	if fresh.RefreshToken == "" || fresh.RefreshToken == old || fresh.AccessToken == tok.AccessToken {
		t.Fatal("refresh token did not rotate")
	}

	// Revocation (RFC 7009) ends the family.
	resp, err := http.PostForm(l.Base()+"/oauth/revoke", url.Values{"token": {fresh.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {l.File.Console.ClientID}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("revoke: %d", resp.StatusCode)
	}
	fresh.Expiry = time.Now().Add(-time.Minute)
	if _, err := cfg.TokenSource(ctx, fresh).Token(); !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after revocation: %v", err)
	}
	if _, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(fresh)); err == nil {
		t.Fatal("userinfo accepts the access token of a revoked family")
	}
	// The management API refuses the family's access tokens too.
	for _, at := range []string{tok.AccessToken, fresh.AccessToken} {
		if status, _, body := (apiClient{t: t, base: l.Base(), token: at}).do("GET", "/applications", ""); status != 401 {
			t.Fatalf("applications with a revoked token: %d %v", status, body)
		}
	}
}

// Any other application of the organization signs its users in for its own
// APIs, never for the management API: asking for that audience is refused,
// and a user's token it got for another audience does not open the API.
func TestOnlyTheConsoleGetsManagementTokens(t *testing.T) {
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	cfg := &oauth2.Config{ClientID: l.File.SPA.ClientID, Endpoint: provider.Endpoint(), RedirectURL: l.File.SPA.RedirectURI, Scopes: []string{oidc.ScopeOpenID}}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams

	verifier := oauth2.GenerateVerifier()
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Get(cfg.AuthCodeURL("s1", oauth2.S256ChallengeOption(verifier),
		oauth2.SetAuthURLParam("audience", l.File.ManagementAudience)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode/100 != 3 || loc.Query().Get("error") != "invalid_target" || loc.Query().Get("state") != "s1" {
		t.Fatalf("management audience for the demo SPA: %d %s", resp.StatusCode, loc)
	}

	// Without an audience, the SPA's token is for the stage's first API.
	back := signIn(t, l, cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(verifier)))
	tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	l.Secret(back.Query().Get("code"), tok.AccessToken)
	if _, err := provider.Verifier(&oidc.Config{ClientID: l.File.Audience}).Verify(ctx, tok.AccessToken); err != nil {
		t.Fatalf("the SPA's access token is not for %s: %v", l.File.Audience, err)
	}
	if status, _, body := (apiClient{t: t, base: l.Issuer, token: tok.AccessToken}).do("GET", "/applications", ""); status != 401 {
		t.Fatalf("applications with the SPA's token: %d %v", status, body)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// npm openid-client, as a browser SPA would use it, against the local
// server: discovery, PKCE, the login form, code exchange with ID token
// validation, userinfo, refresh, revocation.
func TestSPASignInWithOpenIDClient(t *testing.T) {
	spaSignInWithOpenIDClient(t, testenv.StartLocal(t, ""))
}

func spaSignInWithOpenIDClient(t *testing.T, l *testenv.Local) {
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "spa-flow.mjs"), l.Issuer, l.File.SPA.ClientID, l.File.SPA.RedirectURI, l.File.Audience)
	cmd.Stdin = strings.NewReader(l.File.User.Email + "\n" + l.File.User.Password + "\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openid-client flow failed: %v\n%s", err, out)
	}
	var res struct {
		IssParam    string `json:"iss_param"`
		Sub         string `json:"sub"`
		Aud         string `json:"aud"`
		NonceOK     bool   `json:"nonce_ok"`
		Email       string `json:"email"`
		Scope       string `json:"scope"`
		AccessToken string `json:"access_token"`
		AfterRevoke string `json:"after_revoke"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	if res.IssParam != l.Issuer || res.Sub == "" || res.Aud != l.File.SPA.ClientID || !res.NonceOK ||
		res.Email != l.File.User.Email || !strings.Contains(res.Scope, "offline_access") || res.AfterRevoke != "invalid_grant" {
		t.Fatalf("openid-client saw %s", out)
	}
	l.Secret(res.AccessToken)
	// The refreshed access token died with its family.
	req, _ := http.NewRequest(http.MethodGet, l.Base()+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+res.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("userinfo after revocation: %d", resp.StatusCode)
	}
}
