package storage

import (
	"context"
	"fmt"
	"strings"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
)

// Store is everything a store implements: pkg/storage/dynamo and
// pkg/storage/memory both assert var _ storage.Store = (*Store)(nil), and
// pkg/storage/conformance checks the contract of every part.
type Store interface {
	Organizations
	Applications
	Users
	Origins
	Sessions
	Codes
	KeySets
	SSO
	APIs
	Consents
	Usage
	WrappedKeys
}

// The contract shared by Organizations, Applications and Users:
//   - Create* stores Version 1, whatever the argument says, and fails with
//     ErrAlreadyExists on a taken id (or, for users, a taken email,
//     compared case-insensitively). User emails are stored lower-cased.
//   - Get* and Delete* fail with ErrNotFound on a miss. An id no item can
//     have (domain.ValidID is false: empty, too long, not visible ASCII) is
//     a miss, never another error.
//   - Update* is compare-and-swap: fn gets the current value and may be
//     called more than once; it must not call the store. An error from fn
//     is returned as is and nothing is written. The store writes what fn
//     returns with Version+1 (fn's Version is ignored) and keeps fn's
//     UpdatedAt: the caller owns the clock. Changing a key field (ids,
//     organization, client type, creator, creation time, user email) is
//     refused. A race lost on every attempt fails with ErrConflict.
//   - Durations are kept to whole seconds; times round-trip to the
//     nanosecond (compare with time.Equal: the zone may come back as UTC).
//   - No memory is shared with the caller: slices passed in or returned
//     may be changed by their holder without changing what is stored.

// Organizations keeps the organizations and their SSO settings.
// ListOrganizations orders by id.
type Organizations interface {
	CreateOrganization(ctx context.Context, o domain.Organization) error
	GetOrganization(ctx context.Context, id string) (domain.Organization, error)
	UpdateOrganization(ctx context.Context, id string, fn func(domain.Organization) (domain.Organization, error)) (domain.Organization, error)
	ListOrganizations(ctx context.Context) ([]domain.Organization, error)
}

// Applications keeps the registered applications (OAuth clients).
//
// ListApplications lists one organization's applications in creation order
// (ties by client id, the order of CreationKey), limit per page (<= 0: 50;
// at most 100); next is "" on the last page. A cursor that the store did
// not make fails with ErrInvalidCursor.
//
// TransferApplication is the one change of CreatedBy: from from to to,
// with UpdatedAt = at and Version+1, on condition that the creator is
// still from (ErrConflict otherwise); ErrNotFound on a miss.
type Applications interface {
	CreateApplication(ctx context.Context, a domain.Application) error
	GetApplication(ctx context.Context, clientID string) (domain.Application, error)
	UpdateApplication(ctx context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error)
	DeleteApplication(ctx context.Context, clientID string) error
	TransferApplication(ctx context.Context, clientID, from, to string, at time.Time) (domain.Application, error)
	ListApplications(ctx context.Context, orgID string, limit int, cursor string) (apps []domain.Application, next string, err error)
	// ThrottleApplication sets the application's ThrottledUntil to until,
	// unless it is already later, in one conditional write; an unknown
	// client is no error and creates nothing. UpdateApplication keeps
	// ThrottledUntil whatever its function returns.
	ThrottleApplication(ctx context.Context, clientID string, until time.Time) error
}

// Users keeps the users of every organization. Emails are unique across
// organizations, whatever their case. ListUsers orders by email.
type Users interface {
	CreateUser(ctx context.Context, u domain.User) error
	GetUser(ctx context.Context, id string) (domain.User, error)
	GetUserByEmail(ctx context.Context, email string) (domain.User, error)
	UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error)
	ListUsers(ctx context.Context, orgID string) ([]domain.User, error)
}

// Origins is the index of the applications' allowed origins, for CORS.
// OriginAllowed reports whether some application lists origin; it follows
// CreateApplication, UpdateApplication and DeleteApplication, and never
// reports an origin that no stored application lists.
type Origins interface {
	OriginAllowed(ctx context.Context, origin string) (bool, error)
}

