package jwt_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

func TestAccessTokenRFC9068(t *testing.T) {
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	iss := jwt.NewIssuer("https://auth.example.com", keys, func() time.Time { return now }, func() string { return "jti-1" })
	raw, claims, err := iss.AccessToken(context.Background(), jwt.AccessRequest{
		Subject: "client-1", ClientID: "client-1", OrgID: "org-1", Audience: "https://api.example.com",
		Scopes: []string{"read", "write"}, Lifetime: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	h := tok.Headers[0]
	if h.ExtraHeaders[jose.HeaderType] != "at+jwt" {
		t.Errorf("typ = %v, want at+jwt", h.ExtraHeaders[jose.HeaderType])
	}
	if h.KeyID != keys.Public().KeyID || h.Algorithm != "ES256" {
		t.Errorf("kid/alg = %q/%q", h.KeyID, h.Algorithm)
	}
	var got map[string]any
	if err := tok.Claims(keys.Public().Key, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"iss": "https://auth.example.com", "sub": "client-1", "aud": "https://api.example.com",
		"client_id": "client-1", "org_id": "org-1", "scope": "read write", "jti": "jti-1",
		"iat": float64(now.Unix()), "exp": float64(now.Add(10 * time.Minute).Unix()),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("claim %s = %v, want %v", k, got[k], v)
		}
	}
	if claims.ID != "jti-1" || claims.Scope != "read write" {
		t.Errorf("returned claims = %+v", claims)
	}
}

func TestVerifyAccessToken(t *testing.T) {
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	iss := jwt.NewIssuer("https://auth.example.com", keys, clock, nil)
	ctx := context.Background()
	raw, _, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "u1", ClientID: "c1", OrgID: "o1", Audience: "mgmt", Lifetime: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	v := jwt.NewVerifier("https://auth.example.com", keys, clock)
	c, err := v.VerifyAccessToken(ctx, raw, "mgmt")
	if err != nil || c.Subject != "u1" || c.OrgID != "o1" {
		t.Fatalf("verify = %+v, %v", c, err)
	}

	other := jwttest.NewKeySet()
	tests := []struct {
		name string
		v    *jwt.Verifier
		raw  string
		aud  string
	}{
		{"wrong audience", v, raw, "other"},
		{"wrong issuer", jwt.NewVerifier("https://evil.example.com", keys, clock), raw, "mgmt"},
		{"expired", jwt.NewVerifier("https://auth.example.com", keys, func() time.Time { return now.Add(time.Minute) }), raw, "mgmt"},
		{"unknown key", jwt.NewVerifier("https://auth.example.com", other, clock), raw, "mgmt"},
		{"tampered", v, raw[:len(raw)-4] + "AAAA", "mgmt"},
		{"garbage", v, "not.a.jwt", "mgmt"},
		{"not a JWS", v, strings.Repeat("x", 20), "mgmt"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := tt.v.VerifyAccessToken(ctx, tt.raw, tt.aud); !errors.Is(err, jwt.ErrInvalidToken) {
				t.Fatalf("err = %v, want ErrInvalidToken", err)
			}
		})
	}
}

func TestAccessTokenNeedsLifetime(t *testing.T) {
	iss := jwt.NewIssuer("https://a", jwttest.NewKeySet(), nil, nil)
	if _, _, err := iss.AccessToken(context.Background(), jwt.AccessRequest{Subject: "s"}); err == nil {
		t.Fatal("zero lifetime accepted")
	}
}
