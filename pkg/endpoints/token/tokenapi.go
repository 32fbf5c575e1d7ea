package token

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/platform/throttle"
)

// Applications finds OAuth clients by id.
type Applications interface {
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
}

// Organizations finds organizations by id.
type Organizations interface {
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
}

// Issuer mints access tokens.
type Issuer interface {
	AccessToken(ctx context.Context, r jwt.AccessRequest) (string, jwt.AccessClaims, error)
	// ActiveKeyID is the kid of the next signature, read without signing.
	ActiveKeyID(ctx context.Context) (string, error)
}

// Store is what the token endpoint reads and writes.
type Store interface {
	Applications
	Organizations
	Flows
	Users
	FailureCounter
	ThrottleApplication(ctx context.Context, clientID string, until time.Time) error
	Usage
	APIs
}

// Tokens mints access and ID tokens.
type Tokens interface {
	Issuer
	IDTokens
}

// Metrics counts what the endpoint does (EMF in a deployed function).
type Metrics interface {
	Count(name string, dims ...metrics.Dim)
}

// Deps is everything the deployed token function needs. Every field is
// required: New refuses a nil one, so nothing can be left unwired.
type Deps struct {
	Store    Store
	Tokens   Tokens
	Verifier AccessTokens
	CORS     *cors.Policy
	Metrics  Metrics
	Log      *slog.Logger
	Now      func() time.Time
}

// Config lists the settings the token endpoint reads. Zero durations take
// their defaults.
type Config struct {
	// Issuer is this server's "iss". It is the audience of access tokens
	// from a sign-in that asked for no API: such a token is good for
	// orgauth's own /userinfo only.
	Issuer string
	// Audiences are the APIs clients may ask tokens for (the "audience"
	// parameter). The first is not a default: audience is required.
	Audiences []string
	// DefaultAccessTokenLifetime applies to applications without their own
	// (default 1 hour).
	DefaultAccessTokenLifetime time.Duration
	// OrganizationCacheTTL bounds how long a warm function trusts a cached
	// organization (its plan); zero disables the cache.
	OrganizationCacheTTL time.Duration
	// RefreshTokenLifetime bounds a refresh family from its sign-in
	// (default 30 days); RefreshIdleTimeout ends a refresh token unused for
	// that long (default 7 days); RefreshReuseGrace is how long after a
	// rotation the old token is refused without revoking the family
	// (default 10 s; see refresh.go).
	RefreshTokenLifetime time.Duration
	RefreshIdleTimeout   time.Duration
	RefreshReuseGrace    time.Duration
	// IDTokenLifetime defaults to 1 hour.
	IDTokenLifetime time.Duration
	// Throttle bounds failed client authentications.
	Throttle ThrottleConfig
	// DisableTokenReuse turns off server-side reuse of client_credentials
	// tokens (reuse.go); ReuseEntries bounds its LRU (default 10,000).
	DisableTokenReuse bool
	ReuseEntries      int
	// Quota is the monthly M2M token quota per organization (quota.go).
	Quota QuotaConfig
}

func (c *Config) defaults() {
	setDefault(&c.DefaultAccessTokenLifetime, time.Hour)
	setDefault(&c.RefreshTokenLifetime, 30*24*time.Hour)
	setDefault(&c.RefreshIdleTimeout, 7*24*time.Hour)
	setDefault(&c.RefreshReuseGrace, 10*time.Second)
	setDefault(&c.IDTokenLifetime, time.Hour)
	setDefault(&c.Throttle.Window, 15*time.Minute)
	if c.Throttle.PerClientIP <= 0 {
		c.Throttle.PerClientIP = 20
	}
	if c.Throttle.PerIP <= 0 {
		c.Throttle.PerIP = 100
	}
	if c.ReuseEntries <= 0 {
		c.ReuseEntries = 10000
	}
}

func setDefault(d *time.Duration, def time.Duration) {
	if *d <= 0 {
		*d = def
	}
}

