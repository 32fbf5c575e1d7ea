package domain

import "time"

// RefreshFamily is every refresh token descended, by rotation, from one
// authorization code redemption. Revoking the family (reuse of a rotated
// token, a replayed code, RFC 7009 revocation) ends all of them at once:
// every use of a refresh token reads its family first (RFC 9700 §4.14.2).
type RefreshFamily struct {
	ID             string
	ClientID       string
	UserID         string
	OrganizationID string
	CreatedAt      time.Time
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
