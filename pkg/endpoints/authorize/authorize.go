package authorize

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/required"
)

// Store is what the authorize function reads and writes.
type Store interface {
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)

	CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error
	GetLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)
	ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)

	CreateSession(ctx context.Context, s domain.Session) error
	GetSession(ctx context.Context, hash []byte, now time.Time) (domain.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error

	CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error

	CreateCode(ctx context.Context, c domain.AuthorizationCode) error

	// Organization SSO (sso.go).
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	CreateUser(ctx context.Context, u domain.User) error
	CreateSSOTransaction(ctx context.Context, tx domain.SSOTransaction) error
	ConsumeSSOTransaction(ctx context.Context, state string, now time.Time) (domain.SSOTransaction, error)
	LinkUpstream(ctx context.Context, l domain.UpstreamLink) error
	GetUpstreamLink(ctx context.Context, issuer, subject string) (domain.UpstreamLink, error)
}

// Upstream is an organization's own OpenID provider, as a relying party
// sees it (pkg/upstream).
type Upstream interface {
	AuthorizationEndpoint(ctx context.Context, sso *domain.SSO) (string, error)
	AuthCodeURL(ctx context.Context, sso *domain.SSO, redirectURL, state, nonce, verifier, loginHint string) (string, error)
	Exchange(ctx context.Context, sso *domain.SSO, secret, redirectURL, code, verifier, nonce string) (domain.UpstreamIdentity, error)
}

// SecretOpener decrypts an organization's upstream client secret (pkg/platform/secretbox).
type SecretOpener interface {
	Decrypt(ctx context.Context, orgID string, ciphertext []byte) ([]byte, error)
}

// Keys publishes the public keys that verify an id_token_hint.
type Keys interface {
	Published(ctx context.Context) (jose.JSONWebKeySet, error)
}

// Config lists the settings the authorize function reads.
type Config struct {
	// Issuer is iss, returned in every authorization response (RFC 9207).
	// An http issuer (loopback only) turns off Secure cookies and the
	// __Host- prefix, which browsers only accept over https.
	Issuer string
	// Audiences are the APIs a client may ask tokens for (the audience
	// parameter).
	Audiences []string
	// DefaultAudience is the audience of a request without one: the
	// stage's first API audience.
	DefaultAudience string
	// ManagementAudience is orgauth's own management API. Only the
	// developer console (ManagementClientID) may ask for it: a token for it
	// lets its bearer change the user's applications, which no other
	// application of the organization should be able to obtain.
	ManagementAudience string
	ManagementClientID string

	TransactionLifetime time.Duration // default 10 min
	SessionLifetime     time.Duration // default 12 h
	CodeLifetime        time.Duration // default 60 s

	// Failed sign-ins are counted in fixed windows per account from one
	// source address, per source address, and per account; over a limit,
	// the form refuses to check passwords until the window ends. The
	// per-account limit is high: it bounds guessing from many addresses,
	// while one address cannot lock an account out of everywhere.
	FailureWindow           time.Duration // default 15 min
	MaxFailuresPerAccountIP int64         // default 5
	MaxFailuresPerIP        int64         // default 20
	MaxFailuresPerAccount   int64         // default 50
}

// Deps is everything the sign-in endpoints need; every field is required.
type Deps struct {
	Store Store
	Keys  Keys
	// Upstream is the relying party of organizations' own providers.
	Upstream Upstream
	Log      *slog.Logger
	Now      func() time.Time
}

// Handler serves /authorize, /login and /logout, and, built by
// NewCallback, /callback.
type Handler struct {
	store    Store
	keys     Keys
	upstream Upstream
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	secure   bool   // https issuer: Secure, __Host- cookies
	origin   string // the issuer's origin, which POST /login must come from

	// secrets decrypts upstream client secrets: only the callback function
	// has it (NewCallback); the authorize function sends users upstream
	// without being able to decrypt any secret.
	secrets SecretOpener
}

// New returns the authorize function's handler, or an error naming a
// missing dependency.
func New(d Deps, cfg Config) (*Handler, error) {
	if err := required.Check("authorize endpoint", required.Dep{Name: "Store", Value: d.Store},
		required.Dep{Name: "Keys", Value: d.Keys}, required.Dep{Name: "Upstream", Value: d.Upstream},
		required.Dep{Name: "Log", Value: d.Log}, required.Dep{Name: "Now", Value: d.Now}); err != nil {
		return nil, err
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&cfg.TransactionLifetime, 10*time.Minute)
	def(&cfg.SessionLifetime, 12*time.Hour)
	def(&cfg.CodeLifetime, 60*time.Second)
	def(&cfg.FailureWindow, 15*time.Minute)
	if cfg.MaxFailuresPerAccountIP <= 0 {
		cfg.MaxFailuresPerAccountIP = 5
	}
	if cfg.MaxFailuresPerAccount <= 0 {
		cfg.MaxFailuresPerAccount = 50
	}
	if cfg.MaxFailuresPerIP <= 0 {
		cfg.MaxFailuresPerIP = 20
	}
	h := &Handler{store: d.Store, keys: d.Keys, upstream: d.Upstream, cfg: cfg, log: d.Log, now: d.Now}
	h.secure, h.origin = issuerOrigin(cfg.Issuer)
	return h, nil
}

// issuerOrigin is the issuer's origin, and whether cookies must be Secure
// (every issuer but an http loopback one).
func issuerOrigin(issuer string) (secure bool, origin string) {
	u, err := url.Parse(issuer)
	if err != nil {
		return true, ""
	}
	return !(u.Scheme == "http" && domain.IsLoopback(u.Hostname())), u.Scheme + "://" + u.Host
}

// NewCallback returns the callback function's handler: GET /callback,
// where organizations' providers send their users back. It alone is given
// secrets, to decrypt the upstream client secret.
func NewCallback(d Deps, secrets SecretOpener, cfg Config) (http.Handler, error) {
	if err := required.Check("callback endpoint", required.Dep{Name: "Secrets", Value: secrets}); err != nil {
		return nil, err
	}
	h, err := New(d, cfg)
	if err != nil {
		return nil, err
	}
	h.secrets = secrets
	mux := http.NewServeMux()
	mux.HandleFunc("/callback", h.callback)
	return mux, nil
}

// Routes returns the handler for every path the authorize function serves.
func (h *Handler) Routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/authorize", h.authorize)
	mux.HandleFunc("/login", h.login)
	mux.HandleFunc("/logout", h.logout)
	return mux
}
