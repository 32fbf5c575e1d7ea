package token

import (
	"context"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
)

// Flows is the store behind the user grants: authorization codes, refresh
// token families and revoked access-token ids (storage.Codes in pkg/storage
// documents the contract).
type Flows interface {
	RedeemCode(ctx context.Context, hash []byte, now time.Time) (domain.AuthorizationCode, error)
	RecordCodeIssue(ctx context.Context, hash []byte, familyID string, jtis []string) error

	CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily) error
	GetRefreshFamily(ctx context.Context, id string, now time.Time) (domain.RefreshFamily, error)
	RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error
	CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error
	GetRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	ListRefreshTokens(ctx context.Context, familyID string) ([]domain.RefreshToken, error)

	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
}

// Users finds the signed-in users tokens are issued for.
type Users interface {
	GetUser(ctx context.Context, id string) (domain.User, error)
}

// IDTokens mints OpenID Connect ID tokens.
type IDTokens interface {
	IDToken(ctx context.Context, r jwt.IDRequest) (string, jwt.IDClaims, error)
}

// AccessTokens verifies this server's access tokens (for revocation).
type AccessTokens interface {
	VerifyAccessToken(ctx context.Context, raw, audience string) (jwt.AccessClaims, error)
}

// SignIn is what the user grants (authorization_code, refresh_token) and
// revocation need beyond the client_credentials grant. Without it those
// grants answer unsupported_grant_type.
type SignIn struct {
	Flows    Flows
	Users    Users
	IDTokens IDTokens
	Verifier AccessTokens
	// Issuer is this server's "iss". It is the audience of access tokens
	// from a sign-in that asked for no API: such a token is good for
	// orgauth's own /userinfo only.
	Issuer string
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
}

// WithSignIn enables the user grants and /oauth/revoke. Call it before
// Routes.
func (h *Handler) WithSignIn(s SignIn) *Handler {
	if s.RefreshTokenLifetime <= 0 {
		s.RefreshTokenLifetime = 30 * 24 * time.Hour
	}
	if s.RefreshIdleTimeout <= 0 {
		s.RefreshIdleTimeout = 7 * 24 * time.Hour
	}
	if s.RefreshReuseGrace <= 0 {
		s.RefreshReuseGrace = 10 * time.Second
	}
	if s.IDTokenLifetime <= 0 {
		s.IDTokenLifetime = time.Hour
	}
	h.signIn = &s
	return h
}
