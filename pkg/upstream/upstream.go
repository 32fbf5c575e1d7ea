package upstream

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
)

// Client talks to upstream providers.
type Client struct {
	http *http.Client
	ttl  time.Duration
	now  func() time.Time

	mu        sync.Mutex
	providers map[string]cached
}

type cached struct {
	p       *oidc.Provider
	fetched time.Time
}

// Config bounds the client.
type Config struct {
	// Timeout bounds each call to a provider (discovery, keys, token):
	// an upstream that hangs must leave the function time to answer with a
	// page. Default 5 s.
	Timeout time.Duration
	// CacheTTL is how long a provider's discovery document is trusted;
	// its keys are refreshed by go-oidc when a token names an unknown key.
	// Default 1 h.
	CacheTTL time.Duration
}

// New returns a client. now may be nil.
func New(cfg Config, now func() time.Time) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Hour
	}
	if now == nil {
		now = time.Now
	}
	return &Client{
		http: &http.Client{Timeout: cfg.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse // a provider's endpoints answer directly
		}},
		ttl: cfg.CacheTTL, now: now, providers: map[string]cached{},
	}
}

// provider returns the issuer's provider, from the cache or by discovery.
// The discovery is done under the issuer's own context, so that a request
// that is cancelled does not poison the cached key set's fetches.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	c.mu.Lock()
	e, ok := c.providers[issuer]
	c.mu.Unlock()
	if ok && c.now().Sub(e.fetched) < c.ttl {
		return e.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.http), issuer)
	if err != nil {
		return nil, fmt.Errorf("%w: discovery of %s: %v", domain.ErrUpstreamUnavailable, issuer, err)
	}
	c.mu.Lock()
	if len(c.providers) > 1000 {
		clear(c.providers)
	}
	c.providers[issuer] = cached{p: p, fetched: c.now()}
	c.mu.Unlock()
	return p, nil
}

func (c *Client) config(p *oidc.Provider, sso *domain.SSO, secret, redirectURL string) *oauth2.Config {
	scopes := []string{oidc.ScopeOpenID}
	for _, s := range sso.Scopes {
		if s != oidc.ScopeOpenID {
			scopes = append(scopes, s)
		}
	}
	if len(sso.Scopes) == 0 {
		scopes = append(scopes, "email", "profile")
	}
	return &oauth2.Config{ClientID: sso.ClientID, ClientSecret: secret, Endpoint: p.Endpoint(), RedirectURL: redirectURL, Scopes: scopes}
}

// AuthorizationEndpoint is where AuthCodeURL sends the browser: the login
// page's form-action must allow its origin.
func (c *Client) AuthorizationEndpoint(ctx context.Context, sso *domain.SSO) (string, error) {
	p, err := c.provider(ctx, sso.Issuer)
	if err != nil {
		return "", err
	}
	return p.Endpoint().AuthURL, nil
}

// AuthCodeURL is the provider's authorization request: code flow, PKCE S256
// from verifier, state, nonce, and the user's email as login_hint when
// known.
func (c *Client) AuthCodeURL(ctx context.Context, sso *domain.SSO, redirectURL, state, nonce, verifier, loginHint string) (string, error) {
	p, err := c.provider(ctx, sso.Issuer)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	return c.config(p, sso, "", redirectURL).AuthCodeURL(state, opts...), nil
}

// Exchange redeems code at the provider's token endpoint and verifies the
// ID token it returns: signature through the provider's JWKS, issuer,
// audience (the client id), expiry, and nonce.
func (c *Client) Exchange(ctx context.Context, sso *domain.SSO, secret, redirectURL, code, verifier, nonce string) (domain.UpstreamIdentity, error) {
	p, err := c.provider(ctx, sso.Issuer)
	if err != nil {
		return domain.UpstreamIdentity{}, err
	}
	ctx = oidc.ClientContext(ctx, c.http) // oauth2 reads the same context key
	tok, err := c.config(p, sso, secret, redirectURL).Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return domain.UpstreamIdentity{}, classify("token request", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: the token response has no id_token", domain.ErrUpstreamRejected)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: sso.ClientID}).Verify(ctx, raw)
	if err != nil {
		if isUnavailable(err) {
			return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token keys: %v", domain.ErrUpstreamUnavailable, err)
		}
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token: %v", domain.ErrUpstreamRejected, err)
	}
	if idt.Nonce != nonce {
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token nonce does not match the request's", domain.ErrUpstreamRejected)
	}
	if idt.AccessTokenHash != "" {
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			return domain.UpstreamIdentity{}, fmt.Errorf("%w: at_hash: %v", domain.ErrUpstreamRejected, err)
		}
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"` // a boolean; some providers send "true"
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token claims: %v", domain.ErrUpstreamRejected, err)
	}
	verified := claims.EmailVerified == true || claims.EmailVerified == "true"
	return domain.UpstreamIdentity{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: strings.ToLower(strings.TrimSpace(claims.Email)),
		EmailVerified: verified, Name: claims.Name,
	}, nil
}

// classify sorts a token request's failure: the provider refusing (a 4xx
// with an OAuth error) is a rejection, anything else is unavailability.
func classify(what string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil && re.Response.StatusCode < 500 {
		code := re.ErrorCode
		if code == "" {
			code = re.Response.Status
		}
		return fmt.Errorf("%w: %s: %s", domain.ErrUpstreamRejected, what, code)
	}
	return fmt.Errorf("%w: %s: %v", domain.ErrUpstreamUnavailable, what, err)
}

func isUnavailable(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "fetching keys")
}