// Handler serves the token, revocation and introspection endpoints.
type Handler struct {
	store      Store
	lookups    lookups
	tokens     Tokens
	verifier   AccessTokens
	cfg        Config
	log        *slog.Logger
	now        func() time.Time
	throttle   *throttle.Throttle
	cors       *cors.Policy
	metrics    Metrics
	reuseCache *reuseCache // nil when reuse is off
	meter      *meter
}

// New returns the token endpoint handler, or an error naming the first
// missing dependency.
func New(d Deps, cfg Config) (*Handler, error) {
	if err := required.Check("token endpoint", required.Dep{Name: "Store", Value: d.Store},
		required.Dep{Name: "Tokens", Value: d.Tokens}, required.Dep{Name: "Verifier", Value: d.Verifier},
		required.Dep{Name: "CORS", Value: d.CORS}, required.Dep{Name: "Metrics", Value: d.Metrics},
		required.Dep{Name: "Log", Value: d.Log}, required.Dep{Name: "Now", Value: d.Now}); err != nil {
		return nil, err
	}
	cfg.defaults()
	var reuse *reuseCache
	if !cfg.DisableTokenReuse {
		reuse = newReuseCache(cfg.ReuseEntries)
	}
	return &Handler{reuseCache: reuse, meter: newMeter(d.Store, cfg.Quota, d.Log.WarnContext),
		store: d.Store, lookups: newLookups(d.Store, cfg.OrganizationCacheTTL, d.Now), tokens: d.Tokens, verifier: d.Verifier,
		cfg: cfg, log: d.Log, now: d.Now, cors: d.CORS, metrics: d.Metrics,
		throttle: throttle.New(d.Store, cfg.Throttle.Window),
	}, nil
}

// Routes returns the handler for every path the token function serves.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	const headers = cors.BrowserHeaders
	mux.Handle("/oauth/token", h.cors.Preflight("POST", headers, h))
	mux.Handle("/oauth/revoke", h.cors.Preflight("POST", headers, http.HandlerFunc(h.revoke)))
	// Introspection is for resource servers, not browsers: no CORS.
	mux.HandleFunc("/oauth/introspect", h.introspect)
	return mux
}

// tokenResponse is RFC 6749 §5.1, with OpenID Connect Core §3.1.3.3's
// id_token.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	Scope        string `json:"scope"`
	RefreshToken string `json:"refresh_token,omitempty"`
	IDToken      string `json:"id_token,omitempty"`
}

// request is a parsed, client-authenticated token request.
type request struct {
	form   oauth.Form
	creds  oauth.ClientCredentials
	client domain.Application
	// reused is set when the answer is a token handed out before.
	reused bool
	// rateLimit is the organization's monthly quota (client_credentials).
	rateLimit *rateLimit
}

// ServeHTTP runs the pipeline: parse, authenticate, grant, issue, write.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauth.NoStore(w)
		httpx.MethodNotAllowed(w, http.MethodPost)
		return
	}
	resp, req, err := h.handle(r)
	if req != nil {
		cors.AllowListed(w, r, req.client.AllowedOrigins) // errors after authentication too: the SPA must read them
		req.rateLimit.write(w)
	}
	if err != nil {
		oauth.WriteError(w, r, h.log, err)
		return
	}
	name := metrics.TokensIssued
	if req.reused {
		name = metrics.TokensReused
	}
	h.metrics.Count(name, metrics.Dim{Name: "GrantType", Value: req.form.Get("grant_type")},
		metrics.Dim{Name: "ClientType", Value: string(req.client.Type)})
	oauth.NoStore(w)
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// handle returns the authenticated request (nil before authentication) with
// the response or the error.
func (h *Handler) handle(r *http.Request) (*tokenResponse, *request, error) {
	ctx := r.Context()
	form, err := oauth.ParseBody(r)
	if err != nil {
		return nil, nil, err
	}
	grant := form.Get("grant_type")
	if grant == "" {
		return nil, nil, oauth.InvalidRequest("grant_type is required")
	}
	if wait := h.meter.startDue(ctx, h.now()); wait != nil {
		defer wait() // the answer waits for the quota count (quota.go)
	}
	userGrant := grant == "authorization_code" || grant == "refresh_token"
	req, err := h.authenticateRequest(r, form, userGrant)
	if err != nil {
		return nil, nil, err
	}
	var resp *tokenResponse
	switch grant {
	case "client_credentials":
		resp, err = h.clientCredentials(ctx, req)
	case "authorization_code":
		resp, err = h.authorizationCode(ctx, req)
	case "refresh_token":
		resp, err = h.refreshToken(ctx, req)
	default:
		err = oauth.UnsupportedGrantType("unsupported grant_type; this server supports authorization_code, refresh_token and client_credentials")
	}
	return resp, req, err
}