// Sessions is what the browser sign-in keeps: login transactions, sessions
// and failure counters.
//
// Contract, beyond the method names:
//   - Every item has an expiry and every read checks it against the now it
//     is given: an item is gone at ExpiresAt (now >= ExpiresAt), whether or
//     not the table's TTL has deleted it yet.
//   - CreateLoginTransaction and CreateSession fail with ErrAlreadyExists on
//     a taken id or hash, and refuse an item without id (or hash) or
//     expiry.
//   - ConsumeLoginTransaction deletes the transaction and returns it, in
//     one conditional write: of concurrent calls exactly one succeeds; the
//     others, and any call after expiry, fail with ErrNotFound.
//   - GetSession and DeleteSession go by the hash of the cookie value and
//     fail with ErrNotFound on a miss.
//   - CountFailure adds one to key's counter in the fixed window of length
//     window that contains now (windows start at multiples of window since
//     the Unix epoch) and returns the count after; Failures reads it;
//     ForgetFailure takes one back, never below zero. A new window starts
//     from zero. A window under a second is refused.
//   - ListUserSessions lists a user's sessions that have not expired at
//     now, oldest first (ties by id), with their hashes, so that disabling
//     the user can delete them.
type Sessions interface {
	CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error
	GetLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)
	ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error)

	CreateSession(ctx context.Context, s domain.Session) error
	GetSession(ctx context.Context, hash []byte, now time.Time) (domain.Session, error)
	DeleteSession(ctx context.Context, hash []byte) error
	ListUserSessions(ctx context.Context, userID string, now time.Time) ([]domain.Session, error)

	CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	Failures(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error
}

// Codes is what the sign-in flows keep for the token endpoint:
// authorization codes, refresh token families and revoked access-token
// ids.
//
// Contract:
//   - CreateCode, CreateRefreshFamily and CreateRefreshToken fail with
//     ErrAlreadyExists on a taken key.
//   - RedeemCode succeeds exactly once per code, even under concurrent
//     calls, and returns the code with RedeemedAt = now. Later calls return
//     the stored code (with what RecordCodeIssue noted) together with
//     ErrAlreadyUsed, for a while after the code has expired too, so that a
//     replay can revoke what the first redemption issued. An unknown code,
//     or an unredeemed one at or past its ExpiresAt, is ErrNotFound.
//     Each such later call also marks the code replayed (ReplayedAt, the
//     first time), in the same atomic step as its read.
//   - RecordCodeIssue notes, on a redeemed code, the refresh family and the
//     access-token ids its redemption issued; ErrNotFound otherwise, and
//     ErrAlreadyUsed (noting nothing) once the code is marked replayed. So,
//     under any interleaving, a replay either returns what was recorded or
//     makes the record fail: a redemption never issues what a replay missed.
//   - GetRefreshFamily and GetRefreshToken fail with ErrNotFound for an
//     unknown key, or at or past the family's ExpiresAt / the token's
//     AbsoluteExpiresAt. Idle expiry is the caller's to check.
//   - RevokeRefreshFamily sets Revoked and RevokedAt (the first time only;
//     revoking again is a no-op); ErrNotFound on an unknown family.
//   - RotateRefreshToken marks a token rotated exactly once, returning it
//     with RotatedAt = now; later calls return the stored token with
//     ErrAlreadyUsed; an unknown or expired token is ErrNotFound.
//   - ListRefreshTokens lists a family's tokens, oldest first.
//   - ListClientRefreshFamilies and ListUserRefreshFamilies list the live
//     families (neither revoked nor expired at now) of an application or
//     of a user, oldest first (ties by id): what deleting the application,
//     disabling the user or withdrawing a consent must revoke. A family
//     without a user is listed for its client only.
//   - RevokeJTI is idempotent; IsJTIRevoked is true from then until
//     expiresAt.
type Codes interface {
	CreateCode(ctx context.Context, c domain.AuthorizationCode) error
	RedeemCode(ctx context.Context, hash []byte, now time.Time) (domain.AuthorizationCode, error)
	RecordCodeIssue(ctx context.Context, hash []byte, familyID string, jtis []string) error

	CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily) error
	GetRefreshFamily(ctx context.Context, id string, now time.Time) (domain.RefreshFamily, error)
	RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error
	CreateRefreshToken(ctx context.Context, t domain.RefreshToken) error
	GetRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	RotateRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error)
	ListRefreshTokens(ctx context.Context, familyID string) ([]domain.RefreshToken, error)
	ListClientRefreshFamilies(ctx context.Context, clientID string, now time.Time) ([]domain.RefreshFamily, error)
	ListUserRefreshFamilies(ctx context.Context, userID string, now time.Time) ([]domain.RefreshFamily, error)

	RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
}

