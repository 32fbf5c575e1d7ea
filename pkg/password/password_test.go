package password

import (
	"regexp"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestRoundTrip(t *testing.T) {
	for _, pw := range []string{"correct horse battery staple", "pässwörd-ünïcødé-🔑", ""} {
		h, err := Hash(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !phcPattern.MatchString(h) {
			t.Fatalf("hash %q is not the expected PHC string", h)
		}
		if !Verify(h, pw) {
			t.Errorf("Verify(Hash(%q)) = false", pw)
		}
		if Verify(h, pw+"x") || Verify(h, strings.ToUpper(pw)+"X") {
			t.Errorf("a wrong password verified against the hash of %q", pw)
		}
	}
}

func TestSaltIsFresh(t *testing.T) {
	a, _ := Hash("same password here")
	b, _ := Hash("same password here")
	if a == b {
		t.Fatal("two hashes of one password are equal: the salt is not random")
	}
}

// TestEncoding pins the PHC layout and its base64 (standard alphabet, no
// padding), which other argon2 implementations read.
func TestEncoding(t *testing.T) {
	salt := []byte("0123456789abcdef")
	key := []byte{0xfb, 0xff, 0x00, 0x01}
	h := encode(params{memory: 19456, passes: 2, lanes: 1}, salt, key)
	if want := "$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$+/8AAQ"; h != want {
		t.Fatalf("encode = %q, want %q", h, want)
	}
}

func TestTamperedAndMalformed(t *testing.T) {
	const pw = "a perfectly fine password"
	h, err := Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	parts := strings.Split(h, "$") // "", argon2id, v=19, params, salt, hash
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	flip := func(s string) string { // change one character, keeping it base64
		b := []byte(s)
		if b[3] == 'A' {
			b[3] = 'B'
		} else {
			b[3] = 'A'
		}
		return string(b)
	}
	cases := map[string]string{
		"empty":            "",
		"garbage":          "not a hash",
		"tampered hash":    with(5, flip(parts[5])),
		"tampered salt":    with(4, flip(parts[4])),
		"other params":     with(3, "m=19456,t=3,p=1"),
		"argon2i":          with(1, "argon2i"),
		"bcrypt":           "$2b$12$abcdefghijklmnopqrstuuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ01",
		"version 16":       with(2, "v=16"),
		"missing part":     strings.Join(parts[:5], "$"),
		"extra part":       h + "$x",
		"params reordered": with(3, "t=2,m=19456,p=1"),
		"param missing":    with(3, "m=19456,t=2"),
		"memory too large": with(3, "m=1048577,t=2,p=1"),
		"memory huge":      with(3, "m=99999999999,t=2,p=1"),
		"passes too many":  with(3, "m=19456,t=11,p=1"),
		"lanes too many":   with(3, "m=19456,t=2,p=17"),
		"zero passes":      with(3, "m=19456,t=0,p=1"),
		"zero lanes":       with(3, "m=19456,t=2,p=0"),
		"memory below 8p":  with(3, "m=7,t=2,p=1"),
		"negative":         with(3, "m=-1,t=2,p=1"),
		"plus sign":        with(3, "m=+19456,t=2,p=1"),
		"leading zero":     with(3, "m=019456,t=2,p=1"),
		"not a number":     with(3, "m=lots,t=2,p=1"),
		"salt not base64":  with(4, "!!!!!!!!!!!!!!!!!!!!!!"),
		"salt padded":      with(4, parts[4]+"=="),
		"salt too short":   with(4, "AAAA"),
		"hash too short":   with(5, "AAAA"),
		"hash empty":       with(5, ""),
	}
	for name, phc := range cases {
		if Verify(phc, pw) {
			t.Errorf("%s: Verify(%q) = true", name, phc)
		}
	}
	if !Verify(h, pw) {
		t.Fatal("the untampered hash no longer verifies")
	}
}

// TestOtherParameters: a hash made with other (sane) parameters still
// verifies, so the parameters can be raised later without a migration.
func TestOtherParameters(t *testing.T) {
	const pw = "yet another fine password"
	salt := []byte("saltsaltsaltsalt")
	p := params{memory: 64, passes: 1, lanes: 2}
	h := encode(p, salt, argon2.IDKey([]byte(pw), salt, p.passes, p.memory, p.lanes, 32))
	if !Verify(h, pw) {
		t.Fatalf("Verify(%q) = false", h)
	}
	if Verify(h, pw+"!") {
		t.Fatal("wrong password verified")
	}
}

// The dummy verification for unknown emails runs argon2id with exactly the
// parameters, salt length and key length of a real hash, through Verify,
// so an unknown email costs the same time as a wrong password.
func TestVerifyDummyCostsWhatAHashCosts(t *testing.T) {
	real, err := Hash("a password of a real user")
	if err != nil {
		t.Fatal(err)
	}
	rp, rsalt, rkey, err := decode(real)
	if err != nil {
		t.Fatal(err)
	}
	dp, dsalt, dkey, err := decode(dummyHash)
	if err != nil {
		t.Fatalf("the dummy hash does not decode, so Verify returns before hashing: %v", err)
	}
	if dp != rp || len(dsalt) != len(rsalt) || len(dkey) != len(rkey) {
		t.Fatalf("dummy %+v salt %d key %d, real %+v salt %d key %d", dp, len(dsalt), len(dkey), rp, len(rsalt), len(rkey))
	}
	if Verify(dummyHash, "") || Verify(dummyHash, "anything") {
		t.Fatal("a password verifies against the dummy hash")
	}
	VerifyDummy("anything")
}

func TestCheck(t *testing.T) {
	ok := []string{"twelve chars", strings.Repeat("é", 12), strings.Repeat("x", 256), "🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑🔑"}
	bad := []string{"", "short", "eleven char", strings.Repeat("x", 257), "twelve chars\xff"}
	for _, pw := range ok {
		if err := Check(pw); err != nil {
			t.Errorf("Check(%d runes) = %v", len([]rune(pw)), err)
		}
	}
	for _, pw := range bad {
		err := Check(pw)
		if err == nil {
			t.Errorf("Check(%q) passed", pw)
			continue
		}
		if pw != "" && strings.Contains(err.Error(), pw) {
			t.Errorf("Check's error %q contains the password", err)
		}
	}
}

func TestGenerate(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		pw := Generate()
		if len(pw) != GeneratedLength || seen[pw] {
			t.Fatalf("bad or repeated password %q", pw)
		}
		seen[pw] = true
		if err := Check(pw); err != nil {
			t.Fatalf("generated %q fails the policy: %v", pw, err)
		}
		for _, c := range pw {
			if !strings.ContainsRune(alphabet, c) || strings.ContainsRune("0Oo1lI", c) {
				t.Fatalf("generated %q has character %q", pw, c)
			}
			counts[c]++
		}
	}
	// 40000 draws over 56 characters: about 714 each. Every character must
	// appear, and none wildly more often than the others.
	if len(counts) != len(alphabet) {
		t.Fatalf("only %d of %d characters ever appeared", len(counts), len(alphabet))
	}
	for c, n := range counts {
		if n < 500 || n > 950 {
			t.Errorf("character %q appeared %d times (expected about 714)", c, n)
		}
	}
}

func BenchmarkHash(b *testing.B) {
	for b.Loop() {
		if _, err := Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	h, _ := Hash("correct horse battery staple")
	for b.Loop() {
		Verify(h, "correct horse battery staple")
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	for b.Loop() {
		VerifyDummy("correct horse battery staple")
	}
}