// authenticateRequest is the shared client authentication step of the token,
// revocation and introspection endpoints. public allows SPA clients, which
// are public (RFC 6749 §2.1), to identify with client_id alone. A failed
// authentication is counted, and answered 429 once the pair or the address
// is over its limit; a client whose id has reached its limit from the
// request's address is refused even with the right secret, before any
// grant runs, so that no answer tells a right secret from a wrong one
// (throttle.go).
func (h *Handler) authenticateRequest(r *http.Request, form oauth.Form, public bool) (*request, error) {
	ctx := r.Context()
	creds, err := oauth.ClientAuthentication(r, form)
	if err != nil {
		return nil, err
	}
	req := &request{form: form, creds: creds}
	ip := httpx.SourceIP(r)
	err = h.authenticate(ctx, req, public)
	if err == nil {
		if err := h.checkPair(ctx, creds, req.client, ip); err != nil {
			return nil, err
		}
		return req, nil
	}
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_client" {
		return nil, err
	}
	h.log.WarnContext(ctx, "client authentication failed", "event", "client_auth_failed",
		"request_id", httpx.RequestID(ctx), "client_id", creds.ID, "method", creds.Method, "source_ip", ip)
	h.metrics.Count(metrics.ClientAuthFailures)
	return nil, h.fail(ctx, creds, ip, err)
}

// authenticate loads the client and checks its secret. Any failure is the
// same invalid_client, so a caller cannot tell an unknown client from a wrong
// secret (RFC 6749 §5.2, invalid_client).
//
// With public set, a client that sends only its client_id (method "none")
// is accepted if it is an SPA application: public clients have no secret,
// and PKCE (code) or rotation (refresh) binds the grant instead. An M2M
// application must always authenticate.
func (h *Handler) authenticate(ctx context.Context, req *request, public bool) error {
	fail := oauth.InvalidClient("client authentication failed")
	if req.creds.Method == "client_secret_basic" {
		fail.WWWAuthenticate = oauth.BasicChallenge
	}
	if req.creds.Method == "none" {
		if !public {
			return oauth.InvalidClient("client authentication required: send client_id and client_secret")
		}
		// An unknown client and an M2M client without its secret read the
		// same, so client ids cannot be probed.
		noSecret := oauth.InvalidClient("client authentication failed: unknown client, or a confidential client without its secret")
		app, err := h.store.GetApplication(ctx, req.creds.ID)
		if errors.Is(err, domain.ErrNotFound) {
			return unknownClient{noSecret, req.creds.ID}
		}
		if err != nil {
			return fmt.Errorf("load client: %w", err)
		}
		if app.Type != domain.ClientSPA {
			return noSecret
		}
		req.client = app
		return nil
	}
	app, err := h.store.GetApplication(ctx, req.creds.ID)
	if errors.Is(err, domain.ErrNotFound) {
		domain.NoClientSecretCheck(req.creds.Secret)
		return unknownClient{fail, req.creds.ID}
	}
	if err != nil {
		return fmt.Errorf("load client: %w", err)
	}
	if !app.SecretMatches(req.creds.Secret, h.now()) {
		return fail
	}
	req.client = app
	return nil
}

// unknownClient is the invalid_client answer to a client id that names no
// application (the revocation of a deleted client's token needs to know).
type unknownClient struct {
	err *oauth.Error
	id  string
}

func (u unknownClient) Error() string { return u.err.Error() }
func (u unknownClient) Unwrap() error { return u.err }

