package dynamo

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// Sign-in flow items (see doc.go for the others):
//
//	entity   pk                 sk      gsi1pk          gsi1sk
//	code     CODE#<hash>        CODE    -               -
//	family   FAMILY#<id>        FAMILY  CLIENT#<client_id>#FAMILIES  <created_at>#<id>
//	refresh  RT#<hash>          RT      FAMILY#<id>     <issued_at>#<hash>
//	jti      JTI#<jti>          JTI     -               -
//
// <hash> is the base64url SHA-256 of the code or token. Every item carries
// the TTL attribute expires_at (epoch seconds); since TTL deletion is lazy,
// every read checks validity itself. A code keeps its item for
// CodeRetention past its expiry, so that a late replay is still recognized
// (and revokes what the code issued) rather than looking unknown.
const CodeRetention = 24 * time.Hour

const (
	attrValidUntil = "valid_until"
	attrRedeemedAt = "redeemed_at"
	attrReplayedAt = "replayed_at"
	attrRotatedAt  = "rotated_at"
)

func codeKey(hash []byte) (string, string) { return "CODE#" + b64(hash), "CODE" }
func familyKey(id string) (string, string) { return "FAMILY#" + id, "FAMILY" }
func refreshKey(hash []byte) (string, string) {
	return "RT#" + b64(hash), "RT"
}
func jtiKey(jti string) (string, string) { return "JTI#" + jti, "JTI" }
func familyTokensPK(id string) string    { return "FAMILY#" + id + "#TOKENS" }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// ttl sets expires_at to at, rounded up to the second: the validity checks
// against the item's own times stay exact, and TTL never deletes early.
func (e encoder) ttl(at time.Time) {
	sec := at.Unix()
	if at.Nanosecond() != 0 {
		sec++
	}
	e.int(TTLAttribute, sec)
}

// ---------------------------------------------------------------- codes

func codeItem(c domain.AuthorizationCode) itemMap {
	e := encoder{}
	pk, sk := codeKey(c.Hash)
	e.keys(pk, sk, "", "", "code")
	e.bytes("hash", c.Hash)
	e.str("client_id", c.ClientID)
	e.str(attrUserID, c.UserID)
	e.str("org_id", c.OrganizationID)
	e.str("redirect_uri", c.RedirectURI)
	e.str("code_challenge", c.CodeChallenge)
	e.str("nonce", c.Nonce)
	e.list("scopes", c.Scopes)
	e.str("audience", c.Audience)
	e.time("auth_time", c.AuthTime)
	e.str("session_id", c.SessionID)
	e.time(attrValidUntil, c.ExpiresAt)
	e.time(attrRedeemedAt, c.RedeemedAt)
	e.time(attrReplayedAt, c.ReplayedAt)
	e.str("issued_family_id", c.IssuedFamilyID)
	e.list("issued_jtis", c.IssuedAccessJTIs)
	e.ttl(c.ExpiresAt.Add(CodeRetention))
	return e
}

func codeFromItem(item itemMap) (domain.AuthorizationCode, error) {
	d := decoder{item: item}
	c := domain.AuthorizationCode{
		Hash:             d.bytes("hash"),
		ClientID:         d.str("client_id"),
		UserID:           d.str(attrUserID),
		OrganizationID:   d.str("org_id"),
		RedirectURI:      d.str("redirect_uri"),
		CodeChallenge:    d.str("code_challenge"),
		Nonce:            d.str("nonce"),
		Scopes:           d.list("scopes"),
		Audience:         d.str("audience"),
		AuthTime:         d.time("auth_time"),
		SessionID:        d.str("session_id"),
		ExpiresAt:        d.time(attrValidUntil),
		RedeemedAt:       d.time(attrRedeemedAt),
		ReplayedAt:       d.time(attrReplayedAt),
		IssuedFamilyID:   d.str("issued_family_id"),
		IssuedAccessJTIs: d.list("issued_jtis"),
	}
	return c, d.err
}

// CreateCode stores a new authorization code.
func (s *Store) CreateCode(ctx context.Context, c domain.AuthorizationCode) error {
	if len(c.Hash) == 0 || c.ClientID == "" {
		return errors.New("dynamo: code hash or client id is empty")
	}
	c.RedeemedAt, c.ReplayedAt, c.IssuedFamilyID, c.IssuedAccessJTIs = time.Time{}, time.Time{}, "", nil
	if err := s.putNew(ctx, codeItem(c)); err != nil {
		return fmt.Errorf("dynamo: create code: %w", err)
	}
	return nil
}

