package jwt_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

// opaque lets a test sign any claims with a test key set's key, as a
// forger holding the key (or a buggy issuer) could.
type opaque struct{ k *jwttest.KeySet }

func (o opaque) Public() *jose.JSONWebKey { p := o.k.Public(); return &p }
func (o opaque) Algs() []jose.SignatureAlgorithm {
	return []jose.SignatureAlgorithm{jose.SignatureAlgorithm(o.k.Public().Algorithm)}
}
func (o opaque) SignPayload(payload []byte, _ jose.SignatureAlgorithm) ([]byte, error) {
	d := sha256.Sum256(payload)
	return o.k.SignDigest(context.Background(), d[:])
}

// signClaims signs claims as an at+jwt with k.
func signClaims(t testing.TB, k *jwttest.KeySet, claims any) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(k.Public().Algorithm), Key: opaque{k}},
		(&jose.SignerOptions{}).WithType(jwt.AccessTokenType))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := josejwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// iat and nbf are checked with a leeway of jwt.Leeway: a token issued, or
// valid from, further in the future is invalid; within the leeway it is
// accepted (clocks differ a little).
func TestVerifyChecksIatAndNbf(t *testing.T) {
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	v := jwt.NewVerifier("https://auth.example.com", keys, func() time.Time { return now })
	claims := func(iat, nbf time.Time) map[string]any {
		c := map[string]any{"iss": "https://auth.example.com", "sub": "u1", "aud": "api", "client_id": "c1", "org_id": "o1",
			"jti": "j1", "exp": now.Add(time.Hour).Unix()}
		if !iat.IsZero() {
			c["iat"] = iat.Unix()
		}
		if !nbf.IsZero() {
			c["nbf"] = nbf.Unix()
		}
		return c
	}
	for name, c := range map[string]struct {
		iat, nbf time.Time
		ok       bool
	}{
		"now":                     {now, time.Time{}, true},
		"iat within the leeway":   {now.Add(jwt.Leeway - time.Second), time.Time{}, true},
		"nbf within the leeway":   {now, now.Add(jwt.Leeway - time.Second), true},
		"nbf past":                {now, now.Add(-time.Minute), true},
		"iat in the future":       {now.Add(jwt.Leeway + 2*time.Second), time.Time{}, false},
		"iat a day in the future": {now.Add(24 * time.Hour), time.Time{}, false},
		"nbf in the future":       {now, now.Add(jwt.Leeway + 2*time.Second), false},
		"no iat":                  {time.Time{}, time.Time{}, false},
	} {
		_, err := v.VerifyAccessToken(context.Background(), signClaims(t, keys, claims(c.iat, c.nbf)), "api")
		if c.ok && err != nil {
			t.Errorf("%s: refused: %v", name, err)
		}
		if !c.ok && !errors.Is(err, jwt.ErrInvalidToken) {
			t.Errorf("%s: err = %v, want ErrInvalidToken", name, err)
		}
	}
}