// clientCredentials is RFC 6749 §4.4: "The client credentials grant type
// MUST only be used by confidential clients."
func (h *Handler) clientCredentials(ctx context.Context, req *request) (*tokenResponse, error) {
	app := req.client
	if app.Type != domain.ClientM2M {
		return nil, oauth.UnauthorizedClient("only M2M applications may use the client_credentials grant")
	}
	org, err := h.lookups.orgs.get(ctx, app.OrganizationID)
	if err != nil {
		return nil, fmt.Errorf("load organization: %w", err)
	}
	if !org.Plan.AllowsM2M() {
		return nil, oauth.UnauthorizedClient(fmt.Sprintf("the organization's plan does not include M2M applications; %s or above is required", domain.MinimumPlanForM2M))
	}
	audience, err := oauth.Target(req.form.Get("audience"), req.form.Get("resource"))
	if err != nil {
		return nil, err
	}
	if audience == "" {
		return nil, oauth.InvalidRequest("audience (or resource) is required")
	}
	if !slices.Contains(h.cfg.Audiences, audience) {
		return nil, oauth.InvalidTarget("unknown audience: it is not an API of this server")
	}
	scopes, err := grantScopes(req.form.Get("scope"), app.Scopes)
	if err != nil {
		return nil, err
	}
	// Only what its creator's role may grant now, on this audience.
	creator, err := h.m2mCreator(ctx, app)
	if err != nil {
		return nil, err
	}
	if scopes, err = h.heldScopes(ctx, app, creator.Role, audience, scopes); err != nil {
		return nil, err
	}
	lifetime := app.AccessTokenLifetime
	if lifetime <= 0 {
		lifetime = h.cfg.DefaultAccessTokenLifetime
	}
	cache := h.reuseCache
	if app.TokenReuseOff {
		cache = nil
	}
	var key reuseKey
	if cache != nil {
		kid, err := h.tokens.ActiveKeyID(ctx)
		if err != nil {
			return nil, fmt.Errorf("active key: %w", err)
		}
		key = newReuseKey(app, audience, scopes, kid, lifetime)
		now := h.now()
		if r, ok := cache.get(key, now); ok {
			req.reused = true
			req.rateLimit = h.meter.peek(ctx, org, now)
			return &tokenResponse{
				AccessToken: r.raw,
				TokenType:   "Bearer",
				ExpiresIn:   int64(r.expires.Sub(now) / time.Second),
				Scope:       r.scope,
			}, nil
		}
	}
	rl, quotaWait, err := h.meter.take(ctx, org, h.now())
	req.rateLimit = rl
	if err != nil {
		h.metrics.Count(metrics.QuotaRejections)
		return nil, err
	}
	if quotaWait != nil {
		defer quotaWait() // the count goes to the table while KMS signs (quota.go)
	}
	raw, claims, err := h.tokens.AccessToken(ctx, jwt.AccessRequest{
		Subject:  app.ClientID,
		ClientID: app.ClientID,
		OrgID:    app.OrganizationID,
		Audience: audience,
		Scopes:   scopes,
		Lifetime: lifetime,
	})
	if err != nil {
		return nil, fmt.Errorf("issue access token: %w", err)
	}
	h.log.InfoContext(ctx, "token issued", "event", "token_issued", "request_id", httpx.RequestID(ctx),
		"source_ip", httpx.SourceIPFrom(ctx), "grant_type", "client_credentials", "client_type", string(app.Type), "client_id", app.ClientID, "jti", claims.ID)
	cache.put(reusable{key: key, raw: raw, scope: claims.Scope, issuedAt: claims.IssuedAt.Time(), expires: claims.Expiry.Time()})
	return &tokenResponse{
		AccessToken: raw,
		TokenType:   "Bearer",
		ExpiresIn:   int64(lifetime / time.Second),
		Scope:       claims.Scope,
	}, nil
}

// grantScopes checks the requested scope (RFC 6749 §3.3) against what the
// application may request. An omitted scope grants all of them.
func grantScopes(requested string, allowed []string) ([]string, error) {
	if requested == "" {
		return slices.Clone(allowed), nil
	}
	scope := oauth.ParseScope(requested)
	if _, ok := scope.NotIn(allowed); ok {
		return nil, oauth.InvalidScope("a requested scope is not allowed for this application")
	}
	return scope, nil
}