// RedeemCode marks a code redeemed with one conditional UpdateItem: it
// succeeds for exactly one caller, while the code is unexpired. A losing
// caller reads the item to tell a replay (ErrAlreadyUsed, with the code)
// from an unknown or expired code (ErrNotFound).
func (s *Store) RedeemCode(ctx context.Context, hash []byte, now time.Time) (domain.AuthorizationCode, error) {
	pk, sk := codeKey(hash)
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET " + attrRedeemedAt + " = :now"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(" + attrRedeemedAt + ") AND " + attrValidUntil + " > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: now.UTC().Format(timeLayout)},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err == nil {
		return codeFromItem(out.Attributes)
	}
	if !isConditionFailed(err) {
		return domain.AuthorizationCode{}, fmt.Errorf("dynamo: redeem code: %w", err)
	}
	// A replay: mark the code replayed, in the same write that reads what
	// the first redemption recorded, so that either this replay sees the
	// record (and revokes it) or the record fails (RecordCodeIssue).
	out, err = s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET " + attrReplayedAt + " = if_not_exists(" + attrReplayedAt + ", :now)"),
		ConditionExpression: aws.String("attribute_exists(" + attrRedeemedAt + ")"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: now.UTC().Format(timeLayout)},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if isConditionFailed(err) { // unknown, or never redeemed and expired
		return domain.AuthorizationCode{}, fmt.Errorf("dynamo: redeem code: %w", domain.ErrNotFound)
	}
	if err != nil {
		return domain.AuthorizationCode{}, fmt.Errorf("dynamo: redeem code: %w", err)
	}
	if ttlPassed(out.Attributes, now) {
		return domain.AuthorizationCode{}, fmt.Errorf("dynamo: redeem code: %w", domain.ErrNotFound)
	}
	c, err := codeFromItem(out.Attributes)
	if err != nil {
		return domain.AuthorizationCode{}, err
	}
	return c, fmt.Errorf("dynamo: redeem code: %w", domain.ErrAlreadyUsed)
}

// RecordCodeIssue notes what a redeemed code issued.
func (s *Store) RecordCodeIssue(ctx context.Context, hash []byte, familyID string, jtis []string) error {
	e := encoder{}
	e.str(":f", familyID)
	e.list(":j", jtis)
	set, remove := []string{}, []string{}
	for name, attr := range map[string]string{":f": "issued_family_id", ":j": "issued_jtis"} {
		if _, ok := e[name]; ok {
			set = append(set, attr+" = "+name)
		} else {
			remove = append(remove, attr)
		}
	}
	expr := ""
	if len(set) > 0 {
		expr = "SET " + join(set)
	}
	if len(remove) > 0 {
		expr += " REMOVE " + join(remove)
	}
	in := &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(codeKey(hash)),
		UpdateExpression:    aws.String(expr),
		ConditionExpression: aws.String("attribute_exists(" + attrRedeemedAt + ") AND attribute_not_exists(" + attrReplayedAt + ")"),
	}
	if len(e) > 0 {
		in.ExpressionAttributeValues = e
	}
	_, err := s.client.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		err = domain.ErrNotFound
		pk, sk := codeKey(hash)
		if item, gerr := s.getItem(ctx, pk, sk, time.Time{}); gerr == nil {
			if c, _ := codeFromItem(item); !c.ReplayedAt.IsZero() {
				err = fmt.Errorf("replayed: %w", domain.ErrAlreadyUsed)
			}
		} else if !errors.Is(gerr, domain.ErrNotFound) {
			err = gerr
		}
	}
	if err != nil {
		return fmt.Errorf("dynamo: record code issue: %w", err)
	}
	return nil
}

func join(parts []string) string { return strings.Join(parts, ", ") }

// getItem reads an item consistently and treats one whose TTL has passed
// as missing (ErrNotFound).
func (s *Store) getItem(ctx context.Context, pk, sk string, now time.Time) (itemMap, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(pk, sk), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return nil, err
	}
	if out.Item == nil || ttlPassed(out.Item, now) {
		return nil, domain.ErrNotFound
	}
	return out.Item, nil
}

func ttlPassed(item itemMap, now time.Time) bool {
	d := decoder{item: item}
	exp := d.int(TTLAttribute)
	return d.err != nil || (exp != 0 && !now.Before(time.Unix(exp, 0)))
}

