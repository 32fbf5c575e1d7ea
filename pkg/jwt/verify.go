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

// Verifier checks access tokens minted by this orgauth against the published
// key set.
type Verifier struct {
	issuer string
	keys   KeySet
	now    func() time.Time
}

// NewVerifier returns a verifier for tokens of issuer; now may be nil.
func NewVerifier(issuer string, keys KeySet, now func() time.Time) *Verifier {
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
	tok, err := josejwt.ParseSigned(raw, SupportedAlgorithms)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	if len(tok.Headers) != 1 {
		return AccessClaims{}, fmt.Errorf("%w: want one signature", ErrInvalidToken)
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != AccessTokenType && typ != "application/"+AccessTokenType {
		return AccessClaims{}, fmt.Errorf("%w: typ %q", ErrInvalidToken, typ)
	}
	set, err := v.keys.Published(ctx)
	if err != nil {
		return AccessClaims{}, fmt.Errorf("token: key set: %w", err)
	}
	keys := set.Key(h.KeyID)
	if len(keys) == 0 {
		return AccessClaims{}, fmt.Errorf("%w: unknown kid", ErrInvalidToken)
	}
	var c AccessClaims
	if err := tok.Claims(keys[0].Key, &c); err != nil {
		return AccessClaims{}, fmt.Errorf("%w: %v", ErrInvalidToken, err)
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
