package domain

import (
	"errors"
	"time"
)

// RefreshFamily is every refresh token descended, by rotation, from one
// authorization code redemption. Revoking the family (reuse of a rotated
// token, a replayed code, RFC 7009 revocation) ends all of them at once:
// every use of a refresh token reads its family first (RFC 9700 §4.14.2).
type RefreshFamily struct {
	ID             string
	ClientID       string
	UserID         string
	OrganizationID string
	// SessionID is the browser session whose sign-in started the family
	// (the code's SessionID): logging out of it revokes the family.
	SessionID string
	CreatedAt time.Time
	// ExpiresAt is the absolute end of the family: no token of it outlives
	// the sign-in it came from by more than the stage's refresh lifetime.
	ExpiresAt time.Time
	Revoked   bool
	RevokedAt time.Time
}

// RefreshToken is one refresh token, RFC 6749 §6, stored by the hash of its
// value. Tokens rotate: each use marks the presented token rotated and
// issues a successor in the same family, with the same scopes.
type RefreshToken struct {
	Hash           []byte // SHA-256 of the token (HashSecret)
	FamilyID       string
	ClientID       string
	UserID         string
	OrganizationID string
	// Scopes are what the original grant allowed; RFC 6749 §6 keeps them
	// for every successor, whatever a refresh request narrows.
	Scopes   []string
	Audience string
	AuthTime time.Time
	IssuedAt time.Time
	// IdleExpiresAt ends a token that is not used in time; it is never
	// later than AbsoluteExpiresAt, the family's end.
	IdleExpiresAt     time.Time
	AbsoluteExpiresAt time.Time
	// RotatedAt is set, exactly once, when the token is exchanged.
	RotatedAt time.Time
	// AccessTokenID and AccessTokenExpiresAt name the access token issued
	// together with this refresh token, so that revoking the family can
	// revoke it too.
	AccessTokenID        string
	AccessTokenExpiresAt time.Time
}

// Why a refresh token may not be used.
var (
	// ErrRefreshRevoked: its family was revoked (or is not its family).
	ErrRefreshRevoked = errors.New("the refresh token has been revoked")
	// ErrRefreshRotated: it was already exchanged for a successor; a use
	// now is a reuse (RFC 9700 §4.14.2).
	ErrRefreshRotated = errors.New("the refresh token was already used")
	// ErrRefreshIdle: it was not used before its idle timeout.
	ErrRefreshIdle = errors.New("the refresh token expired after a period without use")
	// ErrRefreshExpired: it, or its family, reached its absolute end.
	ErrRefreshExpired = errors.New("the refresh token has expired")
)

// Usable reports whether t, whose family is f, may be exchanged at now:
// its family is live (not revoked, not past its end), it was not rotated
// and neither its idle nor its absolute expiry has passed. The checks run
// in that order, so a rotated token of a revoked family is revoked, not a
// reuse. A zero expiry time is not checked.
func (t RefreshToken) Usable(f RefreshFamily, now time.Time) error {
	switch {
	case f.Revoked || f.ID != t.FamilyID:
		return ErrRefreshRevoked
	case !f.ExpiresAt.IsZero() && !now.Before(f.ExpiresAt):
		return ErrRefreshExpired
	case !t.RotatedAt.IsZero():
		return ErrRefreshRotated
	case !now.Before(t.IdleExpiresAt):
		return ErrRefreshIdle
	case !t.AbsoluteExpiresAt.IsZero() && !now.Before(t.AbsoluteExpiresAt):
		return ErrRefreshExpired
	}
	return nil
}
