package storage

import (
	"context"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
)

// Store is every concern of the one table, as a stage's functions share it.
type Store interface {
	ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)
	ConsumeSSOTransaction(ctx context.Context, state string, now time.Time) (domain.SSOTransaction, error)
	CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	CreateApplication(ctx context.Context, a domain.Application) error
	CreateCode(ctx context.Context, c domain.AuthorizationCode) error
	CreateKeySet(ctx context.Context, s keys.Set) error
	CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error
	CreateOrganization(ctx context.Context, o domain.Organization) error
	CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily) error
	CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error
	CreateSSOTransaction(ctx context.Context, tx domain.SSOTransaction) error
	CreateSession(ctx context.Context, s domain.Session) error
	CreateUser(ctx context.Context, u domain.User) error
	DeleteApplication(ctx context.Context, clientID string) error
	DeleteSession(ctx context.Context, hash []byte) error
	Failures(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	GetKeySet(ctx context.Context) (keys.Set, error)
	GetLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	GetRefreshFamily(ctx context.Context, id string, now time.Time) (domain.RefreshFamily, error)
	GetRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	GetSession(ctx context.Context, hash []byte, now time.Time) (domain.Session, error)
	GetUpstreamLink(ctx context.Context, issuer, subject string) (domain.UpstreamLink, error)
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
	LinkUpstream(ctx context.Context, l domain.UpstreamLink) error
	ListApplications(ctx context.Context, orgID string, limit int, cursor string) (apps []domain.Application, next string, err error)
	ListOrganizations(ctx context.Context) ([]domain.Organization, error)
	ListRefreshTokens(ctx context.Context, familyID string) ([]domain.RefreshToken, error)
	ListUsers(ctx context.Context, orgID string) ([]domain.User, error)
	OriginAllowed(ctx context.Context, origin string) (bool, error)
	RecordCodeIssue(ctx context.Context, hash []byte, familyID string, jtis []string) error
	RedeemCode(ctx context.Context, hash []byte, now time.Time) (domain.AuthorizationCode, error)
	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error
	RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error
	RotateRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	UpdateApplication(ctx context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error)
	UpdateKeySet(ctx context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error)
	UpdateOrganization(ctx context.Context, id string, fn func(domain.Organization) (domain.Organization, error)) (domain.Organization, error)
	UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error)
}
