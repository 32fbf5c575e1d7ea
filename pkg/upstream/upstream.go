package upstream

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/sync/singleflight"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
)

// Client talks to upstream providers.
type Client struct {
	public, loopback *http.Client // by the issuer's reach (guard.go)
	ttl, failureTTL  time.Duration
	timeout          time.Duration
	now              func() time.Time

	group     singleflight.Group // one discovery per issuer at a time
	mu        sync.Mutex
	providers map[string]cached
}

// cached is the outcome of an issuer's last discovery: its provider, or the
// error it failed with (kept for FailureTTL).
type cached struct {
	p       *oidc.Provider
	meta    Metadata
	err     error
	fetched time.Time
}

// Metadata is what orgauth reads of a provider's discovery document beyond
// what go-oidc keeps.
type Metadata struct {
	AuthorizationEndpoint string
	// IssParameterSupported: the provider advertises
	// authorization_response_iss_parameter_supported (RFC 9207 §3), so its
	// authorization responses carry iss, and one without it is refused.
	IssParameterSupported bool
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
	// FailureTTL is how long a failed discovery is remembered: requests
	// meanwhile fail at once instead of each waiting for the provider.
	// Default 30 s.
	FailureTTL time.Duration
	// Resolver resolves providers' host names; nil is net.DefaultResolver.
	// Whatever it answers is checked when connecting (guard.go).
	Resolver Resolver
}

// New returns a client. now may be nil.
func New(cfg Config, now func() time.Time) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = time.Hour
	}
	if cfg.FailureTTL <= 0 {
		cfg.FailureTTL = 30 * time.Second
	}
	if cfg.Resolver == nil {
		cfg.Resolver = net.DefaultResolver
	}
	if now == nil {
		now = time.Now
	}
	return &Client{
		public:   newHTTPClient(reachPublic, cfg.Resolver, cfg.Timeout),
		loopback: newHTTPClient(reachLoopback, cfg.Resolver, cfg.Timeout),
		ttl:      cfg.CacheTTL, failureTTL: cfg.FailureTTL, timeout: cfg.Timeout, now: now,
		providers: map[string]cached{},
	}
}

// httpFor is the HTTP client for the issuer's reach.
func (c *Client) httpFor(issuer string) *http.Client {
	if reachOf(issuer) == reachLoopback {
		return c.loopback
	}
	return c.public
}

// lookup returns the issuer's cache entry and whether it is still fresh.
func (c *Client) lookup(issuer string) (cached, bool) {
	c.mu.Lock()
	e, ok := c.providers[issuer]
	c.mu.Unlock()
	if !ok {
		return e, false
	}
	ttl := c.ttl
	if e.err != nil {
		ttl = c.failureTTL
	}
	return e, c.now().Sub(e.fetched) < ttl
}

// provider returns the issuer's provider, from the cache or by discovery.
// Concurrent discoveries of one issuer are one fetch, whose outcome, a
// failure too, is cached. The fetch runs under its own deadline, not the
// request's: a request that is cancelled must not fail the others waiting
// on the same fetch.
func (c *Client) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	if e, fresh := c.lookup(issuer); fresh {
		return e.p, e.err
	}
	ch := c.group.DoChan(issuer, func() (any, error) {
		if e, fresh := c.lookup(issuer); fresh { // another fetch just finished
			return e, nil
		}
		e := c.discover(issuer)
		c.mu.Lock()
		if len(c.providers) > 1000 {
			clear(c.providers)
		}
		c.providers[issuer] = e
		c.mu.Unlock()
		return e, nil
	})
	select {
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: discovery of %s: %v", domain.ErrUpstreamUnavailable, issuer, ctx.Err())
	case r := <-ch:
		e := r.Val.(cached)
		return e.p, e.err
	}
}

