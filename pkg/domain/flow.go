package domain

import (
	"errors"
	"time"
)

// ErrAlreadyUsed is returned when a single-use item (an authorization code,
// a login transaction) is presented a second time. Stores return it together
// with the item, so the caller can revoke what the first use issued.
var ErrAlreadyUsed = errors.New("already used")

// AuthorizationCode is an issued code, RFC 6749 §4.1.2, stored by the hash
// of its value. It lives 60 seconds and is redeemed at most once.
type AuthorizationCode struct {
	Hash           []byte // SHA-256 of the code (HashSecret)
	ClientID       string
	UserID         string
	OrganizationID string
	RedirectURI    string
	// CodeChallenge is the RFC 7636 S256 challenge.
	CodeChallenge string
	Nonce         string
	Scopes        []string
	Audience      string
	AuthTime      time.Time
	SessionID     string
	ExpiresAt     time.Time
	// Set when the code is redeemed: what it issued, so that a replay
	// revokes it (RFC 6749 §4.1.2, RFC 9700 §4.5).
	RedeemedAt time.Time
	// ReplayedAt is set by the first redemption attempt after RedeemedAt:
	// from then on nothing more may be recorded as issued, so a redemption
	// still issuing learns of the replay (storage.Codes.RecordCodeIssue).
	ReplayedAt       time.Time
	IssuedFamilyID   string
	IssuedAccessJTIs []string
}
