package kmskeys

import (
	"cmp"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
)

// API is the part of the KMS client that signing needs.
type API interface {
	Sign(ctx context.Context, params *kms.SignInput, optFns ...func(*kms.Options)) (*kms.SignOutput, error)
	GetPublicKey(ctx context.Context, params *kms.GetPublicKeyInput, optFns ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error)
}

var _ API = (*kms.Client)(nil)

// Key specs this package can sign with.
const (
	SpecRSA2048     = keys.SpecRSA2048     // RS256; types.KeySpecRsa2048
	SpecECCNistP256 = keys.SpecECCNistP256 // ES256; types.KeySpecEccNistP256
)

// digestSize is the size of a SHA-256 digest, the only one both RS256 and
// ES256 use.
const digestSize = 32

// KeySet is an ordered set of KMS signing keys; it implements token.KeySet.
// One key is active and signs; every published key (the active one,
// upcoming ones and retiring ones) is in the JWKS, active first.
//
// A static key set (NewKeySet) is a fixed list whose first key is active. A
// rotating key set (NewRotatingKeySet) reads its list from a Source, the
// key-set item that orgauthctl keys rotate writes, at most once per refresh
// interval; see doc.go.
type KeySet struct {
	client   API
	ids      []string // the static list, or the fallback while the source has no set
	src      Source   // nil: static
	refresh  time.Duration
	now      func() time.Time
	onError  func(error)
	mu       sync.Mutex      // serialises loads and refreshes
	cache    map[string]*Key // by key id as listed; guarded by mu
	snapshot atomic.Pointer[snapshot]
}

// snapshot is the key set as last read: what Active and Published serve.
type snapshot struct {
	active    *Key
	published []*Key    // active first
	next      time.Time // when to read the source again; zero: never (static)
}

var _ jwt.KeySet = (*KeySet)(nil)

// Source reads the key set that orgauthctl keys rotate maintains; pkg/storage/dynamo's
// Store is one. It fails with an error wrapping domain.ErrNotFound while
// there is no set yet.
type Source interface {
	GetKeySet(ctx context.Context) (keys.Set, error)
}

// RotatingOptions tune NewRotatingKeySet.
type RotatingOptions struct {
	// Refresh is how long a key set read from the source is served before
	// the source is read again (default DefaultRefresh). It bounds how long
	// a warm function takes to follow a rotation.
	Refresh time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// OnRefreshError, if set, is told about every failed refresh that was
	// answered with the last good set, and about retiring keys left out of
	// the JWKS because KMS no longer serves them. It must not block.
	OnRefreshError func(error)
}

// DefaultRefresh is the default refresh interval of a rotating key set.
const DefaultRefresh = time.Minute

// retryAfterFailure is how soon a failed refresh is tried again (capped at
// the refresh interval); meanwhile the last good set is served.
const retryAfterFailure = 5 * time.Second

// NewKeySet returns a static key set over keyIDs (key ids, key ARNs or
// alias/... names), active key first. It does not call KMS: public keys are
// fetched on first use, then kept for the life of the process.
func NewKeySet(client API, keyIDs []string) (*KeySet, error) {
	if client == nil {
		return nil, errors.New("kmssign: nil KMS client")
	}
	if err := checkIDs(keyIDs); err != nil {
		return nil, err
	}
	return &KeySet{client: client, ids: slices.Clone(keyIDs), cache: map[string]*Key{}}, nil
}

// NewRotatingKeySet returns a key set that follows src: it serves what src
// holds, read at most once per opts.Refresh; while src has no set yet, it
// serves fallbackIDs as NewKeySet would. It does no I/O.
func NewRotatingKeySet(client API, src Source, fallbackIDs []string, opts RotatingOptions) (*KeySet, error) {
	ks, err := NewKeySet(client, fallbackIDs)
	if err != nil {
		return nil, err
	}
	if src == nil {
		return nil, errors.New("kmssign: nil key-set source")
	}
	if opts.Refresh < 0 {
		return nil, errors.New("kmssign: negative refresh interval")
	}
	ks.src, ks.refresh, ks.now, ks.onError = src, cmp.Or(opts.Refresh, DefaultRefresh), opts.Now, opts.OnRefreshError
	if ks.now == nil {
		ks.now = time.Now
	}
	return ks, nil
}

func checkIDs(keyIDs []string) error {
	if len(keyIDs) == 0 {
		return errors.New("kmssign: no key ids")
	}
	for i, id := range keyIDs {
		if id == "" {
			return fmt.Errorf("kmssign: key id %d is empty", i)
		}
		if slices.Index(keyIDs, id) != i {
			return fmt.Errorf("kmssign: key id %q listed twice", id)
		}
	}
	return nil
}

// Active returns the key that signs new tokens.
func (s *KeySet) Active(ctx context.Context) (jwt.Key, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	return snap.active, nil
}

// Published returns the public JWKs of all published keys, active first.
// It calls KMS only for keys it has not seen before, and the source at most
// once per refresh interval.
func (s *KeySet) Published(ctx context.Context) (jose.JSONWebKeySet, error) {
	snap, err := s.current(ctx)
	if err != nil {
		return jose.JSONWebKeySet{}, err
	}
	set := jose.JSONWebKeySet{Keys: make([]jose.JSONWebKey, len(snap.published))}
	for i, k := range snap.published {
		set.Keys[i] = k.Public()
	}
	return set, nil
}