// discover fetches and checks the issuer's discovery document: every
// endpoint it names must be https, unless the issuer is loopback
// (checkEndpoint).
func (c *Client) discover(issuer string) cached {
	now := c.now()
	fail := func(format string, args ...any) cached {
		return cached{err: fmt.Errorf("%w: discovery of %s: %s", domain.ErrUpstreamUnavailable, issuer, fmt.Sprintf(format, args...)), fetched: now}
	}
	r := reachOf(issuer)
	if err := checkEndpoint(r, "issuer", issuer); err != nil {
		return fail("%v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, c.httpFor(issuer)), issuer)
	if err != nil {
		return fail("%v", err)
	}
	var doc struct {
		JWKSURI      string `json:"jwks_uri"`
		UserInfo     string `json:"userinfo_endpoint"`
		IssSupported bool   `json:"authorization_response_iss_parameter_supported"`
	}
	if err := p.Claims(&doc); err != nil {
		return fail("%v", err)
	}
	ep := p.Endpoint()
	for _, u := range [][2]string{{"authorization_endpoint", ep.AuthURL}, {"token_endpoint", ep.TokenURL},
		{"jwks_uri", doc.JWKSURI}, {"userinfo_endpoint", doc.UserInfo}} {
		if err := checkEndpoint(r, u[0], u[1]); err != nil {
			return fail("%v", err)
		}
	}
	if ep.AuthURL == "" || ep.TokenURL == "" || doc.JWKSURI == "" {
		return fail("the document lacks authorization_endpoint, token_endpoint or jwks_uri")
	}
	return cached{p: p, meta: Metadata{AuthorizationEndpoint: ep.AuthURL, IssParameterSupported: doc.IssSupported}, fetched: now}
}

// Metadata returns what the issuer's discovery document says (fetching it
// if it is not cached; see provider).
func (c *Client) Metadata(ctx context.Context, sso *domain.SSO) (Metadata, error) {
	if _, err := c.provider(ctx, sso.Issuer); err != nil {
		return Metadata{}, err
	}
	e, _ := c.lookup(sso.Issuer)
	return e.meta, nil
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

// ErrNotCached: the provider's discovery document is not in the cache (yet).
var ErrNotCached = errors.New("the provider's discovery document is not cached yet")

// AuthorizationEndpoint is where AuthCodeURL sends the browser: the login
// page's form-action must allow its origin. It never waits on the provider,
// for home-realm discovery must not: it answers from the cache, a stale
// entry included, and otherwise fails with ErrNotCached (or the cached
// failure). A missing or stale entry starts a discovery in the background,
// for the next request.
func (c *Client) AuthorizationEndpoint(_ context.Context, sso *domain.SSO) (string, error) {
	e, fresh := c.lookup(sso.Issuer)
	if !fresh {
		go func() { _, _ = c.provider(context.Background(), sso.Issuer) }()
	}
	switch {
	case e.p != nil:
		return e.meta.AuthorizationEndpoint, nil
	case e.err != nil:
		return "", e.err
	}
	return "", fmt.Errorf("%w: %s", ErrNotCached, sso.Issuer)
}

// AuthCodeURL is the provider's authorization request: code flow, PKCE S256
// from verifier, state, nonce, and the user's email as login_hint when
// known. A re-authentication the application asked for is forwarded
// (OpenID Connect Core §3.1.2.1): prompt=login, and max_age when >= 0.
func (c *Client) AuthCodeURL(ctx context.Context, sso *domain.SSO, redirectURL, state, nonce, verifier, loginHint, prompt string, maxAge int64) (string, error) {
	p, err := c.provider(ctx, sso.Issuer)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce)}
	if loginHint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", loginHint))
	}
	if prompt == "login" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", "login"))
	}
	if maxAge >= 0 {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.FormatInt(maxAge, 10)))
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
	ctx = oidc.ClientContext(ctx, c.httpFor(sso.Issuer)) // oauth2 reads the same context key
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
		AuthTime      any    `json:"auth_time"`
	}
	if err := idt.Claims(&claims); err != nil {
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token claims: %v", domain.ErrUpstreamRejected, err)
	}
	verified := claims.EmailVerified == true || claims.EmailVerified == "true"
	email := ""
	if claims.Email != "" {
		// Only a strictly valid address is ever compared or asserted.
		if email, err = address.NormalizeEmail(claims.Email); err != nil {
			return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token email: %v", domain.ErrUpstreamRejected, err)
		}
	}
	authTime, err := authTimeClaim(claims.AuthTime)
	if err != nil {
		return domain.UpstreamIdentity{}, fmt.Errorf("%w: ID token auth_time: %v", domain.ErrUpstreamRejected, err)
	}
	return domain.UpstreamIdentity{
		Issuer: idt.Issuer, Subject: idt.Subject, Email: email,
		EmailVerified: verified, Name: claims.Name, AuthTime: authTime,
	}, nil
}

// authTimeClaim reads auth_time, a JSON number of seconds since the epoch
// (OpenID Connect Core §2): the zero time when absent, an error when it is
// anything else.
func authTimeClaim(v any) (time.Time, error) {
	switch n := v.(type) {
	case nil:
		return time.Time{}, nil
	case float64:
		if n <= 0 || n > 1e11 || n != math.Trunc(n) {
			return time.Time{}, fmt.Errorf("%v is not a time", n)
		}
		return time.Unix(int64(n), 0).UTC(), nil
	}
	return time.Time{}, fmt.Errorf("not a number")
}

// IssParameterRequired reports whether the provider advertises
// authorization_response_iss_parameter_supported (RFC 9207 §3): then its
// authorization responses must carry iss.
func (c *Client) IssParameterRequired(ctx context.Context, sso *domain.SSO) (bool, error) {
	m, err := c.Metadata(ctx, sso)
	return m.IssParameterSupported, err
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