// ---------------------------------------------------------------- refresh families

func familyItem(f domain.RefreshFamily) itemMap {
	e := encoder{}
	pk, sk := familyKey(f.ID)
	e.keys(pk, sk, clientFamiliesPK(f.ClientID), storage.CreationKey(f.CreatedAt, f.ID), "family")
	e.str("id", f.ID)
	e.str("client_id", f.ClientID)
	e.str(attrUserID, f.UserID)
	e.str("org_id", f.OrganizationID)
	e.str("session_id", f.SessionID)
	e.time("created_at", f.CreatedAt)
	e.time(attrValidUntil, f.ExpiresAt)
	e.bool("revoked", f.Revoked)
	e.time("revoked_at", f.RevokedAt)
	e.ttl(f.ExpiresAt)
	return e
}

func familyFromItem(item itemMap) (domain.RefreshFamily, error) {
	d := decoder{item: item}
	f := domain.RefreshFamily{
		ID:             d.str("id"),
		ClientID:       d.str("client_id"),
		UserID:         d.str(attrUserID),
		OrganizationID: d.str("org_id"),
		SessionID:      d.str("session_id"),
		CreatedAt:      d.time("created_at"),
		ExpiresAt:      d.time(attrValidUntil),
		Revoked:        d.bool("revoked"),
		RevokedAt:      d.time("revoked_at"),
	}
	return f, d.err
}

func (s *Store) CreateRefreshFamily(ctx context.Context, f domain.RefreshFamily) error {
	if f.ID == "" {
		return errors.New("dynamo: refresh family id is empty")
	}
	// The user's entry first: a family is never written without it (see
	// authz.go). A leftover entry from an earlier attempt is fine.
	if f.UserID != "" {
		if err := s.putNew(ctx, userFamilyItem(f)); err != nil && !errors.Is(err, domain.ErrAlreadyExists) {
			return fmt.Errorf("dynamo: create refresh family: user entry: %w", err)
		}
	}
	if err := s.putNew(ctx, familyItem(f)); err != nil {
		return fmt.Errorf("dynamo: create refresh family: %w", err)
	}
	return nil
}

func (s *Store) GetRefreshFamily(ctx context.Context, id string, now time.Time) (domain.RefreshFamily, error) {
	pk, sk := familyKey(id)
	item, err := s.getItem(ctx, pk, sk, now)
	if err != nil {
		return domain.RefreshFamily{}, fmt.Errorf("dynamo: get refresh family: %w", err)
	}
	f, err := familyFromItem(item)
	if err == nil && !now.Before(f.ExpiresAt) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return domain.RefreshFamily{}, fmt.Errorf("dynamo: get refresh family: %w", err)
	}
	return f, nil
}

// RevokeRefreshFamily sets revoked; the first revocation time is kept.
func (s *Store) RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(familyKey(id)),
		UpdateExpression:    aws.String("SET revoked = :t, revoked_at = if_not_exists(revoked_at, :now)"),
		ConditionExpression: aws.String("attribute_exists(pk)"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":t":   &types.AttributeValueMemberBOOL{Value: true},
			":now": &types.AttributeValueMemberS{Value: now.UTC().Format(timeLayout)},
		},
	})
	if isConditionFailed(err) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("dynamo: revoke refresh family %q: %w", id, err)
	}
	return nil
}

// ---------------------------------------------------------------- refresh tokens

func refreshItem(r domain.RefreshToken) itemMap {
	e := encoder{}
	pk, sk := refreshKey(r.Hash)
	e.keys(pk, sk, familyTokensPK(r.FamilyID), storage.CreationKey(r.IssuedAt, b64(r.Hash)), "refresh")
	e.bytes("hash", r.Hash)
	e.str("family_id", r.FamilyID)
	e.str("client_id", r.ClientID)
	e.str(attrUserID, r.UserID)
	e.str("org_id", r.OrganizationID)
	e.list("scopes", r.Scopes)
	e.str("audience", r.Audience)
	e.time("auth_time", r.AuthTime)
	e.time("issued_at", r.IssuedAt)
	e.time("idle_expires_at", r.IdleExpiresAt)
	e.time(attrValidUntil, r.AbsoluteExpiresAt)
	e.time(attrRotatedAt, r.RotatedAt)
	e.str("access_jti", r.AccessTokenID)
	e.time("access_expires_at", r.AccessTokenExpiresAt)
	e.ttl(r.AbsoluteExpiresAt)
	return e
}

