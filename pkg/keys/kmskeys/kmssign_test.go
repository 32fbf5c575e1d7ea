package kmskeys

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/emulator"
)

// startKMS starts kms-local for one test and returns a client for it.
func startKMS(t testing.TB) *kms.Client {
	t.Helper()
	p := emulator.StartForTest(t, emulator.StartKMS)
	return NewLocalClient(p.Endpoint)
}

// opaqueSigner adapts a token.Key to go-jose. The production adapter lives in
// pkg/jwt; this one only has to be good enough to exercise the Key.
type opaqueSigner struct {
	ctx context.Context
	key jwt.Key
}

func (s opaqueSigner) Public() *jose.JSONWebKey {
	pub := s.key.Public()
	return &pub
}

func (s opaqueSigner) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(s.key.Public().Algorithm)}
}

func (s opaqueSigner) SignPayload(payload []byte, alg jose.SignatureAlgorithm) ([]byte, error) {
	if string(alg) != s.key.Public().Algorithm {
		return nil, fmt.Errorf("unsupported alg %s", alg)
	}
	d := sha256.Sum256(payload)
	return s.key.SignDigest(s.ctx, d[:])
}

// signJWT signs claims with key through go-jose.
func signJWT(t *testing.T, key jwt.Key, claims any) string {
	t.Helper()
	pub := key.Public()
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: jose.SignatureAlgorithm(pub.Algorithm), Key: opaqueSigner{ctx: context.Background(), key: key}},
		(&jose.SignerOptions{}).WithType("JWT").WithHeader(jose.HeaderKey("kid"), pub.KeyID),
	)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// thumbprint computes the RFC 7638 SHA-256 thumbprint of a PKIX public key
// without go-jose, to check the kid independently.
func thumbprint(t *testing.T, der []byte) string {
	t.Helper()
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawURLEncoding.EncodeToString
	var members string
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		members = fmt.Sprintf(`{"e":"%s","kty":"RSA","n":"%s"}`, b64(big.NewInt(int64(pub.E)).Bytes()), b64(pub.N.Bytes()))
	case *ecdsa.PublicKey:
		raw, err := pub.Bytes() // 0x04 ‖ X ‖ Y, each 32 bytes for P-256
		if err != nil {
			t.Fatal(err)
		}
		members = fmt.Sprintf(`{"crv":"P-256","kty":"EC","x":"%s","y":"%s"}`, b64(raw[1:33]), b64(raw[33:]))
	default:
		t.Fatalf("unexpected public key %T", pub)
	}
	sum := sha256.Sum256([]byte(members))
	return b64(sum[:])
}

