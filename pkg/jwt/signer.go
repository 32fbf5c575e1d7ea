package jwt

import (
	"context"

	"github.com/go-jose/go-jose/v4"
)

// Key is one signing key as the issuer sees it.
type Key interface {
	// Public is the public JWK: KeyID is the RFC 7638 thumbprint and
	// Algorithm the JWS alg (RS256 or ES256).
	Public() jose.JSONWebKey
	// SignDigest signs a SHA-256 digest of the JWS signing input and returns
	// the signature in JWS form (PKCS#1 v1.5 bytes for RS256, 64-byte r‖s
	// for ES256).
	SignDigest(ctx context.Context, digest []byte) ([]byte, error)
}

// KeySet is the ordered set of signing keys: the active one, which signs,
// and every key that verifiers must accept (upcoming and retiring ones too).
type KeySet interface {
	// Active returns the key that signs new tokens.
	Active(ctx context.Context) (Key, error)
	// Published returns the public keys to serve in the JWKS.
	Published(ctx context.Context) (jose.JSONWebKeySet, error)
}
