package jwt

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// ErrInvalidToken is returned for any token that does not verify. The reason
// is wrapped for logs; callers must not show it to the client.
var ErrInvalidToken = errors.New("invalid token")

// SupportedAlgorithms are the JWS algorithms orgauth signs with.
var SupportedAlgorithms = []jose.SignatureAlgorithm{jose.RS256, jose.ES256}

// PublishedKeys is the part of a KeySet that verification reads.
type PublishedKeys interface {
	Published(ctx context.Context) (jose.JSONWebKeySet, error)
}

// Verifier is orgauth's one verifier of the JWTs it signed: access tokens
// (RFC 9068) and ID tokens presented back as hints, checked against the
// published key set.
type Verifier struct {
	issuer string
	keys   PublishedKeys
	now    func() time.Time
}

// NewVerifier returns a verifier for tokens of issuer; now may be nil.
func NewVerifier(issuer string, keys PublishedKeys, now func() time.Time) *Verifier {
	if now == nil {
		now = time.Now
	}
	return &Verifier{issuer: issuer, keys: keys, now: now}
}

// Leeway is the clock skew allowed when checking iat and nbf: a token
// issued, or valid from, up to this far in the future is accepted.
const Leeway = 60 * time.Second

// VerifyAccessToken checks the signature, typ (RFC 9068 §4), iss, aud, exp,
// iat and nbf of raw, and returns its claims.
func (v *Verifier) VerifyAccessToken(ctx context.Context, raw, audience string) (AccessClaims, error) {
	var c AccessClaims
	if err := v.verify(ctx, raw, true, &c); err != nil {
		return AccessClaims{}, err
	}
	if c.Issuer != v.issuer {
		return AccessClaims{}, fmt.Errorf("%w: iss", ErrInvalidToken)
	}
	if !slices.Contains(c.Audience, audience) {
		return AccessClaims{}, fmt.Errorf("%w: aud", ErrInvalidToken)
	}
	if c.Expiry == nil || !v.now().Before(c.Expiry.Time()) {
		return AccessClaims{}, fmt.Errorf("%w: expired", ErrInvalidToken)
	}
	// RFC 9068 §2.2: iat is required. RFC 7519 §4.1.5: a token "MUST NOT
	// be accepted for processing" before nbf. Either in the future, beyond
	// the leeway, is a token that is not valid yet.
	if c.IssuedAt == nil || c.IssuedAt.Time().After(v.now().Add(Leeway)) {
		return AccessClaims{}, fmt.Errorf("%w: iat missing or in the future", ErrInvalidToken)
	}
	if c.NotBefore != nil && c.NotBefore.Time().After(v.now().Add(Leeway)) {
		return AccessClaims{}, fmt.Errorf("%w: not valid yet (nbf)", ErrInvalidToken)
	}
	if c.Subject == "" || c.ClientID == "" || c.OrgID == "" {
		return AccessClaims{}, fmt.Errorf("%w: missing claims", ErrInvalidToken)
	}
	return c, nil
}

// VerifyIDTokenHint checks an ID token presented back to this server (an
// id_token_hint, OpenID Connect RP-Initiated Logout §2): signed by a
// published key, iss this server, with aud and sub, and not an access
// token. An expired one is accepted: §2 has the OP accept ID tokens past
// their exp, since an RP often logs out long after its ID token expired.
func (v *Verifier) VerifyIDTokenHint(ctx context.Context, raw string) (IDClaims, error) {
	var c IDClaims
	if err := v.verify(ctx, raw, false, &c); err != nil {
		return IDClaims{}, err
	}
	if c.Issuer != v.issuer {
		return IDClaims{}, fmt.Errorf("%w: iss", ErrInvalidToken)
	}
	if len(c.Audience) == 0 || c.Subject == "" {
		return IDClaims{}, fmt.Errorf("%w: no aud or sub", ErrInvalidToken)
	}
	return c, nil
}

// verify parses raw as a compact JWS with one signature by a published key
// and decodes its claims into dst. An access token (typ at+jwt, RFC 9068
// §4) is accepted only when access is set, and required then.
func (v *Verifier) verify(ctx context.Context, raw string, access bool, dst any) error {
	tok, err := josejwt.ParseSigned(raw, SupportedAlgorithms)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 {
		return fmt.Errorf("%w: want one signature", ErrInvalidToken)
	}
	h := tok.Headers[0]
	typ, _ := h.ExtraHeaders[jose.HeaderType].(string)
	if isAccess := typ == AccessTokenType || typ == "application/"+AccessTokenType; isAccess != access {
		return fmt.Errorf("%w: typ %q", ErrInvalidToken, typ)
	}
	set, err := v.keys.Published(ctx)
	if err != nil {
		return fmt.Errorf("token: key set: %w", err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) == 0 {
		return fmt.Errorf("%w: unknown kid", ErrInvalidToken)
	}
	if err := tok.Claims(keys[0].Key, dst); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return nil
}