// current returns the snapshot to serve, reading the source first when the
// last read is older than the refresh interval. A failed read keeps the
// last good snapshot, and is retried soon; without one, it is an error, and
// the next call tries again.
func (s *KeySet) current(ctx context.Context) (*snapshot, error) {
	snap := s.snapshot.Load()
	if snap != nil && !s.due(snap) {
		return snap, nil
	}
	if snap != nil {
		if !s.mu.TryLock() {
			return snap, nil // another caller is refreshing: serve the last set meanwhile
		}
	} else {
		s.mu.Lock()
	}
	defer s.mu.Unlock()
	if snap = s.snapshot.Load(); snap != nil && !s.due(snap) {
		return snap, nil
	}
	var start time.Time
	if s.src != nil {
		start = s.now()
	}
	fresh, err := s.read(ctx)
	if err != nil {
		if snap == nil {
			return nil, err
		}
		s.report(fmt.Errorf("kmssign: refresh failed, serving the last key set: %w", err))
		stale := *snap
		stale.next = start.Add(min(retryAfterFailure, s.refresh))
		s.snapshot.Store(&stale)
		return &stale, nil
	}
	if s.src != nil {
		// From the moment the read started: a change written after that is
		// served at most one interval later.
		fresh.next = start.Add(s.refresh)
	}
	s.snapshot.Store(fresh)
	return fresh, nil
}

func (s *KeySet) due(snap *snapshot) bool {
	return !snap.next.IsZero() && !s.now().Before(snap.next)
}

func (s *KeySet) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}

// read builds a snapshot from the source (or the static list) and loads
// the public keys it has not loaded before. The caller holds mu.
func (s *KeySet) read(ctx context.Context) (*snapshot, error) {
	entries, err := s.entries(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, e := range entries {
		if s.cache[e.KeyID] == nil {
			missing = append(missing, e.KeyID)
		}
	}
	loaded := make([]*Key, len(missing))
	errs := make([]error, len(missing))
	var wg sync.WaitGroup
	for i, id := range missing {
		wg.Go(func() { loaded[i], errs[i] = loadKey(ctx, s.client, id) })
	}
	wg.Wait()
	failed := map[string]error{}
	for i, id := range missing {
		if errs[i] != nil {
			failed[id] = errs[i]
			continue
		}
		s.cache[id] = loaded[i]
	}

	snap := &snapshot{}
	kids := map[string]string{}
	var errList []error
	for _, e := range entries {
		if err := failed[e.KeyID]; err != nil {
			if e.State == keys.Retiring && isGone(err) {
				// A retiring key whose deletion is already scheduled (a
				// rotation racing this read) or that an operator disabled:
				// it can verify nothing any more, so leave it out.
				s.report(fmt.Errorf("kmssign: retiring key left out of the JWKS: %w", err))
				continue
			}
			errList = append(errList, err)
			continue
		}
		k := s.cache[e.KeyID]
		if prev, dup := kids[k.kid]; dup {
			errList = append(errList, fmt.Errorf("kmssign: %q and %q are the same key (kid %s)", prev, e.KeyID, k.kid))
			continue
		}
		kids[k.kid] = e.KeyID
		if e.State == keys.Active {
			snap.active = k
		}
		snap.published = append(snap.published, k)
	}
	if err := errors.Join(errList...); err != nil {
		return nil, err
	}
	// Forget keys that left the set, so the cache cannot grow.
	for id := range s.cache {
		if !slices.ContainsFunc(entries, func(e keys.Entry) bool { return e.KeyID == id }) {
			delete(s.cache, id)
		}
	}
	return snap, nil
}

// entries lists the published keys, active first: the source's set, or the
// static list.
func (s *KeySet) entries(ctx context.Context) ([]keys.Entry, error) {
	if s.src != nil {
		set, err := s.src.GetKeySet(ctx)
		switch {
		case err == nil:
			if err := set.Validate(); err != nil {
				return nil, err
			}
			return set.Published(), nil
		case !errors.Is(err, domain.ErrNotFound):
			return nil, fmt.Errorf("kmssign: read key set: %w", err)
		}
	}
	out := make([]keys.Entry, len(s.ids))
	for i, id := range s.ids {
		out[i] = keys.Entry{KeyID: id, State: keys.Upcoming}
	}
	out[0].State = keys.Active
	return out, nil
}

// isGone reports whether KMS refused a key because it is disabled, pending
// deletion or deleted.
func isGone(err error) bool {
	var invalid *types.KMSInvalidStateException
	var disabled *types.DisabledException
	var nf *types.NotFoundException
	return errors.As(err, &invalid) || errors.As(err, &disabled) || errors.As(err, &nf)
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

var _ jwt.Key = (*Key)(nil)

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
	// cryptobyte, as crypto/ecdsa parses signatures: encoding/asn1's
	// reflection and big.Ints were a visible part of an ES256 token's cost.
	var inner cryptobyte.String
	var r, s []byte
	input := cryptobyte.String(der)
	if !input.ReadASN1(&inner, casn1.SEQUENCE) || !inner.ReadASN1Integer(&r) || !inner.ReadASN1Integer(&s) || !inner.Empty() {
		return nil, errors.New("kmssign: parse ECDSA signature: not a DER SEQUENCE of two positive INTEGERs")
	}
	if !input.Empty() {
		return nil, errors.New("kmssign: trailing data after ECDSA signature")
	}
	// ReadASN1Integer refuses a negative INTEGER and strips the sign
	// byte: what is left is the value, big-endian.
	out := make([]byte, 2*size)
	for i, v := range [][]byte{r, s} {
		if len(v) > size || (len(v) == 1 && v[0] == 0) {
			return nil, errors.New("kmssign: ECDSA signature values out of range")
		}
		copy(out[(i+1)*size-len(v):(i+1)*size], v)
	}
	return out, nil
}
