package jwt_test

import (
	"context"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

// The example of OpenID Connect Core Appendix A.3.
func TestAccessTokenHashVector(t *testing.T) {
	if got := jwt.AccessTokenHash("jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"); got != "77QmUPtjPfzWtF2AnpK9RQ" {
		t.Fatalf("at_hash = %q", got)
	}
}

func TestIDToken(t *testing.T) {
	keys := jwttest.NewKeySet()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	iss := jwt.NewIssuer("https://auth.example.com", keys, func() time.Time { return now }, nil)
	user := jwt.UserClaims{Email: "ada@example.com", Name: "Ada"}
	parse := func(raw string) map[string]any {
		t.Helper()
		tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "JWT" {
			t.Fatalf("typ = %v", typ)
		}
		var m map[string]any
		if err := tok.Claims(keys.Public().Key, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	raw, _, err := iss.IDToken(context.Background(), jwt.IDRequest{
		Subject: "user-1", ClientID: "spa-1", AuthTime: now.Add(-time.Minute), Nonce: "n-1",
		AccessToken: "at", Lifetime: time.Hour, Scopes: []string{"openid", "email", "profile"}, User: user,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := parse(raw)
	want := map[string]any{
		"iss": "https://auth.example.com", "sub": "user-1", "aud": "spa-1", "azp": "spa-1", "nonce": "n-1",
		"exp": float64(now.Add(time.Hour).Unix()), "iat": float64(now.Unix()), "auth_time": float64(now.Add(-time.Minute).Unix()),
		"at_hash": jwt.AccessTokenHash("at"), "email": "ada@example.com", "email_verified": false, "name": "Ada",
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if len(m) != len(want) {
		t.Errorf("claims = %v", m)
	}
	// The organization is the access token's (org_id there, RFC 9068) and
	// /userinfo's: an ID token's org_id makes Auth0's SDKs send it back as
	// an Auth0 organization and then reject the token.
	if _, ok := m["org_id"]; ok {
		t.Errorf("ID token carries org_id: %v", m)
	}

	// openid alone releases no user claims; no nonce, no at_hash when absent.
	raw, _, err = iss.IDToken(context.Background(), jwt.IDRequest{Subject: "user-1", ClientID: "spa-1", Lifetime: time.Hour, Scopes: []string{"openid"}, User: user})
	if err != nil {
		t.Fatal(err)
	}
	m = parse(raw)
	for _, k := range []string{"email", "email_verified", "name", "nonce", "at_hash", "auth_time"} {
		if _, ok := m[k]; ok {
			t.Errorf("%s released: %v", k, m)
		}
	}
	// An ID token is no access token.
	if _, err := jwt.NewVerifier("https://auth.example.com", keys, func() time.Time { return now }).VerifyAccessToken(context.Background(), raw, "spa-1"); err == nil {
		t.Fatal("ID token accepted as an access token")
	}
	if _, _, err := iss.IDToken(context.Background(), jwt.IDRequest{Subject: "u", ClientID: "c"}); err == nil {
		t.Fatal("zero lifetime accepted")
	}
}
