package kmssign

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/token"
)

// API is the part of the KMS client that signing needs.
type API interface {
	Sign(ctx context.Context, params *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, params *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ API = (*kms.Client)(nil)

// Key specs this package can sign with.
const (
	SpecRSA2048     = string(types.KeySpecRsa2048)     // RS256
	SpecECCNistP256 = string(types.KeySpecEccNistP256) // ES256
)

// digestSize is the size of a SHA-256 digest, the only one both RS256 and
// ES256 use.
const digestSize = 32

// KeySet is an ordered set of KMS signing keys; it implements token.KeySet.
// The first key is active; all of them are published.
type KeySet struct {
	client API
	ids    []string

	mu     sync.Mutex             // serialises loads
	loaded atomic.Pointer[[]*Key] // set once, after a successful load
}

var _ token.KeySet = (*KeySet)(nil)

// NewKeySet returns a key set over keyIDs (key ids, key ARNs or alias/...
// names), active key first. It does not call KMS: public keys are fetched on
// first use.
func NewKeySet(client API, keyIDs []string) (*KeySet, error) {
	if client == nil {
		return nil, errors.New("kmssign: nil KMS client")
	}
	if len(keyIDs) == 0 {
		return nil, errors.New("kmssign: no key ids")
	}
	for i, id := range keyIDs {
		if id == "" {
			return nil, fmt.Errorf("kmssign: key id %d is empty", i)
		}
		if slices.Index(keyIDs, id) != i {
			return nil, fmt.Errorf("kmssign: key id %q listed twice", id)
		}
	}
	return &KeySet{client: client, ids: slices.Clone(keyIDs)}, nil
}

// Active returns the key that signs new tokens: the first of the list.
func (s *KeySet) Active(ctx context.Context) (token.Key, error) {
	keys, err := s.keys(ctx)
	if err != nil {
		return nil, err
	}
	return keys[0], nil
}

// Published returns the public JWKs of all keys, active first. After the
// first successful call it never calls KMS.
func (s *KeySet) Published(ctx context.Context) (jose.JSONWebKeySet, error) {
	keys, err := s.keys(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(keys))}
	for i, k := range keys {
		set.Keys[i] = k.Public()
	}
	return set, nil
}

// keys loads every public key once; a failed load is retried on the next
// call.
func (s *KeySet) keys(ctx context.Context) ([]*Key, error) {
	if p := s.loaded.Load(); p != nil {
		return *p, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if p := s.loaded.Load(); p != nil {
		return *p, nil
	}
	keys := make([]*Key, len(s.ids))
	errs := make([]error, len(s.ids))
	var wg sync.WaitGroup
	for i, id := range s.ids {
		wg.Go(func() { keys[i], errs[i] = loadKey(ctx, s.client, id) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	kids := make(map[string]string, len(keys))
	for i, k := range keys {
		if prev, dup := kids[k.kid]; dup {
			return nil, fmt.Errorf("kmssign: %q and %q are the same key (kid %s)", prev, s.ids[i], k.kid)
		}
		kids[k.kid] = s.ids[i]
	}
	s.loaded.Store(&keys)
	return keys, nil
}

// Key is one KMS signing key; it implements token.Key.
type Key struct {
	client API
	keyID  string // what Sign uses: the key ARN the configured id resolved to
	alg    jose.SignatureAlgorithm
	kmsAlg types.SigningAlgorithmSpec
	pub    crypto.PublicKey
	kid    string
}

var _ token.Key = (*Key)(nil)

// Public returns the public JWK: kid is the RFC 7638 thumbprint, alg RS256 or
// ES256, use sig.
func (k *Key) Public() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.pub, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"}
}

// KMSKeyID is the key ARN (or id, if KMS did not return an ARN) that Sign
// uses.
func (k *Key) KMSKeyID() string { return k.keyID }

// SignDigest signs a 32-byte SHA-256 digest with kms:Sign (MessageType
// DIGEST) and returns the JWS signature: PKCS#1 v1.5 bytes for RS256, 64-byte
// r‖s for ES256.
func (k *Key) SignDigest(ctx context.Context, digest []byte) ([]byte, error) {
	if len(digest) != digestSize {
		return nil, fmt.Errorf("kmssign: digest is %d bytes, want %d (SHA-256)", len(digest), digestSize)
	}
	out, err := k.client.Sign(ctx, &kms.SignInput{
		KeyId:            aws.String(k.keyID),
		Message:          digest,
		MessageType:      types.MessageTypeDigest,
		SigningAlgorithm: k.kmsAlg,
	})
	if err != nil {
		return nil, fmt.Errorf("kmssign: sign with %s: %w", k.keyID, err)
	}
	switch pub := k.pub.(type) {
	case *ecdsa.PublicKey:
		return ecdsaDERToJWS(out.Signature, (pub.Curve.Params().BitSize+7)/8)
	case *rsa.PublicKey:
		if len(out.Signature) != pub.Size() {
			return nil, fmt.Errorf("kmssign: RSA signature is %d bytes, want %d", len(out.Signature), pub.Size())
		}
	}
	return out.Signature, nil
}

func loadKey(ctx context.Context, client API, id string) (*Key, error) {
	out, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
	if err != nil {
		return nil, fmt.Errorf("kmssign: get public key %s: %w", id, err)
	}
	if out.KeyUsage != "" && out.KeyUsage != types.KeyUsageTypeSignVerify {
		return nil, fmt.Errorf("kmssign: key %s has usage %s, want %s", id, out.KeyUsage, types.KeyUsageTypeSignVerify)
	}
	spec := out.KeySpec
	pub, err := x509.ParsePKIXPublicKey(out.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("kmssign: key %s: parse public key: %w", id, err)
	}
	k := &Key{client: client, keyID: id, pub: pub}
	if out.KeyId != nil && *out.KeyId != "" {
		k.keyID = *out.KeyId
	}
	switch spec {
	case types.KeySpecRsa2048:
		p, ok := pub.(*rsa.PublicKey)
		if !ok || p.N.BitLen() != 2048 {
			return nil, fmt.Errorf("kmssign: key %s: spec %s but public key is %T", id, spec, pub)
		}
		k.alg, k.kmsAlg = jose.RS256, types.SigningAlgorithmSpecRsassaPkcs1V15Sha256
	case types.KeySpecEccNistP256:
		p, ok := pub.(*ecdsa.PublicKey)
		if !ok || p.Curve != elliptic.P256() {
			return nil, fmt.Errorf("kmssign: key %s: spec %s but public key is %T", id, spec, pub)
		}
		k.alg, k.kmsAlg = jose.ES256, types.SigningAlgorithmSpecEcdsaSha256
	default:
		return nil, fmt.Errorf("kmssign: key %s has unsupported key spec %q (want %s or %s)", id, spec, SpecRSA2048, SpecECCNistP256)
	}
	if len(out.SigningAlgorithms) > 0 && !slices.Contains(out.SigningAlgorithms, k.kmsAlg) {
		return nil, fmt.Errorf("kmssign: key %s does not support %s (has %v)", id, k.kmsAlg, out.SigningAlgorithms)
	}
	tp, err := (&jose.JSONWebKey{Key: pub}).Thumbprint(crypto.SHA256)
	if err != nil {
		return nil, fmt.Errorf("kmssign: key %s: thumbprint: %w", id, err)
	}
	k.kid = base64.RawURLEncoding.EncodeToString(tp)
	return k, nil
}

// ecdsaDERToJWS turns an ASN.1 DER ECDSA-Sig-Value (what KMS returns) into the
// fixed-size r‖s form of JWS (RFC 7518 §3.4), each half left-padded to size
// bytes.
func ecdsaDERToJWS(der []byte, size int) ([]byte, error) {
	var sig struct{ R, S *big.Int }
	rest, err := asn1.Unmarshal(der, &sig)
	if err != nil {
		return nil, fmt.Errorf("kmssign: parse ECDSA signature: %w", err)
	}
	if len(rest) != 0 {
		return nil, errors.New("kmssign: trailing data after ECDSA signature")
	}
	if sig.R.Sign() <= 0 || sig.S.Sign() <= 0 || sig.R.BitLen() > 8*size || sig.S.BitLen() > 8*size {
		return nil, errors.New("kmssign: ECDSA signature values out of range")
	}
	out := make([]byte, 2*size)
	sig.R.FillBytes(out[:size])
	sig.S.FillBytes(out[size:])
	return out, nil
}
