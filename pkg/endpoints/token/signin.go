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
