package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// AccessTokenType is the JWS "typ" of access tokens, RFC 9068 §2.1:
// "Resource servers MUST verify that the typ header value is at+jwt".
const AccessTokenType = "at+jwt"

// AccessClaims are the claims of an RFC 9068 access token, plus org_id.
type AccessClaims struct {
	Issuer   string               `json:"iss"`
	Subject  string               `json:"sub"`
	Audience josejwt.Audience     `json:"aud"`
	Expiry   *josejwt.NumericDate `json:"exp"`
	IssuedAt *josejwt.NumericDate `json:"iat"`
	// NotBefore is never set by orgauth; a token that has one is checked.
	NotBefore *josejwt.NumericDate `json:"nbf,omitempty"`
	ID        string               `json:"jti"`
	ClientID  string               `json:"client_id"`
	// Scope is space-separated, RFC 9068 §2.2.3; omitted when empty.
	Scope string `json:"scope,omitempty"`
	OrgID string `json:"org_id"`
	// AuthTime is set for tokens issued to a signed-in user.
	AuthTime *josejwt.NumericDate `json:"auth_time,omitempty"`
}

// AccessRequest is what the issuer needs to mint one access token.
type AccessRequest struct {
	Subject  string // user id, or the client id for M2M tokens
	ClientID string
	OrgID    string
	Audience string
	Scopes   []string
	Lifetime time.Duration
	AuthTime time.Time // zero for M2M
	// ID is the jti; empty for a fresh random one. A caller that must
	// record the id before the token exists (a code redemption, so that a
	// replay can revoke it) chooses it.
	ID string
}

// Issuer mints JWTs signed by the active key of a KeySet.
type Issuer struct {
	issuer  string
	keys    KeySet
	now     func() time.Time
	newID   func() string
	headers sync.Map // headerKey -> base64url protected header
}

// NewIssuer returns an issuer for the given "iss". now and newID may be nil
// for the wall clock and random ids.
func NewIssuer(issuer string, keys KeySet, now func() time.Time, newID func() string) *Issuer {
	if now == nil {
		now = time.Now
	}
	if newID == nil {
		newID = randomID
	}
	return &Issuer{issuer: issuer, keys: keys, now: now, newID: newID}
}

// Issuer returns the "iss" this issuer signs with.
func (i *Issuer) Issuer() string { return i.issuer }

// AccessToken signs an RFC 9068 access token and returns it with its claims.
func (i *Issuer) AccessToken(ctx context.Context, r AccessRequest) (string, AccessClaims, error) {
	if r.Lifetime <= 0 {
		return "", AccessClaims{}, errors.New("token: access token lifetime must be positive")
	}
	now := i.now().Truncate(time.Second)
	if r.ID == "" {
		r.ID = i.newID()
	}
	c := AccessClaims{
		Issuer:   i.issuer,
		Subject:  r.Subject,
		Audience: josejwt.Audience{r.Audience},
		IssuedAt: josejwt.NewNumericDate(now),
		Expiry:   josejwt.NewNumericDate(now.Add(r.Lifetime)),
		ID:       r.ID,
		ClientID: r.ClientID,
		Scope:    strings.Join(r.Scopes, " "),
		OrgID:    r.OrgID,
	}
	if !r.AuthTime.IsZero() {
		c.AuthTime = josejwt.NewNumericDate(r.AuthTime)
	}
	raw, err := i.sign(ctx, AccessTokenType, c.wire())
	if err != nil {
		return "", AccessClaims{}, err
	}
	return raw, c, nil
}

// accessWire is AccessClaims as its JSON has it: the same names, order and
// omissions, each date as its seconds and the one audience as a string.
// encoding/json writes it without calling go-jose's marshalers (NumericDate,
// Audience) value by value and checking what each returns, which was half
// of a token's claims cost. TestSignIsGoJoses compares the bytes with
// AccessClaims marshalled by encoding/json.
type accessWire struct {
	Issuer    string `json:"iss"`
	Subject   string `json:"sub"`
	Audience  string `json:"aud"`
	Expiry    int64  `json:"exp"`
	IssuedAt  int64  `json:"iat"`
	NotBefore int64  `json:"nbf,omitempty"`
	ID        string `json:"jti"`
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope,omitempty"`
	OrgID     string `json:"org_id"`
	AuthTime  int64  `json:"auth_time,omitempty"`
}

