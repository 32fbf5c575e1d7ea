package jwt

import (
	"bytes"
	"encoding/json"
	"testing"

	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// Whatever the claims, what sign marshals for them (wire) is what
// encoding/json writes for AccessClaims itself, byte for byte.
func FuzzAccessWire(f *testing.F) {
	f.Add("https://auth.example.com", "client-1", "https://api.example.com", int64(1764600000), int64(1764596400), int64(0), "jti", "client-1", "read:demo", "org-1", int64(0))
	f.Add("i", "s", "x\by\fz", int64(2), int64(1), int64(0), "", "", "", "", int64(0))          // go-jose escapes \b and \f its way
	f.Add("<&>\u2028", "\xff", "a", int64(0), int64(-1), int64(0), "j", "c", "", "o", int64(0)) // escaping, invalid UTF-8
	f.Add("i", "s", "a", int64(2), int64(1), int64(0), "j", "c", "s", "o", int64(-5))
	f.Fuzz(func(t *testing.T, iss, sub, aud string, exp, iat, nbf int64, jti, client, scope, org string, authTime int64) {
		date := func(n int64, set bool) *josejwt.NumericDate {
			if !set {
				return nil
			}
			d := josejwt.NumericDate(n)
			return &d
		}
		for _, c := range []AccessClaims{
			{Issuer: iss, Subject: sub, Audience: josejwt.Audience{aud}, Expiry: date(exp, true), IssuedAt: date(iat, true),
				ID: jti, ClientID: client, Scope: scope, OrgID: org, AuthTime: date(authTime, authTime != 0)},
			{Issuer: iss, Subject: sub, Audience: josejwt.Audience{aud}, Expiry: date(exp, true), IssuedAt: date(iat, true),
				NotBefore: date(nbf, true), ID: jti, ClientID: client, Scope: scope, OrgID: org, AuthTime: date(authTime, true)},
			{Issuer: iss, Audience: josejwt.Audience{aud, sub}, Expiry: date(exp, true), IssuedAt: date(iat, exp > 0)},
		} {
			want, err := json.Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.Marshal(c.wire())
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("wire %s\nclaims %s", got, want)
			}
		}
	})
}
