package jwttest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"math/big"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/jwt"
)

// KeySet is an ES256 or RS256 key set held in memory.
type KeySet struct {
	priv *ecdsa.PrivateKey
	rsa  *rsa.PrivateKey
	pub  jose.JSONWebKey
}

var _ jwt.KeySet = (*KeySet)(nil)

// NewKeySet makes a fresh P-256 key.
func NewKeySet() *KeySet {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(jose.ES256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &KeySet{priv: priv, pub: pub}
}

// NewRSAKeySet makes a fresh RSA 2048 key (RS256), the deployed default.
func NewRSAKeySet() *KeySet {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	pub := jose.JSONWebKey{Key: priv.Public(), Algorithm: string(jose.RS256), Use: "sig"}
	tp, err := pub.Thumbprint(crypto.SHA256)
	if err != nil {
		panic(err)
	}
	pub.KeyID = base64.RawURLEncoding.EncodeToString(tp)
	return &KeySet{rsa: priv, pub: pub}
}

func (k *KeySet) Active(context.Context) (jwt.Key, error) { return k, nil }

func (k *KeySet) Published(context.Context) (jose.JSONWebKeySet, error) {
	return jose.JSONWebKeySet{Keys: []jose.JSONWebKey{k.pub}}, nil
}

func (k *KeySet) Public() jose.JSONWebKey { return k.pub }

func (k *KeySet) SignDigest(_ context.Context, digest []byte) ([]byte, error) {
	if len(digest) != sha256.Size {
		panic("digest must be SHA-256")
	}
	if k.rsa != nil {
		return rsa.SignPKCS1v15(rand.Reader, k.rsa, crypto.SHA256, digest)
	}
	r, s, err := ecdsa.Sign(rand.Reader, k.priv, digest)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 64)
	fill(out[:32], r)
	fill(out[32:], s)
	return out, nil
}

func fill(dst []byte, n *big.Int) { n.FillBytes(dst) }

// SigningKey is the private key as go-jose signs with it (kid and alg
// set), for tests that compare orgauth's tokens with go-jose's own.
func (k *KeySet) SigningKey() jose.SigningKey {
	jwk := k.pub
	if k.rsa != nil {
		jwk.Key = k.rsa
	} else {
		jwk.Key = k.priv
	}
	return jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.pub.Algorithm), Key: jwk}
}