// wire is what sign marshals for c: accessWire for the claims orgauth
// issues (one audience, both dates), c itself otherwise: where the mirror
// would write other bytes (a date at the epoch, which it would omit, and
// an audience with a backspace or form feed, which go-jose's own JSON
// escapes differently).
func (c AccessClaims) wire() any {
	epoch := func(d *josejwt.NumericDate) bool { return d != nil && *d == 0 }
	if len(c.Audience) != 1 || c.Expiry == nil || c.IssuedAt == nil || epoch(c.NotBefore) || epoch(c.AuthTime) ||
		strings.ContainsAny(c.Audience[0], "\b\f") {
		return c
	}
	seconds := func(d *josejwt.NumericDate) int64 {
		if d == nil {
			return 0
		}
		return int64(*d)
	}
	return accessWire{Issuer: c.Issuer, Subject: c.Subject, Audience: c.Audience[0], Expiry: int64(*c.Expiry), IssuedAt: int64(*c.IssuedAt),
		NotBefore: seconds(c.NotBefore), ID: c.ID, ClientID: c.ClientID, Scope: c.Scope, OrgID: c.OrgID, AuthTime: seconds(c.AuthTime)}
}

// sign makes the compact JWS (RFC 7515 §7.1) of claims with the active
// key: the protected header, the claims and the signature, each base64url
// and joined by dots. The header is go-jose's, made once for each key and
// typ (header); it never changes, and go-jose's Signer would marshal it
// through its reflection-based JSON twice for every token, the largest
// part of the token endpoint's own CPU (make bench). A token then costs
// one marshal of its claims, base64 and the key's signature of the
// SHA-256 of the signing input (RS256 and ES256 both sign SHA-256, RFC
// 7518 §3.3, §3.4). TestSignIsGoJoses holds it to go-jose's Signer, byte
// for byte.
func (i *Issuer) sign(ctx context.Context, typ string, claims any) (string, error) {
	key, err := i.keys.Active(ctx)
	if err != nil {
		return "", fmt.Errorf("token: active key: %w", err)
	}
	header, err := i.header(key.Public(), typ)
	if err != nil {
		return "", err
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("token: claims: %w", err)
	}
	enc := base64.RawURLEncoding
	b := make([]byte, 0, len(header)+1+enc.EncodedLen(len(payload))+1+enc.EncodedLen(512))
	b = append(append(b, header...), '.')
	b = enc.AppendEncode(b, payload)
	digest := sha256.Sum256(b)
	sig, err := key.SignDigest(ctx, digest[:])
	if err != nil {
		return "", fmt.Errorf("token: sign: %w", err)
	}
	return string(enc.AppendEncode(append(b, '.'), sig)), nil
}

// headerKey names one protected header: a key's kid and alg, and a typ.
type headerKey struct{ kid, alg, typ string }

// header is the base64url protected header that go-jose writes for pub's
// key and typ, made by signing an empty payload with a stand-in signature
// and kept for the next tokens.
func (i *Issuer) header(pub jose.JSONWebKey, typ string) (string, error) {
	k := headerKey{pub.KeyID, pub.Algorithm, typ}
	if h, ok := i.headers.Load(k); ok {
		return h.(string), nil
	}
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(pub.Algorithm), Key: opaqueSigner{pub: pub}},
		(&jose.SignerOptions{}).WithType(jose.ContentType(typ)),
	)
	if err != nil {
		return "", fmt.Errorf("token: signer: %w", err)
	}
	jws, err := signer.Sign(nil)
	if err != nil {
		return "", fmt.Errorf("token: header: %w", err)
	}
	raw, err := jws.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("token: header: %w", err)
	}
	h, _, _ := strings.Cut(raw, ".")
	i.headers.Store(k, h)
	return h, nil
}

// opaqueSigner stands in for a key in go-jose's Signer, to have it write
// the protected header (Issuer.header); its signature is a placeholder.
type opaqueSigner struct{ pub jose.JSONWebKey }

var _ jose.OpaqueSigner = opaqueSigner{}

func (s opaqueSigner) Public() *jose.JSONWebKey { p := s.pub; return &p }

func (s opaqueSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.pub.Algorithm)}
}

func (s opaqueSigner) SignPayload(_ []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if string(alg) != s.pub.Algorithm {
		return nil, jose.ErrUnsupportedAlgorithm
	}
	return []byte{0}, nil
}

// ActiveKeyID is the kid the next token will be signed with. It reads the
// key set's cached active key and makes no signature.
func (i *Issuer) ActiveKeyID(ctx context.Context) (string, error) {
	key, err := i.keys.Active(ctx)
	if err != nil {
		return "", fmt.Errorf("token: active key: %w", err)
	}
	return key.Public().KeyID, nil
}
