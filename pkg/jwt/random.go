package jwt

import (
	"crypto/rand"
	"encoding/base64"
)

// randomID is a 128-bit random jti.
func randomID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}
