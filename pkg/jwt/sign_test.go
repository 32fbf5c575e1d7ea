package jwt_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/jwttest"
)

// The issuer writes its JWS itself, with the protected header go-jose made
// for the key: every token must be what go-jose's own Signer makes of the
// same claims with the same private key. RS256 (PKCS #1 v1.5) is
// deterministic, so its tokens are compared whole; ES256 signatures are
// random, so header and payload are compared and the signature verified.
func TestSignIsGoJoses(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	for name, keys := range map[string]*jwttest.KeySet{"RS256": jwttest.NewRSAKeySet(), "ES256": jwttest.NewKeySet()} {
		t.Run(name, func(t *testing.T) {
			iss := jwt.NewIssuer("https://auth.example.com", keys, func() time.Time { return now }, nil)
			for n := range 2 { // the second token signs with the kept header
				raw, access, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "client-1", ClientID: "client-1",
					OrgID: "org-1", Audience: "https://api.example.com", Scopes: []string{"read:demo"}, Lifetime: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				sameAsGoJose(t, keys, jwt.AccessTokenType, raw, access)
				// A user's token: auth_time, and a scope left empty.
				user, userClaims, err := iss.AccessToken(ctx, jwt.AccessRequest{Subject: "user-1", ClientID: "spa-1",
					OrgID: "org-1", Audience: "https://auth.example.com", AuthTime: now.Add(-time.Minute), Lifetime: time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				sameAsGoJose(t, keys, jwt.AccessTokenType, user, userClaims)
				raw, id, err := iss.IDToken(ctx, jwt.IDRequest{Subject: "user-1", ClientID: "spa-1", Nonce: "n\"<&" + string(rune('0'+n)),
					AccessToken: raw, Lifetime: time.Hour, Scopes: []string{"openid", "email"}, User: jwt.UserClaims{Email: "a@example.com"}})
				if err != nil {
					t.Fatal(err)
				}
				sameAsGoJose(t, keys, jwt.IDTokenType, raw, id)
			}
		})
	}
}

func sameAsGoJose(t *testing.T, keys *jwttest.KeySet, typ, raw string, claims any) {
	t.Helper()
	signer, err := jose.NewSigner(keys.SigningKey(), (&jose.SignerOptions{}).WithType(jose.ContentType(typ)))
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	want, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	if keys.Public().Algorithm == string(jose.RS256) {
		if raw != want {
			t.Fatalf("%s token\n got %s\nwant %s", typ, raw, want)
		}
		return
	}
	got, wantParts := strings.Split(raw, "."), strings.Split(want, ".")
	if len(got) != 3 || got[0] != wantParts[0] || got[1] != wantParts[1] {
		t.Fatalf("%s token\n got %s\nwant %s.%s.<signature>", typ, raw, wantParts[0], wantParts[1])
	}
	parsed, err := jose.ParseSignedCompact(raw, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := parsed.Verify(keys.Public().Key); err != nil {
		t.Fatalf("%s token does not verify: %v", typ, err)
	}
}
