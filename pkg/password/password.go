package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// The parameters of new hashes: OWASP Password Storage Cheat Sheet, argon2id
// with m=19 MiB, t=2, p=1.
const (
	memoryKiB = 19 * 1024
	passes    = 2
	lanes     = 1
	saltLen   = 16
	keyLen    = 32
)

// Bounds on the parameters Verify accepts from a stored hash.
const (
	maxMemoryKiB = 1024 * 1024 // 1 GiB
	maxPasses    = 10
	maxLanes     = 16
	minSaltLen   = 8
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 64
)

// Policy limits, in characters (runes).
const (
	MinLength = 12
	MaxLength = 256
)

// b64 is the PHC string format's base64: standard alphabet, no padding.
// Strict rejects non-zero trailing bits, so one hash has one encoding.
var b64 = base64.RawStdEncoding.Strict()

// Hash returns the PHC string of a new argon2id hash of pw with a fresh
// random salt:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	key := idKey([]byte(pw), salt, current.passes, current.memory, current.lanes, keyLen)
	return encode(current, salt, key), nil
}

// current are the parameters of new hashes.
var current = params{memory: memoryKiB, passes: passes, lanes: lanes}

type params struct {
	memory, passes uint32
	lanes          uint8
}

func encode(p params, salt, key []byte) string {
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.memory, p.passes, p.lanes, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// Verify reports whether pw matches the PHC-encoded argon2id hash phc. It
// reads the parameters from phc, so hashes made with older parameters keep
// working; a malformed hash, another algorithm or version, or parameters
// beyond sane bounds give false without hashing anything.
func Verify(phc, pw string) bool {
	p, salt, want, err := decode(phc)
	if err != nil {
		return false
	}
	got := idKey([]byte(pw), salt, p.passes, p.memory, p.lanes, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummyHash stands in for a stored hash in VerifyDummy: the current
// parameters, salt and key lengths, and a key no password derives.
var dummyHash = encode(current, make([]byte, saltLen), make([]byte, keyLen))

// VerifyDummy does the work of Verify against a hash with the current
// parameters, and ignores the result. A login for an unknown user calls it,
// so the response time does not tell whether the user exists.
func VerifyDummy(pw string) { Verify(dummyHash, pw) }

var errMalformed = errors.New("password: malformed argon2id hash")

// decode parses "$argon2id$v=19$m=M,t=T,p=P$salt$hash" strictly.
func decode(phc string) (params, []byte, []byte, error) {
	var p params
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errMalformed
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return p, nil, nil, errMalformed
	}
	m, okM := number(kv[0], "m=", maxMemoryKiB)
	t, okT := number(kv[1], "t=", maxPasses)
	l, okP := number(kv[2], "p=", maxLanes)
	if !okM || !okT || !okP {
		return p, nil, nil, errMalformed
	}
	// argon2 needs at least 8 KiB per lane.
	if m < 8*l {
		return p, nil, nil, errMalformed
	}
	p = params{memory: m, passes: t, lanes: uint8(l)}
	salt, err := b64.DecodeString(parts[4])
	if err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, errMalformed
	}
	key, err := b64.DecodeString(parts[5])
	if err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, errMalformed
	}
	return p, salt, key, nil
}

// number parses "<prefix><decimal>" with 1 <= decimal <= max, digits only
// and no leading zero.
func number(s, prefix string, max uint32) (uint32, bool) {
	d, ok := strings.CutPrefix(s, prefix)
	if !ok || d == "" || len(d) > 10 || d[0] == '0' {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseUint(d, 10, 32)
	if err != nil || n < 1 || n > uint64(max) {
		return 0, false
	}
	return uint32(n), true
}

// Check applies the password policy: MinLength to MaxLength characters of
// valid UTF-8. The error says what is wrong, never what the password is.
func Check(pw string) error {
	if !utf8.ValidString(pw) {
		return errors.New("password is not valid UTF-8")
	}
	switch n := utf8.RuneCountInString(pw); {
	case n < MinLength:
		return fmt.Errorf("password must be at least %d characters (got %d)", MinLength, n)
	case n > MaxLength:
		return fmt.Errorf("password must be at most %d characters (got %d)", MaxLength, n)
	}
	return nil
}

// alphabet has no characters that are easily confused: no 0/O/o, 1/l/I.
const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789"

// GeneratedLength is the length of a Generate password: 20 characters of a
// 56-character alphabet, about 116 bits.
const GeneratedLength = 20

// Generate returns a random password of GeneratedLength characters from an
// unambiguous alphabet, drawn uniformly with crypto/rand.
func Generate() string {
	// Rejection sampling: bytes >= limit would bias the first characters.
	const limit = 256 - 256%len(alphabet)
	out := make([]byte, 0, GeneratedLength)
	var buf [32]byte
	for len(out) < GeneratedLength {
		if _, err := rand.Read(buf[:]); err != nil {
			panic("crypto/rand failed: " + err.Error()) // never happens on Linux
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < GeneratedLength {
				out = append(out, alphabet[int(b)%len(alphabet)])
			}
		}
	}
	return string(out)
}

// derivations counts argon2id derivations, so tests can see that an unknown
// email costs what a wrong password does.
var derivations atomic.Int64

// Derivations is how many argon2id keys have been derived in this process
// (for tests).
func Derivations() int64 { return derivations.Load() }

func idKey(pw, salt []byte, passes, memory uint32, lanes uint8, n uint32) []byte {
	derivations.Add(1)
	return argon2.IDKey(pw, salt, passes, memory, lanes, n)
}
