package domain

import "strings"

// Email addresses are compared, stored and asserted in one form, the one
// address.NormalizeEmail returns (pkg/domain/address, which holds the
// IDNA tables only sign-in needs).

// EmailDomain is the domain of a normalized address ("" if it has none).
func EmailDomain(email string) string {
	_, d, ok := strings.Cut(email, "@")
	if !ok {
		return ""
	}
	return d
}

// LowerASCII lower-cases ASCII letters only, leaving every other byte as it
// is. Store keys of emails use it: strings.ToLower would map the Kelvin
// sign to k.
func LowerASCII(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
