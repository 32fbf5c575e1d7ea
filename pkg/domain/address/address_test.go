package address_test

import (
	"errors"
	"testing"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
)

// Item 7: one strict parse and normal form for every address orgauth
// compares, stores or asserts.
func TestNormalizeEmail(t *testing.T) {
	good := map[string]string{
		"alice@acme.example":        "alice@acme.example",
		"Alice.Smith@ACME.Example":  "alice.smith@acme.example",
		"a+tag@sub.acme.example":    "a+tag@sub.acme.example",
		"bob@bücher.example":        "bob@xn--bcher-kva.example",
		"bob@xn--bcher-kva.example": "bob@xn--bcher-kva.example",
		"o'brien@acme.example":      "o'brien@acme.example",
	}
	for in, want := range good {
		got, err := address.NormalizeEmail(in)
		if err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	bad := []string{
		"", "alice", "@acme.example", "alice@",
		"alice@acme.example@evil.example",   // two @
		`"alice@acme.example"@evil.example`, // quoted local part
		`"alice"@evil.example`,
		"alice @acme.example", " alice@acme.example", "alice@acme.example\n", "al\x00ice@acme.example",
		"alice@\u0130nc.example",   // İ: Unicode lower-casing makes it i
		"alice@\u212Aacme.example", // Kelvin sign: Unicode lower-casing makes it k
		"alice@ａｃｍｅ.example",       // full-width letters: NFKC makes them ASCII
		"\u212Aelly@acme.example",  // the same in the local part
		"alice(comment)@acme.example", "alice..smith@acme.example", ".alice@acme.example",
		"alice@localhost", "alice@acme.example.", "alice@-acme.example", "alice@acme_corp.example",
		"alice@[192.0.2.1]",
	}
	for _, in := range bad {
		if got, err := address.NormalizeEmail(in); !errors.Is(err, address.ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want ErrInvalidEmail", in, got, err)
		}
	}
	if domain.LowerASCII("AB\u212Ac\u0130") != "ab\u212Ac\u0130" {
		t.Error("LowerASCII changed a non-ASCII letter")
	}
}
