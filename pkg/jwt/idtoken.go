package jwt

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"slices"
	"time"

	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// IDTokenType is the JWS "typ" of ID tokens. OpenID Connect Core does not
// require one; "JWT" is what RFC 7519 §5.1 recommends and what keeps an ID
// token from ever passing as an at+jwt access token (RFC 9068 §4).
const IDTokenType = "JWT"

// IDClaims are the claims of an ID token, OpenID Connect Core §2, plus the
// standard claims of §5.1 that the granted scopes release (§5.4).
//
// No org_id: the organization is in the access token (RFC 9068 profile) and
// in /userinfo. Auth0's SDKs read an ID token's org_id as Auth0's own
// organization id ("org_..."), send it back as organization= and then
// reject a token whose organization is not in that form.
type IDClaims struct {
	Issuer          string               `json:"iss"`
	Subject         string               `json:"sub"`
	Audience        josejwt.Audience     `json:"aud"`
	Expiry          *josejwt.NumericDate `json:"exp"`
	IssuedAt        *josejwt.NumericDate `json:"iat"`
	AuthTime        *josejwt.NumericDate `json:"auth_time,omitempty"`
	Nonce           string               `json:"nonce,omitempty"`
	AccessTokenHash string               `json:"at_hash,omitempty"`
	// AuthorizedParty is the client the token was issued to (§2: azp).
	AuthorizedParty string `json:"azp,omitempty"`
	Email           string `json:"email,omitempty"`
	EmailVerified   *bool  `json:"email_verified,omitempty"`
	Name            string `json:"name,omitempty"`
}

// IDRequest is what the issuer needs to mint one ID token.
type IDRequest struct {
	Subject  string // the user id
	ClientID string // aud and azp
	AuthTime time.Time
	// Nonce is echoed unchanged (§3.1.3.6); empty on refresh (§12.2).
	Nonce string
	// AccessToken, when set, is hashed into at_hash (§3.1.3.6).
	AccessToken string
	Lifetime    time.Duration
	// Scopes decide which user claims are released: email → email and
	// email_verified, profile → name (§5.4).
	Scopes []string
	User   UserClaims
}

// UserClaims are the user's standard claims, released by scope.
type UserClaims struct {
	Email         string
	EmailVerified bool
	Name          string
}

// ScopedUserClaims fills the scope-dependent claims of §5.4 into c; the
// userinfo endpoint releases the same set.
func ScopedUserClaims(scopes []string, u UserClaims) (email string, verified *bool, name string) {
	if slices.Contains(scopes, "email") && u.Email != "" {
		v := u.EmailVerified
		email, verified = u.Email, &v
	}
	if slices.Contains(scopes, "profile") {
		name = u.Name
	}
	return email, verified, name
}

// IDToken signs an ID token and returns it with its claims.
func (i *Issuer) IDToken(ctx context.Context, r IDRequest) (string, IDClaims, error) {
	if r.Lifetime <= 0 {
		return "", IDClaims{}, errors.New("token: ID token lifetime must be positive")
	}
	if r.Subject == "" || r.ClientID == "" {
		return "", IDClaims{}, errors.New("token: ID token needs a subject and a client")
	}
	now := i.now().Truncate(time.Second)
	c := IDClaims{
		Issuer:          i.issuer,
		Subject:         r.Subject,
		Audience:        josejwt.Audience{r.ClientID},
		IssuedAt:        josejwt.NewNumericDate(now),
		Expiry:          josejwt.NewNumericDate(now.Add(r.Lifetime)),
		Nonce:           r.Nonce,
		AuthorizedParty: r.ClientID,
	}
	if !r.AuthTime.IsZero() {
		c.AuthTime = josejwt.NewNumericDate(r.AuthTime)
	}
	if r.AccessToken != "" {
		c.AccessTokenHash = AccessTokenHash(r.AccessToken)
	}
	c.Email, c.EmailVerified, c.Name = ScopedUserClaims(r.Scopes, r.User)
	raw, err := i.sign(ctx, IDTokenType, c)
	if err != nil {
		return "", IDClaims{}, err
	}
	return raw, c, nil
}

// AccessTokenHash is at_hash, OpenID Connect Core §3.1.3.6: "the
// base64url encoding of the left-most half of the hash of the octets of the
// ASCII representation of the access_token value, where the hash algorithm
// used is the hash algorithm used in the alg Header Parameter of the ID
// Token's JOSE Header". RS256 and ES256 both use SHA-256.
func AccessTokenHash(accessToken string) string {
	h := sha256.Sum256([]byte(accessToken))
	return base64.RawURLEncoding.EncodeToString(h[:len(h)/2])
}
