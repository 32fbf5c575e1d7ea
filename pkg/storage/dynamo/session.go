package dynamo

// Login transactions, sessions and failure counters: the browser sign-in's
// items. Each carries expires_at (epoch seconds, the table's TTL attribute)
// and its exact expiry, which every read checks itself: TTL deletion is lazy
// on AWS and never happens on the emulators.
//
//	entity   pk                          sk             expires_at
//	logintx  LOGINTX#<id>                LOGINTX        end of the transaction
//	session  SESSION#<base64url(hash)>   SESSION        end of the session
//
// A session of a user is also on gsi1: gsi1pk USER#<user_id>#SESSIONS,
// gsi1sk <created_at>#<id>, for ListUserSessions.
//	rate     RATE#<key>                  <window start> end of the window

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

const (
	attrExpiresAt = "expires_at" // epoch seconds: the table's TTL
	attrExpires   = "expires"    // exact expiry, checked on every read
	attrCount     = "count"
)

func loginTxKey(id string) (pk, sk string) { return "LOGINTX#" + id, "LOGINTX" }
func sessionKey(hash []byte) (pk, sk string) {
	return "SESSION#" + base64.RawURLEncoding.EncodeToString(hash), "SESSION"
}

// ttl is the TTL attribute for an expiry: rounded up, so the item is never
// deleted before it expires.
func ttl(t time.Time) types.AttributeValue {
	s := t.Unix()
	if t.Nanosecond() > 0 {
		s++
	}
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(s, 10)}
}

func epoch(t time.Time) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(t.Unix(), 10)}
}

// ---------------------------------------------------------------- login transactions

func loginTxItem(tx domain.LoginTransaction) itemMap {
	e := encoder{}
	pk, sk := loginTxKey(tx.ID)
	e.keys(pk, sk, "", "", "logintx")
	e.str("id", tx.ID)
	e.str("client_id", tx.ClientID)
	e.str("redirect_uri", tx.RedirectURI)
	e.str("state", tx.State)
	e.str("nonce", tx.Nonce)
	e.str("code_challenge", tx.CodeChallenge)
	e.list("scopes", tx.Scopes)
	e.str("audience", tx.Audience)
	e.str("prompt", tx.Prompt)
	e.str("login_hint", tx.LoginHint)
	e.str("response_mode", tx.ResponseMode)
	e.int("max_age", tx.MaxAge)
	e.bytes("csrf_hash", tx.CSRFHash)
	e.str("org_id", tx.OrganizationID)
	e.str("user_id", tx.UserID)
	e.time("created_at", tx.CreatedAt)
	e.time(attrExpires, tx.ExpiresAt)
	e[attrExpiresAt] = ttl(tx.ExpiresAt)
	return e
}

func loginTxFromItem(item itemMap) (domain.LoginTransaction, error) {
	d := decoder{item: item}
	tx := domain.LoginTransaction{
		ID:             d.str("id"),
		ClientID:       d.str("client_id"),
		RedirectURI:    d.str("redirect_uri"),
		State:          d.str("state"),
		Nonce:          d.str("nonce"),
		CodeChallenge:  d.str("code_challenge"),
		Scopes:         d.list("scopes"),
		Audience:       d.str("audience"),
		Prompt:         d.str("prompt"),
		LoginHint:      d.str("login_hint"),
		ResponseMode:   d.str("response_mode"),
		MaxAge:         d.int("max_age"),
		CSRFHash:       d.bytes("csrf_hash"),
		OrganizationID: d.str("org_id"),
		UserID:         d.str("user_id"),
		CreatedAt:      d.time("created_at"),
		ExpiresAt:      d.time(attrExpires),
	}
	return tx, d.err
}

// CreateLoginTransaction stores a new login transaction.
func (s *Store) CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error {
	if tx.ID == "" || tx.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamo: login transaction without id or expiry")
	}
	if err := s.putNew(ctx, loginTxItem(tx)); err != nil {
		return fmt.Errorf("dynamo: create login transaction: %w", err)
	}
	return nil
}

// GetLoginTransaction reads a login transaction that has not expired at now.
func (s *Store) GetLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	tx, err := get(ctx, s, "login transaction", id, loginTxKey, loginTxFromItem)
	if err != nil {
		return tx, err
	}
	if !now.Before(tx.ExpiresAt) {
		return domain.LoginTransaction{}, fmt.Errorf("dynamo: login transaction expired: %w", domain.ErrNotFound)
	}
	return tx, nil
}

