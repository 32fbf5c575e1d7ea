package domain

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/base64"
	"strings"
	"sync/atomic"
	"time"
)

// NewSecret returns a fresh 256-bit random secret, base64url encoded, and its
// SHA-256 hash, which is all that may be stored.
func NewSecret() (plaintext string, hash []byte) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error()) // never happens on Linux
	}
	plaintext = base64.RawURLEncoding.EncodeToString(b[:])
	return plaintext, HashSecret(plaintext)
}

// HashSecret is the stored form of a secret, code or token: SHA-256 of its
// text. The inputs are 256-bit random values, so a fast hash is enough.
func HashSecret(plaintext string) []byte {
	h := sha256.Sum256([]byte(plaintext))
	return h[:]
}

// dummyHash is compared against when there is no client, so that an unknown
// client and a wrong secret cost the same.
var dummyHash = HashSecret("orgauth-no-such-client")

// SecretMatches compares a presented secret with the application's current
// secret and, until it expires, its previous one. It always does the same
// amount of work whatever matches, and compares in constant time.
func (a Application) SecretMatches(presented string, now time.Time) bool {
	h := HashSecret(presented)
	cur := a.SecretHash
	if len(cur) == 0 {
		cur = dummyHash
	}
	prev := a.PreviousSecretHash
	prevValid := len(prev) > 0 && now.Before(a.PreviousSecretExpiresAt)
	if !prevValid {
		prev = dummyHash
	}
	okCur := compareHash(h, cur) && len(a.SecretHash) > 0
	okPrev := compareHash(h, prev) && prevValid
	return okCur || okPrev
}

// NoClientSecretCheck burns the same work as SecretMatches for a client that
// does not exist, so timing does not tell whether a client id is known.
func NoClientSecretCheck(presented string) {
	h := HashSecret(presented)
	compareHash(h, dummyHash)
	compareHash(h, dummyHash)
}

// secretComparisons counts the constant-time comparisons of client secret
// hashes, so tests can see that an unknown client costs what a known one
// does.
var secretComparisons atomic.Int64

// SecretComparisons is how many client secret hashes have been compared in
// this process (for tests).
func SecretComparisons() int64 { return secretComparisons.Load() }

func compareHash(h, want []byte) bool {
	secretComparisons.Add(1)
	return subtle.ConstantTimeCompare(h, want) == 1
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// NewID returns a random identifier: 120 bits, 24 lower-case base32
// characters, safe in URLs, forms and DynamoDB keys.
func NewID() string {
	var b [15]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return strings.ToLower(idEncoding.EncodeToString(b[:]))
}

// MaxIDLength bounds identifiers taken from requests (client ids,
// transaction ids): every one this server makes is 24 characters, and a
// longer one would only be a way to make the table's keys too long.
const MaxIDLength = 128

// ValidID reports whether s can name something of this server: 1 to
// MaxIDLength visible ASCII characters or spaces (a client id is *VSCHAR,
// RFC 6749 Appendix A.1). Anything else names nothing and is treated as
// unknown.
func ValidID(s string) bool {
	if s == "" || len(s) > MaxIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
