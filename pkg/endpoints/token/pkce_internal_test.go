package token

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
)

func TestVerifyPKCE(t *testing.T) {
	// RFC 7636 Appendix B.
	const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
	const challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
	for _, tc := range []struct {
		name, v, c string
		ok         bool
	}{
		{"appendix B", verifier, challenge, true},
		{"wrong verifier", strings.Replace(verifier, "d", "e", 1), challenge, false},
		{"plain (verifier equals challenge)", challenge, challenge, false},
		{"no challenge", verifier, "", false},
		{"missing verifier", "", challenge, false},
		{"too short", verifier[:42], challenge, false},
		{"too long", strings.Repeat("a", 129), challenge, false},
		{"bad character", verifier[:42] + "+", challenge, false},
		{"128 unreserved", strings.Repeat("-._~", 32), s256(strings.Repeat("-._~", 32)), true},
	} {
		if got := verifyPKCE(tc.v, tc.c); got != tc.ok {
			t.Errorf("%s: got %v", tc.name, got)
		}
	}
}

func s256(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}
