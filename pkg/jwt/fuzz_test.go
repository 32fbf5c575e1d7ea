package jwt_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

// Run briefly by make test and for longer by make fuzz. The seeds here and
// under testdata/fuzz are the committed corpus.

// JWT parsing and verification never panic, refuse with ErrInvalidToken,
// and accept only a token whose claims hold: our issuer, the audience
// asked for, not expired, iat and nbf not in the future, subject, client
// and organization present.
func FuzzVerifyAccessToken(f *testing.F) {
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	const iss, aud = "https://auth.example.com", "api"
	good, _, err := jwt.NewIssuer(iss, keys, clock, nil).AccessToken(context.Background(),
		jwt.AccessRequest{Subject: "u1", ClientID: "c1", OrgID: "o1", Audience: aud, Lifetime: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	base := map[string]any{"iss": iss, "sub": "u1", "aud": aud, "client_id": "c1", "org_id": "o1", "jti": "j",
		"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	with := func(k string, v any) map[string]any {
		c := map[string]any{}
		for bk, bv := range base {
			c[bk] = bv
		}
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	parts := strings.Split(good, ".")
	h, p, s := parts[0], parts[1], parts[2]
	for _, seed := range []string{
		good, signClaims(f, keys, base), signClaims(f, keys, with("iat", now.Add(time.Hour).Unix())),
		signClaims(f, keys, with("nbf", now.Add(time.Hour).Unix())), signClaims(f, keys, with("aud", []string{"other", aud})),
		signClaims(f, keys, with("exp", "soon")), signClaims(f, keys, with("iat", nil)),
		h + "." + p + ".", h + ".." + s, "eyJhbGciOiJub25lIn0." + p + ".", good + ".x", "", "...", strings.Repeat("a.", 40),
	} {
		f.Add(seed)
	}
	v := jwt.NewVerifier(iss, keys, clock)
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := v.VerifyAccessToken(context.Background(), raw, aud)
		if err != nil {
			if !errors.Is(err, jwt.ErrInvalidToken) {
				t.Fatalf("refused with %v, not ErrInvalidToken", err)
			}
			return
		}
		switch {
		case c.Issuer != iss || !slices.Contains(c.Audience, aud):
			t.Fatalf("accepted iss %q aud %v", c.Issuer, c.Audience)
		case c.Expiry == nil || !now.Before(c.Expiry.Time()):
			t.Fatalf("accepted an expired token: %v", c.Expiry)
		case c.IssuedAt == nil || c.IssuedAt.Time().After(now.Add(jwt.Leeway)):
			t.Fatalf("accepted iat %v", c.IssuedAt)
		case c.NotBefore != nil && c.NotBefore.Time().After(now.Add(jwt.Leeway)):
			t.Fatalf("accepted nbf %v", c.NotBefore)
		case c.Subject == "" || c.ClientID == "" || c.OrgID == "":
			t.Fatalf("accepted missing claims %+v", c)
		}
	})
}
