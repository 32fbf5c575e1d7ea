package signin

import (
	"context"
	"crypto/cipher"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/required"
	"orgauth/pkg/platform/throttle"
)

// Store is what sign-in reads and writes.
type Store interface {
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)
	UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error)

	CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error
	GetLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)
	ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)

	CreateSession(ctx context.Context, s domain.Session) error
	GetSession(ctx context.Context, hash []byte, now time.Time) (domain.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error

	throttle.Counter

	CreateCode(ctx context.Context, c domain.AuthorizationCode) error
	// GetAPI reads the registered API of an audience: what a role may hold.
	GetAPI(ctx context.Context, audience string) (domain.API, error)

	consentStore // consent.go

	// Logout revokes what the session's sign-ins issued (logout.go).
	ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time) ([]domain.RefreshFamily, error)
	RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error
	ListRefreshTokens(ctx context.Context, familyID string) ([]domain.RefreshToken, error)
	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error

	// Organization SSO (sso.go).
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	ListOrganizations(ctx context.Context) ([]domain.Organization, error)
	CreateUser(ctx context.Context, u domain.User) error
	LinkUpstream(ctx context.Context, l domain.UpstreamLink) error
	GetUpstreamLink(ctx context.Context, issuer, subject string) (domain.UpstreamLink, error)
}

// UpstreamClient is an organization's own OpenID provider, as a relying
// party sees it (pkg/upstream).
type UpstreamClient interface {
	AuthorizationEndpoint(ctx context.Context, sso *domain.SSO) (string, error)
	AuthCodeURL(ctx context.Context, sso *domain.SSO, redirectURL, state, nonce, verifier, loginHint, prompt string, maxAge int64) (string, error)
	// IssParameterRequired: the provider advertises RFC 9207's iss in its
	// authorization responses, so a response without it is refused.
	IssParameterRequired(ctx context.Context, sso *domain.SSO) (bool, error)
	Exchange(ctx context.Context, sso *domain.SSO, secret, redirectURL, code, verifier, nonce string) (domain.UpstreamIdentity, error)
}

// SecretOpener decrypts an organization's upstream client secret
// (pkg/platform/secretbox). Only the callback has one.
type SecretOpener interface {
	Decrypt(ctx context.Context, orgID string, ciphertext []byte) ([]byte, error)
}

// Keys publishes the public keys that verify an id_token_hint.
type Keys interface {
	Published(ctx context.Context) (jose.JSONWebKeySet, error)
}

// Config lists the settings sign-in reads.
type Config struct {
	// Issuer is iss, returned in every authorization response (RFC 9207).
	Issuer string
	// Audiences are the APIs a client may ask tokens for (the audience
	// parameter).
	Audiences []string
	// DefaultAudience is the audience of a request without one: the
	// stage's first API audience.
	DefaultAudience string
	// ManagementAudience is orgauth's own management API. Only the
	// developer console (domain.ConsoleClientID) may ask for it: a token
	// for it lets its bearer change the user's applications, which no other
	// application of the organization should be able to obtain.
	ManagementAudience string

	TransactionLifetime time.Duration // default 10 min
	SessionLifetime     time.Duration // default 12 h
	CodeLifetime        time.Duration // default 60 s

	// Failed sign-ins are counted in fixed windows (login.go, README
	// "Throttling"). A browser without a device cookie for the account is
	// limited per account from its source address and per address; over
	// a limit, the form refuses to check passwords until the window ends.
	// Past MaxFailuresPerAccount attempts at one account in a window,
	// such browsers get one attempt at it per delay, a delay that doubles
	// with each further attempt up to MaxAccountDelay: a growing delay,
	// never a lock. A browser with a valid device cookie for the account
	// skips all of that and has its own limit, MaxFailuresPerDevice.
	FailureWindow           time.Duration // default 15 min
	MaxFailuresPerAccountIP int64         // default 5
	MaxFailuresPerIP        int64         // default 20
	MaxFailuresPerAccount   int64         // default 20
	MaxFailuresPerDevice    int64         // default 10
	MaxAccountDelay         time.Duration // default 60 s

	// DeviceKey is the HMAC key of device cookies (32 bytes or more; see
	// device.go), one per stage (pkg/wiring/devicekey.go); the key that
	// seals SSO states is derived from it (ssostate.go), so the authorize
	// and callback functions both need it. Without one, each process
	// makes its own, and device cookies and SSO states only verify in the
	// process that issued them. DeviceLifetime is how
	// long a device cookie is kept (default 90 days).
	DeviceKey      []byte
	DeviceLifetime time.Duration
}

// Deps is everything sign-in needs; every field is required.
type Deps struct {
	Store    Store
	Keys     Keys
	Upstream UpstreamClient
	Log      *slog.Logger
	Now      func() time.Time
}

// Service is sign-in: /authorize, /login and /logout. Callback, built on
// it, completes the SSO hand-off.
type Service struct {
	store    Store
	keys     Keys
	upstream UpstreamClient
	cfg      Config
	log      *slog.Logger
	now      func() time.Time
	origin   string // the issuer's origin, which the login form must come from

	throttle  *throttle.Throttle
	deviceKey []byte
	// stateAEAD seals the SSO transactions sent upstream (ssostate.go),
	// under a key derived from deviceKey.
	stateAEAD cipher.AEAD
	attacks   *attackLog
}

// New returns the sign-in service, or an error naming a missing
// dependency.
func New(d Deps, cfg Config) (*Service, error) {
	if err := required.Check("sign-in", required.Dep{Name: "Store", Value: d.Store},
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
		cfg.MaxFailuresPerAccount = 20
	}
	if cfg.MaxFailuresPerDevice <= 0 {
		cfg.MaxFailuresPerDevice = 10
	}
	def(&cfg.MaxAccountDelay, time.Minute)
	def(&cfg.DeviceLifetime, 90*24*time.Hour)
	if cfg.MaxFailuresPerIP <= 0 {
		cfg.MaxFailuresPerIP = 20
	}
	s := &Service{store: d.Store, keys: d.Keys, upstream: d.Upstream, cfg: cfg, log: d.Log, now: d.Now,
		throttle: throttle.New(d.Store, cfg.FailureWindow), deviceKey: cfg.DeviceKey, attacks: newAttackLog()}
	if len(s.deviceKey) < 32 {
		d.Log.Warn("no device cookie key (DEVICE_COOKIE_KMS_KEY_ID or DEVICE_COOKIE_KEY): device cookies and SSO states verify only in the process that issued them",
			"event", "device_key_missing")
		s.deviceKey = randomDeviceKey()
	}
	aead, err := newStateAEAD(s.deviceKey)
	if err != nil {
		return nil, fmt.Errorf("sign-in: SSO state key: %w", err)
	}
	s.stateAEAD = aead
	if u, err := url.Parse(cfg.Issuer); err == nil {
		s.origin = u.Scheme + "://" + u.Host
	}
	return s, nil
}

// SessionLifetime is how long a session cookie is kept.
func (s *Service) SessionLifetime() time.Duration { return s.cfg.SessionLifetime }

// SecureCookies reports whether the browser's cookies must be Secure and
// carry the __Host- prefix: for every issuer but an http loopback one
// (local development), since browsers only keep them over https.
func SecureCookies(issuer string) bool {
	u, err := url.Parse(issuer)
	if err != nil {
		return true
	}
	return !(u.Scheme == "http" && domain.IsLoopback(u.Hostname()))
}
