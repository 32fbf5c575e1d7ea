package e2e

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/test/testenv"
)

// upstreamBrowser is a browser for the upstream provider: cookies, no
// automatic redirects.
func upstreamBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// The harness's upstream OpenID provider (npm oidc-provider) signs a user in
// to a relying party built of golang.org/x/oauth2 and coreos/go-oidc: PKCE
// S256, state, nonce, client_secret_basic and client_secret_post, and an ID
// token with the email claims; a user who cancels comes back with
// access_denied.
func TestUpstreamOP(t *testing.T) {
	testenv.RequireUpstreamOP(t)
	const redirectURI = "http://127.0.0.1:9/cb" // never requested
	account := testenv.UpstreamAccount{Sub: "upstream-user-1", Email: "ada@corp.example", Name: "Ada Lovelace", EmailVerified: true}
	client := testenv.UpstreamClient{ID: "orgauth", Secret: domain.NewID() + domain.NewID(), RedirectURIs: []string{redirectURI}}
	op := testenv.StartUpstreamOP(t, []testenv.UpstreamClient{client}, []testenv.UpstreamAccount{account})

	ctx := context.Background()
	provider, err := oidc.NewProvider(ctx, op.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v\n%s", err, op.Output())
	}
	config := func(c testenv.UpstreamClient, style oauth2.AuthStyle) *oauth2.Config {
		cfg := &oauth2.Config{
			ClientID: c.ID, ClientSecret: c.Secret, Endpoint: provider.Endpoint(), RedirectURL: redirectURI,
			Scopes: []string{oidc.ScopeOpenID, "email", "profile"},
		}
		cfg.Endpoint.AuthStyle = style
		return cfg
	}

	// oidc-provider takes the secret in the Authorization header or in the
	// form, whichever the client's registered method of the two.
	for _, tc := range []struct {
		name  string
		style oauth2.AuthStyle
	}{
		{"client_secret_basic", oauth2.AuthStyleInHeader},
		{"client_secret_post", oauth2.AuthStyleInParams},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config(client, tc.style)
			verifier := oauth2.GenerateVerifier()
			state, nonce := domain.NewID(), domain.NewID()
			back := op.SignIn(t, upstreamBrowser(), cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)), account.Sub)
			q := back.Query()
			if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
				t.Fatalf("redirected to %s", back)
			}
			if q.Get("state") != state || q.Get("code") == "" || q.Get("error") != "" || q.Get("iss") != op.Issuer {
				t.Fatalf("authorization response %v", q)
			}
			tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
			if err != nil {
				t.Fatalf("code exchange: %v\n%s", err, op.Output())
			}
			rawID, _ := tok.Extra("id_token").(string)
			idt, err := provider.Verifier(&oidc.Config{ClientID: client.ID}).Verify(ctx, rawID)
			if err != nil {
				t.Fatalf("ID token: %v", err)
			}
			if idt.Nonce != nonce || idt.Subject != account.Sub || idt.Issuer != op.Issuer {
				t.Fatalf("ID token nonce %q sub %q iss %q", idt.Nonce, idt.Subject, idt.Issuer)
			}
			var claims struct {
				Email         string `json:"email"`
				EmailVerified *bool  `json:"email_verified"`
				Name          string `json:"name"`
			}
			if err := idt.Claims(&claims); err != nil {
				t.Fatal(err)
			}
			if claims.Email != account.Email || claims.EmailVerified == nil || !*claims.EmailVerified || claims.Name != account.Name {
				t.Fatalf("ID token claims %+v", claims)
			}
			ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
			if err != nil || ui.Subject != account.Sub || ui.Email != account.Email || !ui.EmailVerified {
				t.Fatalf("userinfo %+v: %v", ui, err)
			}

			// The code is single use.
			if _, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier)); err == nil {
				t.Fatal("the code was redeemed twice")
			}
		})
	}

	t.Run("wrong verifier", func(t *testing.T) {
		cfg := config(client, oauth2.AuthStyleInHeader)
		back := op.SignIn(t, upstreamBrowser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), account.Sub)
		_, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier()))
		var re *oauth2.RetrieveError
		if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("wrong verifier: %v", err)
		}
	})

	t.Run("wrong secret", func(t *testing.T) {
		cfg := config(client, oauth2.AuthStyleInParams)
		cfg.ClientSecret = "not-" + client.Secret
		verifier := oauth2.GenerateVerifier()
		back := op.SignIn(t, upstreamBrowser(), cfg.AuthCodeURL("s", oauth2.S256ChallengeOption(verifier)), account.Sub)
		_, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier))
		var re *oauth2.RetrieveError
		if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" {
			t.Fatalf("wrong client secret: %v", err)
		}
	})

	t.Run("PKCE required", func(t *testing.T) {
		cfg := config(client, oauth2.AuthStyleInHeader)
		back := op.SignIn(t, upstreamBrowser(), cfg.AuthCodeURL("s", oidc.Nonce("n")), account.Sub)
		if back.Query().Get("error") != "invalid_request" || back.Query().Get("state") != "s" {
			t.Fatalf("without PKCE: %s", back)
		}
	})

	t.Run("a second sign-in in the same browser", func(t *testing.T) {
		cfg := config(client, oauth2.AuthStyleInHeader)
		browser := upstreamBrowser()
		for i, state := range []string{"first", "second"} {
			verifier := oauth2.GenerateVerifier()
			back := op.SignIn(t, browser, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), account.Sub)
			if back.Query().Get("state") != state || back.Query().Get("code") == "" {
				t.Fatalf("sign-in %d: %s", i+1, back)
			}
			if _, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(verifier)); err != nil {
				t.Fatalf("sign-in %d: exchange: %v", i+1, err)
			}
		}
	})

	t.Run("deny", func(t *testing.T) {
		cfg := config(client, oauth2.AuthStyleInHeader)
		state := domain.NewID()
		back := op.Deny(t, upstreamBrowser(), cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()), oidc.Nonce("n")))
		q := back.Query()
		if got := back.Scheme + "://" + back.Host + back.Path; got != redirectURI {
			t.Fatalf("redirected to %s", back)
		}
		if q.Get("error") != "access_denied" || q.Get("state") != state || q.Get("code") != "" {
			t.Fatalf("denied authorization response %v", q)
		}
	})

}
