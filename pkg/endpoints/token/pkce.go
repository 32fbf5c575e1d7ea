package token

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// verifyPKCE checks a code_verifier against the S256 code_challenge stored
// with the code, RFC 7636 §4.6:
//
//	BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge
//
// The verifier must be 43–128 characters of [A-Z] / [a-z] / [0-9] / "-" /
// "." / "_" / "~" (§4.1). A code without a challenge never verifies: PKCE
// S256 is required for every SPA code (DESIGN), and "plain" is not offered.
func verifyPKCE(verifier, challenge string) bool {
	if challenge == "" || !validVerifier(verifier) {
		return false
	}
	sum := sha256.Sum256([]byte(verifier))
	got := base64.RawURLEncoding.EncodeToString(sum[:])
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

func validVerifier(v string) bool {
	if len(v) < 43 || len(v) > 128 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}