// ConsumeLoginTransaction deletes the transaction and returns what it held,
// in one conditional DeleteItem: of concurrent calls, one gets the item.
func (s *Store) ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	return consume(ctx, s, "login transaction", id, now, loginTxKey, loginTxFromItem,
		func(tx domain.LoginTransaction) time.Time { return tx.ExpiresAt })
}

// consume deletes a single-use item that has not expired at now and
// returns what it held, in one conditional DeleteItem with ReturnValues:
// of concurrent calls, exactly one gets it; the others, and calls with an
// unknown, expired or malformed id, get domain.ErrNotFound.
func consume[T any](ctx context.Context, s *Store, kind, id string, now time.Time,
	keyOf func(string) (string, string), decode func(itemMap) (T, error), expires func(T) time.Time,
) (T, error) {
	var zero T
	if !domain.ValidID(id) {
		return zero, fmt.Errorf("dynamo: consume %s: malformed id: %w", kind, domain.ErrNotFound)
	}
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                 &s.table,
		Key:                       key(keyOf(id)),
		ConditionExpression:       aws.String("attribute_exists(pk) AND expires_at > :now"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": epoch(now)},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if isConditionFailed(err) {
		return zero, fmt.Errorf("dynamo: consume %s: %w", kind, domain.ErrNotFound)
	}
	if err != nil {
		return zero, fmt.Errorf("dynamo: consume %s: %w", kind, err)
	}
	v, err := decode(out.Attributes)
	if err != nil {
		return zero, fmt.Errorf("dynamo: consume %s: %w", kind, err)
	}
	// expires_at has whole seconds; the exact expiry decides.
	if !now.Before(expires(v)) {
		return zero, fmt.Errorf("dynamo: %s expired: %w", kind, domain.ErrNotFound)
	}
	return v, nil
}

// ---------------------------------------------------------------- sessions

func sessionItem(ss domain.Session) itemMap {
	e := encoder{}
	pk, sk := sessionKey(ss.Hash)
	if ss.UserID != "" {
		e.keys(pk, sk, userSessionsPK(ss.UserID), storage.CreationKey(ss.CreatedAt, ss.ID), "session")
	} else {
		e.keys(pk, sk, "", "", "session")
	}
	e.bytes("hash", ss.Hash)
	e.str("id", ss.ID)
	e.str(attrUserID, ss.UserID)
	e.str("org_id", ss.OrganizationID)
	e.time("auth_time", ss.AuthTime)
	e.str("auth_method", ss.AuthMethod)
	e.str("auth_issuer", ss.AuthIssuer)
	e.time("created_at", ss.CreatedAt)
	e.time(attrExpires, ss.ExpiresAt)
	e[attrExpiresAt] = ttl(ss.ExpiresAt)
	return e
}

func sessionFromItem(item itemMap) (domain.Session, error) {
	d := decoder{item: item}
	ss := domain.Session{
		Hash:           d.bytes("hash"),
		ID:             d.str("id"),
		UserID:         d.str(attrUserID),
		OrganizationID: d.str("org_id"),
		AuthTime:       d.time("auth_time"),
		AuthMethod:     d.str("auth_method"),
		AuthIssuer:     d.str("auth_issuer"),
		CreatedAt:      d.time("created_at"),
		ExpiresAt:      d.time(attrExpires),
	}
	return ss, d.err
}

// CreateSession stores a new session under the hash of its cookie value.
func (s *Store) CreateSession(ctx context.Context, ss domain.Session) error {
	if len(ss.Hash) == 0 || ss.ExpiresAt.IsZero() {
		return fmt.Errorf("dynamo: session without hash or expiry")
	}
	if err := s.putNew(ctx, sessionItem(ss)); err != nil {
		return fmt.Errorf("dynamo: create session: %w", err)
	}
	return nil
}

