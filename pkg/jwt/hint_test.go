package jwt_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

func TestVerifyIDTokenHint(t *testing.T) {
	ctx := context.Background()
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	iss := jwt.NewIssuer("https://auth.example.com", keys, clock, nil)
	other := jwt.NewIssuer("https://auth.example.com", jwttest.NewKeySet(), clock, nil)
	elsewhere := jwt.NewIssuer("https://other.example.com", keys, clock, nil)
	id := func(i *jwt.Issuer) string {
		raw, _, err := i.IDToken(ctx, jwt.IDRequest{Subject: "user-1", ClientID: "spa-1", AuthTime: now,
			AccessToken: "at", Lifetime: time.Hour, Scopes: []string{"openid"}})
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	access, _, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "user-1", ClientID: "spa-1", OrgID: "org-1",
		Audience: "spa-1", Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	good := id(iss)
	for _, tc := range []struct {
		name  string
		raw   string
		after time.Duration // verify this long after issue
		ok    bool
	}{
		{"our ID token", good, 0, true},
		{"expired is still a hint", good, 48 * time.Hour, true},
		{"signed by a key we do not publish", id(other), 0, false},
		{"another issuer", id(elsewhere), 0, false},
		{"an access token", access, 0, false},
		{"not a JWT", "not-a-jwt", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := jwt.NewVerifier("https://auth.example.com", keys, func() time.Time { return now.Add(tc.after) })
			c, err := v.VerifyIDTokenHint(ctx, tc.raw)
			if tc.ok {
				if err != nil || !slices.Equal([]string(c.Audience), []string{"spa-1"}) || c.Subject != "user-1" {
					t.Fatalf("VerifyIDTokenHint = %+v, %v", c, err)
				}
				return
			}
			if !errors.Is(err, jwt.ErrInvalidToken) {
				t.Fatalf("VerifyIDTokenHint error = %v, want ErrInvalidToken", err)
			}
		})
	}
	// And an ID token is no access token.
	if _, err := jwt.NewVerifier("https://auth.example.com", keys, clock).VerifyAccessToken(ctx, good, "spa-1"); !errors.Is(err, jwt.ErrInvalidToken) {
		t.Fatalf("an ID token verified as an access token: %v", err)
	}
}