func refreshFromItem(item itemMap) (domain.RefreshToken, error) {
	d := decoder{item: item}
	r := domain.RefreshToken{
		Hash:                 d.bytes("hash"),
		FamilyID:             d.str("family_id"),
		ClientID:             d.str("client_id"),
		UserID:               d.str(attrUserID),
		OrganizationID:       d.str("org_id"),
		Scopes:               d.list("scopes"),
		Audience:             d.str("audience"),
		AuthTime:             d.time("auth_time"),
		IssuedAt:             d.time("issued_at"),
		IdleExpiresAt:        d.time("idle_expires_at"),
		AbsoluteExpiresAt:    d.time(attrValidUntil),
		RotatedAt:            d.time(attrRotatedAt),
		AccessTokenID:        d.str("access_jti"),
		AccessTokenExpiresAt: d.time("access_expires_at"),
	}
	return r, d.err
}

func (s *Store) CreateRefreshToken(ctx context.Context, r domain.RefreshToken) error {
	if len(r.Hash) == 0 || r.FamilyID == "" {
		return errors.New("dynamo: refresh token hash or family id is empty")
	}
	if err := s.putNew(ctx, refreshItem(r)); err != nil {
		return fmt.Errorf("dynamo: create refresh token: %w", err)
	}
	return nil
}

func (s *Store) GetRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error) {
	pk, sk := refreshKey(hash)
	item, err := s.getItem(ctx, pk, sk, now)
	if err != nil {
		return domain.RefreshToken{}, fmt.Errorf("dynamo: get refresh token: %w", err)
	}
	r, err := refreshFromItem(item)
	if err == nil && !now.Before(r.AbsoluteExpiresAt) {
		err = domain.ErrNotFound
	}
	if err != nil {
		return domain.RefreshToken{}, fmt.Errorf("dynamo: get refresh token: %w", err)
	}
	return r, nil
}

// RotateRefreshToken marks a token rotated with one conditional UpdateItem,
// which exactly one caller wins.
func (s *Store) RotateRefreshToken(ctx context.Context, hash []byte, now time.Time) (domain.RefreshToken, error) {
	pk, sk := refreshKey(hash)
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           &s.table,
		Key:                 key(pk, sk),
		UpdateExpression:    aws.String("SET " + attrRotatedAt + " = :now"),
		ConditionExpression: aws.String("attribute_exists(pk) AND attribute_not_exists(" + attrRotatedAt + ") AND " + attrValidUntil + " > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":now": &types.AttributeValueMemberS{Value: now.UTC().Format(timeLayout)},
		},
		ReturnValues: types.ReturnValueAllNew,
	})
	if err == nil {
		return refreshFromItem(out.Attributes)
	}
	if !isConditionFailed(err) {
		return domain.RefreshToken{}, fmt.Errorf("dynamo: rotate refresh token: %w", err)
	}
	r, err := s.GetRefreshToken(ctx, hash, now)
	if err != nil {
		return domain.RefreshToken{}, err
	}
	if r.RotatedAt.IsZero() {
		return domain.RefreshToken{}, fmt.Errorf("dynamo: rotate refresh token: %w", domain.ErrNotFound)
	}
	return r, fmt.Errorf("dynamo: rotate refresh token: %w", domain.ErrAlreadyUsed)
}

// ListRefreshTokens queries gsi1, so it may lag a write on AWS.
func (s *Store) ListRefreshTokens(ctx context.Context, familyID string) ([]domain.RefreshToken, error) {
	return queryAll(ctx, s, familyTokensPK(familyID), refreshFromItem)
}

// ---------------------------------------------------------------- revoked jtis

// RevokeJTI records a revoked access token until it expires anyway.
func (s *Store) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return errors.New("dynamo: jti is empty")
	}
	e := encoder{}
	pk, sk := jtiKey(jti)
	e.keys(pk, sk, "", "", "jti")
	e.str("jti", jti)
	e.ttl(expiresAt)
	err := s.putNew(ctx, e)
	if errors.Is(err, domain.ErrAlreadyExists) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("dynamo: revoke jti: %w", err)
	}
	return nil
}

func (s *Store) IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error) {
	pk, sk := jtiKey(jti)
	_, err := s.getItem(ctx, pk, sk, now)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("dynamo: read revoked jti: %w", err)
	}
	return true, nil
}
