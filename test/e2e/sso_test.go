package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// Organization SSO end to end, as users run it: make run's stack, a real
// OpenID provider (npm oidc-provider) as the demo organization's own, set up
// with orgauthctl sso set; the demo SPA's user goes through /authorize, the
// email step, the provider's login and consent, /callback, and back to the
// SPA with a code that exchanges for tokens.
func TestOrganizationSSOEndToEnd(t *testing.T) {
	testenv.RequireUpstreamOP(t)
	l := testenv.StartLocal(t, "")
	secret, _ := domain.NewSecret()
	l.Secret(secret)
	op := testenv.StartUpstreamOP(t,
		[]testenv.UpstreamClient{{ID: "orgauth-demo", Secret: secret, RedirectURIs: []string{domain.SSORedirectURI(l.Issuer, l.File.OrganizationID)}}},
		[]testenv.UpstreamAccount{
			{Sub: "idp-ada", Email: "ada@sso.example", Name: "Ada Upstream", EmailVerified: true},
			{Sub: "idp-unverified", Email: "una@sso.example", Name: "Una", EmailVerified: false},
			{Sub: "idp-outsider", Email: "out@elsewhere.example", Name: "Out", EmailVerified: true},
		})

	// The operator configures the organization's provider.
	root, _ := emulator.RepoRoot()
	cli := exec.Command("go", "run", "./cmd/orgauthctl", "sso", "set", "--org", l.File.OrganizationID, "--issuer", op.Issuer,
		"--client-id", "orgauth-demo", "--client-secret-stdin", "--domains", "sso.example", "--provision", "--role", "member")
	cli.Dir = root
	cli.Env = append(cli.Environ(), "ORGAUTH_DATA_DIR="+l.Dir, "TABLE_NAME=", "DYNAMODB_ENDPOINT=", "KMS_ENDPOINT=", "SSO_KEY_ID=")
	cli.Stdin = strings.NewReader(secret + "\n")
	if out, err := cli.CombinedOutput(); err != nil || strings.Contains(string(out), secret) ||
		!strings.Contains(string(out), "redirect_uri: "+domain.SSORedirectURI(l.Issuer, l.File.OrganizationID)+"\n") {
		t.Fatalf("orgauthctl sso set: %v\n%s", err, out)
	}
	verify := exec.Command("go", "run", "./cmd/orgauthctl", "sso", "verify-domain", "--org", l.File.OrganizationID, "--domain", "sso.example",
		"--override", "--reason", "end-to-end test: no DNS")
	verify.Dir, verify.Env = root, cli.Env
	if out, err := verify.CombinedOutput(); err != nil {
		t.Fatalf("orgauthctl sso verify-domain: %v\n%s", err, out)
	}

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	spa := l.File.SPA
	cfg := &oauth2.Config{ClientID: spa.ClientID, Endpoint: provider.Endpoint(), RedirectURL: spa.RedirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}
	cfg.Endpoint.AuthStyle = oauth2.AuthStyleInParams

	newBrowser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(b *http.Client, target string) (*http.Response, string) {
		t.Helper()
		resp, err := b.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	// upstream starts a sign-in and returns the provider's authorization URL.
	upstream := func(b *http.Client, state, verifier string) string {
		t.Helper()
		resp, page := get(b, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce("n-"+state)))
		if resp.StatusCode != 200 || strings.Contains(page, `type="password"`) {
			t.Fatalf("want the email step, got %d\n%s", resp.StatusCode, page)
		}
		form := url.Values{"email": {"ada@sso.example"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
			form.Set(m[1], m[2])
		}
		resp, err := b.PostForm(l.Issuer+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, op.Issuer+"/") {
			t.Fatalf("the email step did not go upstream: %d %q", resp.StatusCode, loc)
		}
		return loc
	}

	// The user signs in upstream and comes back with a code.
	b := newBrowser()
	verifier := oauth2.GenerateVerifier()
	back := op.SignIn(t, b, upstream(b, "s-ada", verifier), "idp-ada")
	if !strings.HasPrefix(back.String(), domain.SSORedirectURI(l.Issuer, l.File.OrganizationID)+"?") {
		t.Fatalf("the provider sent the user to %s", back)
	}
	resp, page := get(b, back.String())
	// Ada did not create the demo SPA: orgauth asks her consent first.
	if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || !strings.Contains(page, `action="/consent"`) {
		t.Fatalf("callback: want the consent page, got %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	consent := url.Values{"decision": {"approve"}}
	for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
		consent.Set(m[1], m[2])
	}
	req, _ := http.NewRequest("POST", l.Issuer+"/consent", strings.NewReader(consent.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", l.Issuer)
	if resp, err = b.Do(req); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), spa.RedirectURI+"?") ||
		loc.Query().Get("state") != "s-ada" || loc.Query().Get("iss") != l.Issuer || loc.Query().Get("code") == "" {
		t.Fatalf("callback: %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	tok, err := cfg.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	rawID, _ := tok.Extra("id_token").(string)
	l.Secret(loc.Query().Get("code"), tok.AccessToken, rawID)
	idt, err := provider.Verifier(&oidc.Config{ClientID: spa.ClientID}).Verify(ctx, rawID)
	if err != nil || idt.Nonce != "n-s-ada" {
		t.Fatalf("ID token: %v", err)
	}
	var claims struct {
		Email string `json:"email"`
		Name  string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil || claims.Email != "ada@sso.example" || claims.Name != "Ada Upstream" {
		t.Fatalf("claims %+v %v", claims, err)
	}
	// The user was provisioned in the demo organization.
	u, err := l.App(t).Store.GetUserByEmail(ctx, "ada@sso.example")
	if err != nil || u.OrganizationID != l.File.OrganizationID || u.ID != idt.Subject || u.PasswordHash != "" {
		t.Fatalf("provisioned user %+v %v", u, err)
	}
	// The callback's state is spent.
	if resp, page := get(b, back.String()); resp.StatusCode != 400 || !strings.Contains(page, "expired or was already used") {
		t.Fatalf("replayed callback: %d\n%s", resp.StatusCode, page)
	}

	// The user refuses at the provider: access_denied at the application.
	b2 := newBrowser()
	denied := op.Deny(t, b2, upstream(b2, "s-deny", oauth2.GenerateVerifier()))
	resp, _ = get(b2, denied.String())
	loc, _ = url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || loc == nil || loc.Query().Get("error") != "access_denied" || loc.Query().Get("state") != "s-deny" {
		t.Fatalf("denied: %d %v", resp.StatusCode, resp.Header)
	}

	// An email the provider did not verify, and one outside the
	// organization's domains: a page, and no session.
	for sub, text := range map[string]string{"idp-unverified": "did not confirm your email", "idp-outsider": "not in one of your organization"} {
		b3 := newBrowser()
		back := op.SignIn(t, b3, upstream(b3, "s-"+sub, oauth2.GenerateVerifier()), sub)
		resp, page := get(b3, back.String())
		if resp.StatusCode != 403 || !strings.Contains(page, text) {
			t.Fatalf("%s: %d\n%s", sub, resp.StatusCode, page)
		}
		u, _ := url.Parse(l.Issuer)
		for _, c := range b3.Jar.Cookies(u) {
			if c.Name == "orgauth_session" {
				t.Fatalf("%s got a session", sub)
			}
		}
	}
}