func TestKMSKeys(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	for _, tc := range []struct {
		spec   string
		alg    string
		sigLen int
	}{
		{SpecRSA2048, "RS256", 256},
		{SpecECCNistP256, "ES256", 64},
	} {
		t.Run(tc.spec, func(t *testing.T) {
			alias := "alias/test-" + strings.ToLower(tc.spec)
			id, err := EnsureKey(ctx, client, alias, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			again, err := EnsureKey(ctx, client, alias, tc.spec)
			if err != nil || again != id {
				t.Fatalf("second EnsureKey = %q, %v; want %q", again, err, id)
			}

			ks, err := NewKeySet(client, []string{alias})
			if err != nil {
				t.Fatal(err)
			}
			key, err := ks.Active(ctx)
			if err != nil {
				t.Fatal(err)
			}
			pub := key.Public()
			if pub.Algorithm != tc.alg || pub.Use != "sig" {
				t.Errorf("alg/use = %q/%q, want %q/sig", pub.Algorithm, pub.Use, tc.alg)
			}
			if !strings.HasSuffix(key.(*Key).KMSKeyID(), ":key/"+id) {
				t.Errorf("signs with %q, want the ARN of key %s", key.(*Key).KMSKeyID(), id)
			}
			gp, err := client.GetPublicKey(ctx, &kms.GetPublicKeyInput{KeyId: aws.String(id)})
			if err != nil {
				t.Fatal(err)
			}
			if want := thumbprint(t, gp.PublicKey); pub.KeyID != want {
				t.Errorf("kid = %s, want thumbprint %s", pub.KeyID, want)
			}

			jwks, err := ks.Published(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(jwks.Keys) != 1 || jwks.Keys[0].KeyID != pub.KeyID {
				t.Fatalf("published = %+v", jwks.Keys)
			}
			verifyKey := jwks.Keys[0]

			now := time.Now()
			in := josejwt.Claims{Issuer: "https://auth.example.com", Subject: "client-1", IssuedAt: josejwt.NewNumericDate(now)}
			raw := signJWT(t, key, in)

			parsed, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
			if err != nil {
				t.Fatal(err)
			}
			if h := parsed.Headers[0]; h.KeyID != pub.KeyID || h.Algorithm != tc.alg {
				t.Errorf("header kid/alg = %q/%q", h.KeyID, h.Algorithm)
			}
			var out josejwt.Claims
			if err := parsed.Claims(verifyKey, &out); err != nil {
				t.Fatalf("verify with published JWK: %v", err)
			}
			if out.Subject != "client-1" || out.Issuer != in.Issuer {
				t.Errorf("claims = %+v", out)
			}

			parts := strings.Split(raw, ".")
			sig, err := base64.RawURLEncoding.DecodeString(parts[2])
			if err != nil {
				t.Fatal(err)
			}
			if len(sig) != tc.sigLen {
				t.Errorf("signature is %d bytes, want %d", len(sig), tc.sigLen)
			}

			// A swapped payload and a flipped signature bit must both fail.
			forged := base64.RawURLEncoding.EncodeToString([]byte(`{"iss":"https://auth.example.com","sub":"admin"}`))
			tampered := []string{
				parts[0] + "." + forged + "." + parts[2],
				parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(flipBit(sig)),
			}
			for i, bad := range tampered {
				p, err := josejwt.ParseSigned(bad, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(tc.alg)})
				if err != nil {
					continue
				}
				if err := p.Claims(verifyKey, &out); err == nil {
					t.Errorf("tampered token %d verified", i)
				}
			}

			if _, err := key.SignDigest(ctx, []byte("not a digest")); err == nil {
				t.Error("SignDigest accepted a 12-byte digest")
			}
		})
	}
}

func flipBit(b []byte) []byte {
	c := bytes.Clone(b)
	c[len(c)/2] ^= 0x01
	return c
}

func TestPublishedOrder(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	rsaID, err := EnsureKey(ctx, client, "alias/active", SpecRSA2048)
	if err != nil {
		t.Fatal(err)
	}
	ecID, err := EnsureKey(ctx, client, "alias/next", SpecECCNistP256)
	if err != nil {
		t.Fatal(err)
	}
	counting := &countingAPI{API: client}
	// The active key by alias, the upcoming one by bare id.
	ks, err := NewKeySet(counting, []string{"alias/active", ecID})
	if err != nil {
		t.Fatal(err)
	}
	jwks, err := ks.Published(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(jwks.Keys) != 2 {
		t.Fatalf("published %d keys, want 2", len(jwks.Keys))
	}
	if jwks.Keys[0].Algorithm != "RS256" || jwks.Keys[1].Algorithm != "ES256" {
		t.Errorf("published algs = %s, %s", jwks.Keys[0].Algorithm, jwks.Keys[1].Algorithm)
	}
	active, err := ks.Active(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if active.Public().KeyID != jwks.Keys[0].KeyID {
		t.Errorf("active kid %s, want the first published %s", active.Public().KeyID, jwks.Keys[0].KeyID)
	}
	if !strings.HasSuffix(active.(*Key).KMSKeyID(), rsaID) {
		t.Errorf("active key %s, want %s", active.(*Key).KMSKeyID(), rsaID)
	}
	loads := counting.getPublicKey.Load()
	if loads != 2 {
		t.Errorf("GetPublicKey called %d times, want 2", loads)
	}
	for range 5 {
		if _, err := ks.Published(ctx); err != nil {
			t.Fatal(err)
		}
		if _, err := ks.Active(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if got := counting.getPublicKey.Load(); got != loads {
		t.Errorf("GetPublicKey called again after load: %d calls", got)
	}

	// The same key twice (alias and id) is a configuration error.
	dup, err := NewKeySet(client, []string{"alias/active", rsaID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dup.Published(ctx); err == nil {
		t.Error("a key listed twice under different names was accepted")
	}
}

func TestUnsupportedAndMismatchedKeys(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	out, err := client.CreateKey(ctx, &kms.CreateKeyInput{KeyUsage: types.KeyUsageTypeSignVerify, KeySpec: types.KeySpecEccNistP384})
	if err != nil {
		t.Fatal(err)
	}
	ks, err := NewKeySet(client, []string{*out.KeyMetadata.KeyId})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ks.Active(ctx); err == nil || !strings.Contains(err.Error(), "unsupported key spec") {
		t.Errorf("P-384 key: err = %v, want unsupported key spec", err)
	}
	if _, err := EnsureKey(ctx, client, "alias/x", "ECC_NIST_P384"); err == nil {
		t.Error("EnsureKey accepted ECC_NIST_P384")
	}
	if _, err := EnsureKey(ctx, client, "alias/rsa", SpecRSA2048); err != nil {
		t.Fatal(err)
	}
	if _, err := EnsureKey(ctx, client, "alias/rsa", SpecECCNistP256); err == nil {
		t.Error("EnsureKey returned an RSA key for an ECC request")
	}
	if _, err := EnsureKey(ctx, client, "no-prefix", SpecRSA2048); err == nil {
		t.Error("EnsureKey accepted an alias without alias/")
	}
	missing, _ := NewKeySet(client, []string{"alias/missing"})
	if _, err := missing.Active(ctx); err == nil {
		t.Error("missing alias loaded")
	}
}

type countingAPI struct {
	API
	getPublicKey atomic.Int64
}

func (c *countingAPI) GetPublicKey(ctx context.Context, in *kms.GetPublicKeyInput, opts ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	c.getPublicKey.Add(1)
	return c.API.GetPublicKey(ctx, in, opts...)
}

// flakyAPI fails GetPublicKey once, then answers with a fixed RSA key.
type flakyAPI struct {
	der   []byte
	calls atomic.Int64
}

func (f *flakyAPI) GetPublicKey(context.Context, *kms.GetPublicKeyInput, ...func(*kms.Options)) (*kms.GetPublicKeyOutput, error) {
	if f.calls.Add(1) == 1 {
		return nil, errors.New("throttled")
	}
	return &kms.GetPublicKeyOutput{
		KeyId:             aws.String("arn:aws:kms:us-east-1:111122223333:key/k1"),
		KeySpec:           types.KeySpecRsa2048,
		KeyUsage:          types.KeyUsageTypeSignVerify,
		PublicKey:         f.der,
		SigningAlgorithms: []types.SigningAlgorithmSpec{types.SigningAlgorithmSpecRsassaPkcs1V15Sha256},
	}, nil
}

func (f *flakyAPI) Sign(context.Context, *kms.SignInput, ...func(*kms.Options)) (*kms.SignOutput, error) {
	return nil, errors.New("not used")
}

func TestFailedLoadIsRetried(t *testing.T) {
	priv, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	api := &flakyAPI{der: der}
	ks, err := NewKeySet(api, []string{"alias/k"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ks.Published(ctx); err == nil || !strings.Contains(err.Error(), "throttled") {
		t.Fatalf("first load err = %v, want throttled", err)
	}
	key, err := ks.Active(ctx)
	if err != nil {
		t.Fatalf("second load: %v", err)
	}
	if want := thumbprint(t, der); key.Public().KeyID != want {
		t.Errorf("kid = %s, want %s", key.Public().KeyID, want)
	}
	if _, err := ks.Published(ctx); err != nil {
		t.Fatal(err)
	}
	if n := api.calls.Load(); n != 2 {
		t.Errorf("GetPublicKey called %d times, want 2", n)
	}
}

func TestNewKeySetArgs(t *testing.T) {
	api := &flakyAPI{}
	for _, ids := range [][]string{nil, {""}, {"a", "a"}} {
		if _, err := NewKeySet(api, ids); err == nil {
			t.Errorf("NewKeySet(%q) accepted", ids)
		}
	}
	if _, err := NewKeySet(nil, []string{"a"}); err == nil {
		t.Error("NewKeySet(nil client) accepted")
	}
}

func TestECDSADERToJWS(t *testing.T) {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	var sawShortR, sawShortS, sawHighR, sawHighS bool
	for i := 0; i < 20000 && !(sawShortR && sawShortS && sawHighR && sawHighS); i++ {
		digest := sha256.Sum256([]byte(fmt.Sprint("message ", i)))
		der, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
		if err != nil {
			t.Fatal(err)
		}
		var sig struct{ R, S *big.Int }
		if _, err := asn1.Unmarshal(der, &sig); err != nil {
			t.Fatal(err)
		}
		// Short: fewer than 32 bytes, needs left padding. High bit: DER adds
		// a 0x00 byte, so the INTEGER is 33 bytes long.
		shortR, shortS := sig.R.BitLen() <= 248, sig.S.BitLen() <= 248
		highR, highS := sig.R.BitLen() == 256, sig.S.BitLen() == 256
		interesting := (shortR && !sawShortR) || (shortS && !sawShortS) || (highR && !sawHighR) || (highS && !sawHighS) || i == 0
		sawShortR, sawShortS, sawHighR, sawHighS = sawShortR || shortR, sawShortS || shortS, sawHighR || highR, sawHighS || highS
		if !interesting {
			continue
		}
		jws, err := ecdsaDERToJWS(der, 32)
		if err != nil {
			t.Fatalf("convert %x: %v", der, err)
		}
		if len(jws) != 64 {
			t.Fatalf("r‖s is %d bytes", len(jws))
		}
		r, s := new(big.Int).SetBytes(jws[:32]), new(big.Int).SetBytes(jws[32:])
		if r.Cmp(sig.R) != 0 || s.Cmp(sig.S) != 0 {
			t.Fatalf("r‖s does not match DER %x", der)
		}
		if !ecdsa.Verify(&priv.PublicKey, digest[:], r, s) {
			t.Fatal("converted signature does not verify")
		}
	}
	if !(sawShortR && sawShortS && sawHighR && sawHighS) {
		t.Fatalf("did not hit every case: short r %v, short s %v, high r %v, high s %v", sawShortR, sawShortS, sawHighR, sawHighS)
	}

	good, _ := asn1.Marshal(struct{ R, S *big.Int }{big.NewInt(1), big.NewInt(2)})
	tooBig := new(big.Int).Lsh(big.NewInt(1), 256)
	for name, der := range map[string][]byte{
		"empty":    nil,
		"garbage":  []byte("not DER"),
		"trailing": append(bytes.Clone(good), 0),
		"zero r":   mustMarshal(t, big.NewInt(0), big.NewInt(2)),
		"neg s":    mustMarshal(t, big.NewInt(1), big.NewInt(-2)),
		"r > 256b": mustMarshal(t, tooBig, big.NewInt(2)),
		// DER is refused unless minimal and exactly two INTEGERs, as
		// crypto/ecdsa refuses it.
		"third element":   {0x30, 0x08, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02, 0x05, 0x00},
		"non-minimal int": {0x30, 0x07, 0x02, 0x02, 0x00, 0x01, 0x02, 0x01, 0x02},
		"long length":     {0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x02},
		"high bit, no 00": {0x30, 0x06, 0x02, 0x01, 0x81, 0x02, 0x01, 0x02},
	} {
		if _, err := ecdsaDERToJWS(der, 32); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if out, err := ecdsaDERToJWS(good, 32); err != nil || out[31] != 1 || out[63] != 2 || !bytes.Equal(out[:31], make([]byte, 31)) {
		t.Errorf("small values: %x, %v", out, err)
	}
}

func mustMarshal(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func BenchmarkSign(b *testing.B) {
	client := startKMS(b)
	ctx := context.Background()
	for _, spec := range []string{SpecRSA2048, SpecECCNistP256} {
		b.Run(spec, func(b *testing.B) {
			alias := "alias/bench-" + strings.ToLower(spec)
			if _, err := EnsureKey(ctx, client, alias, spec); err != nil {
				b.Fatal(err)
			}
			ks, err := NewKeySet(client, []string{alias})
			if err != nil {
				b.Fatal(err)
			}
			key, err := ks.Active(ctx)
			if err != nil {
				b.Fatal(err)
			}
			digest := sha256.Sum256([]byte("header.payload"))
			for b.Loop() {
				if _, err := key.SignDigest(ctx, digest[:]); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