// GetSession reads the session whose cookie value hashes to hash, if it has
// not expired at now.
func (s *Store) GetSession(ctx context.Context, hash []byte, now time.Time) (domain.Session, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName: &s.table, Key: key(sessionKey(hash)), ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return domain.Session{}, fmt.Errorf("dynamo: get session: %w", err)
	}
	if out.Item == nil {
		return domain.Session{}, fmt.Errorf("dynamo: get session: %w", domain.ErrNotFound)
	}
	ss, err := sessionFromItem(out.Item)
	if err != nil {
		return ss, fmt.Errorf("dynamo: get session: %w", err)
	}
	if !now.Before(ss.ExpiresAt) {
		return domain.Session{}, fmt.Errorf("dynamo: session expired: %w", domain.ErrNotFound)
	}
	return ss, nil
}

// DeleteSession deletes the session whose cookie value hashes to hash.
func (s *Store) DeleteSession(ctx context.Context, hash []byte) error {
	return s.deleteExisting(ctx, "session", key(sessionKey(hash)))
}

// ---------------------------------------------------------------- failure counters

// rateKey is the counter of key in the fixed window containing now, and the
// window's end.
func rateKey(key string, window time.Duration, now time.Time) (map[string]types.AttributeValue, time.Time) {
	w := int64(window / time.Second)
	start := now.Unix() - now.Unix()%w
	return map[string]types.AttributeValue{
		attrPK: &types.AttributeValueMemberS{Value: "RATE#" + key},
		attrSK: &types.AttributeValueMemberS{Value: strconv.FormatInt(start, 10)},
	}, time.Unix(start+w, 0)
}

// CountFailure adds one to key's counter in the current window with one
// UpdateItem ADD, which DynamoDB applies atomically, and returns the count.
func (s *Store) CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window < time.Second {
		return 0, fmt.Errorf("dynamo: failure window %v is under a second", window)
	}
	k, end := rateKey(key, window, now)
	return s.addCount(ctx, "count failure", k, 1, epoch(end), "rate")
}

// addCount adds delta to the count of item k with one UpdateItem ADD,
// which DynamoDB applies atomically, sets its expires_at and entity, and
// returns the count after.
func (s *Store) addCount(ctx context.Context, what string, k itemMap, delta int64, expiresAt types.AttributeValue, entity string) (int64, error) {
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:        &s.table,
		Key:              k,
		UpdateExpression: aws.String("ADD #count :delta SET expires_at = :end, #entity = :entity"),
		ExpressionAttributeNames: map[string]string{
			"#count": attrCount, "#entity": attrEntity,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":delta":  &types.AttributeValueMemberN{Value: strconv.FormatInt(delta, 10)},
			":end":    expiresAt,
			":entity": &types.AttributeValueMemberS{Value: entity},
		},
		ReturnValues: types.ReturnValueUpdatedNew,
	})
	if err != nil {
		return 0, fmt.Errorf("dynamo: %s: %w", what, err)
	}
	d := decoder{item: out.Attributes}
	n := d.int(attrCount)
	if d.err != nil {
		return 0, fmt.Errorf("dynamo: %s: %w", what, d.err)
	}
	return n, nil
}

// ForgetFailure takes back one count of key in the current window: an
// attempt counted before it was checked that turned out not to be a
// failure. It never takes a counter below zero.
func (s *Store) ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error {
	if window < time.Second {
		return fmt.Errorf("dynamo: failure window %v is under a second", window)
	}
	k, _ := rateKey(key, window, now)
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 &s.table,
		Key:                       k,
		UpdateExpression:          aws.String("ADD #count :minus"),
		ConditionExpression:       aws.String("#count > :zero"),
		ExpressionAttributeNames:  map[string]string{"#count": attrCount},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": &types.AttributeValueMemberN{Value: "-1"}, ":zero": &types.AttributeValueMemberN{Value: "0"}},
	})
	if err != nil && !isConditionFailed(err) {
		return fmt.Errorf("dynamo: forget failure: %w", err)
	}
	return nil
}

// Failures reads key's counter in the current window (0 when there is none).
func (s *Store) Failures(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	if window < time.Second {
		return 0, fmt.Errorf("dynamo: failure window %v is under a second", window)
	}
	k, end := rateKey(key, window, now)
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return 0, fmt.Errorf("dynamo: read failures: %w", err)
	}
	if out.Item == nil || !now.Before(end) {
		return 0, nil
	}
	d := decoder{item: out.Item}
	n := d.int(attrCount)
	if d.err != nil {
		return 0, fmt.Errorf("dynamo: read failures: %w", d.err)
	}
	return n, nil
}