// Usage keeps sharded usage counters, such as an organization's M2M tokens
// of one month. One counter is spread over up to MaxUsageShards items, so
// that a burst of additions to one counter is not one hot item.
//
//   - AddUsage adds delta (> 0) to shard shard (0 <= shard <
//     MaxUsageShards) of counter name, atomically (concurrent additions are
//     never lost), and sets that shard's expiry to expiresAt, in whole
//     seconds (the table's TTL). It returns the shard's count after the
//     addition: with one shard, the counter's total, known without a read.
//   - UsageTotal is the sum of the counter's shards not expired at now (a
//     shard is gone at its expiry: now >= expiresAt), and its spread: one
//     more than the highest live shard, so 0 or 1 when shard 0 holds the
//     whole count, and AddUsage's answer on shard 0 is the total. A counter
//     never added to is 0 (spread 0), not ErrNotFound.
//   - A name is 1 to domain.MaxIDLength visible ASCII characters without
//     spaces; any other name, shard or delta is refused (CheckUsage).
type Usage interface {
	AddUsage(ctx context.Context, name string, shard int, delta int64, expiresAt time.Time) (int64, error)
	UsageTotal(ctx context.Context, name string, now time.Time) (total int64, spread int, err error)
}

// MaxUsageShards bounds the shards of one usage counter.
const MaxUsageShards = 100

// CheckUsage validates the arguments of AddUsage, for every implementation.
func CheckUsage(name string, shard int, delta int64) error {
	if !domain.ValidID(name) || strings.ContainsRune(name, ' ') {
		return fmt.Errorf("storage: usage counter name %q is not 1 to %d visible ASCII characters", name, domain.MaxIDLength)
	}
	if shard < 0 || shard >= MaxUsageShards {
		return fmt.Errorf("storage: usage shard %d is not in [0, %d)", shard, MaxUsageShards)
	}
	if delta <= 0 {
		return fmt.Errorf("storage: usage delta %d is not positive", delta)
	}
	return nil
}

// KeySets keeps the signing key set (pkg/keys): one item per stack.
//
// Contract, beyond the method names:
//   - GetKeySet fails with ErrNotFound when there is no set yet.
//   - CreateKeySet stores a valid set (keys.Set.Validate) with Version 1,
//     or fails with ErrAlreadyExists.
//   - UpdateKeySet is compare-and-swap on Version: fn gets the stored set
//     and may be called more than once; its result must be valid and is
//     stored with Version+1; a lost race re-reads and re-applies fn, and
//     after a few fails with ErrConflict. An error from fn is returned as
//     is, and nothing is written. The store keeps the UpdatedAt fn returns.
//     On a store without a set it fails with ErrNotFound.
//   - Times round-trip to the nanosecond; entries keep their order.
type KeySets interface {
	GetKeySet(ctx context.Context) (keys.Set, error)
	CreateKeySet(ctx context.Context, s keys.Set) error
	UpdateKeySet(ctx context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error)
}

// SSO keeps the links from upstream identities of organization SSO to
// users. (A sign-in sent upstream is stored nowhere: its state is sealed,
// and its used-marker is a login transaction, see Sessions.)
//
//   - LinkUpstream links an upstream issuer and subject to a user, once; a
//     second link of the same identity fails with ErrAlreadyExists, and a
//     link without issuer, subject or user is refused.
//     GetUpstreamLink reads it, or fails with ErrNotFound.
type SSO interface {
	LinkUpstream(ctx context.Context, l domain.UpstreamLink) error
	GetUpstreamLink(ctx context.Context, issuer, subject string) (domain.UpstreamLink, error)
}

// APIs keeps the registered APIs (resource servers) of the stage, by
// audience.
//
//   - CreateAPI stores a valid API (domain.API.Validate) with Version 1, or
//     fails with ErrAlreadyExists for a registered audience.
//   - GetAPI and DeleteAPI fail with ErrNotFound on a miss; an audience no
//     API can have (domain.ValidateAudience fails) is a miss.
//   - UpdateAPI is compare-and-swap as for the other entities: fn may run
//     more than once, its error is returned as is, the result must be valid
//     and is stored with Version+1 and fn's UpdatedAt; changing Audience or
//     CreatedAt is refused; a race lost on every attempt is ErrConflict.
//   - ListAPIs lists every API, ordered by audience.
//   - Scopes keep their order, roles theirs.
type APIs interface {
	CreateAPI(ctx context.Context, api domain.API) error
	GetAPI(ctx context.Context, audience string) (domain.API, error)
	UpdateAPI(ctx context.Context, audience string, fn func(domain.API) (domain.API, error)) (domain.API, error)
	DeleteAPI(ctx context.Context, audience string) error
	ListAPIs(ctx context.Context) ([]domain.API, error)
}

// Consents keeps what users approved for applications, one consent per
// user and application.
//
//   - PutConsent adds c.Scopes to the consent of c.UserID for c.ClientID,
//     creating it if there is none, by compare-and-swap: concurrent puts
//     lose no scope (a put that loses every race fails with ErrConflict
//     and writes nothing). The stored consent keeps the GrantedAt of its first
//     put; UpdatedAt is the GrantedAt of the latest; OrganizationID is the
//     latest put's. It returns the consent as stored (scopes sorted,
//     without duplicates). A consent without user, client, organization,
//     scopes or GrantedAt is refused.
//   - GetConsent and DeleteConsent fail with ErrNotFound on a miss.
//   - ListConsents lists a user's consents, ordered by client id.
type Consents interface {
	PutConsent(ctx context.Context, c domain.Consent) (domain.Consent, error)
	GetConsent(ctx context.Context, userID, clientID string) (domain.Consent, error)
	ListConsents(ctx context.Context, userID string) ([]domain.Consent, error)
	DeleteConsent(ctx context.Context, userID, clientID string) error
}

// WrappedKeys keeps stage-wide keys as KMS ciphertexts (domain.WrappedKey),
// one item per name, written once.
//
//   - CreateWrappedKey stores k, or fails with ErrAlreadyExists when the
//     name is taken, leaving the stored key as it was: of concurrent
//     creates exactly one succeeds. A key without a valid name
//     (domain.ValidID), KMS key id or ciphertext is refused.
//   - GetWrappedKey fails with ErrNotFound on a miss; a name no key can
//     have is a miss.
type WrappedKeys interface {
	GetWrappedKey(ctx context.Context, name string) (domain.WrappedKey, error)
	CreateWrappedKey(ctx context.Context, k domain.WrappedKey) error
}

// CheckWrappedKey validates the argument of CreateWrappedKey, for every
// implementation.
func CheckWrappedKey(k domain.WrappedKey) error {
	if !domain.ValidID(k.Name) {
		return fmt.Errorf("storage: wrapped key name %q is not 1 to %d visible ASCII characters", k.Name, domain.MaxIDLength)
	}
	if k.KMSKeyID == "" || len(k.Ciphertext) == 0 {
		return fmt.Errorf("storage: wrapped key %q has no KMS key id or no ciphertext", k.Name)
	}
	return nil
}
