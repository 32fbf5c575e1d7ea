package address

import (
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/net/idna"

	"orgauth/pkg/domain"
)

// Email addresses are compared, stored and asserted in one form, the one
// NormalizeEmail returns. Two addresses are the same user's only if their
// normal forms are equal byte for byte.

// MaxEmailLength is RFC 5321 §4.5.3.1.3's path limit less the angle
// brackets.
const MaxEmailLength = 254

// ErrInvalidEmail is an address NormalizeEmail refuses.
var ErrInvalidEmail = errors.New("not an email address")

// NormalizeEmail parses an address strictly and returns its normal form:
// an ASCII dot-atom local part (RFC 5322 §3.4.1; no quoted strings,
// comments or spaces), exactly one @, and the domain in its IDNA ASCII form
// (NormalizeDomain). Only ASCII letters are lower-cased: no Unicode case
// mapping, which would turn İ or the Kelvin sign into ASCII letters and so
// another domain's address into this one. It never trims: input with
// spaces is refused.
func NormalizeEmail(s string) (string, error) {
	if s == "" {
		return "", fmt.Errorf("%w: empty", ErrInvalidEmail)
	}
	if len(s) > MaxEmailLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidEmail, MaxEmailLength)
	}
	if strings.Count(s, "@") != 1 {
		return "", fmt.Errorf("%w: want exactly one @", ErrInvalidEmail)
	}
	local, host, _ := strings.Cut(s, "@")
	if err := checkLocalPart(local); err != nil {
		return "", err
	}
	d, err := NormalizeDomain(host)
	if err != nil {
		return "", fmt.Errorf("%w: %v", ErrInvalidEmail, err)
	}
	out := domain.LowerASCII(local) + "@" + d
	if len(out) > MaxEmailLength {
		return "", fmt.Errorf("%w: longer than %d bytes", ErrInvalidEmail, MaxEmailLength)
	}
	return out, nil
}

// checkLocalPart requires a dot-atom of ASCII atext, at most 64 bytes
// (RFC 5321 §4.5.3.1.1).
func checkLocalPart(l string) error {
	switch {
	case l == "":
		return fmt.Errorf("%w: nothing before the @", ErrInvalidEmail)
	case len(l) > 64:
		return fmt.Errorf("%w: more than 64 bytes before the @", ErrInvalidEmail)
	case l[0] == '.' || l[len(l)-1] == '.' || strings.Contains(l, ".."):
		return fmt.Errorf("%w: dots must separate words before the @", ErrInvalidEmail)
	}
	for i := 0; i < len(l); i++ {
		if !isAtext(l[i]) && l[i] != '.' {
			return fmt.Errorf("%w: %q is not allowed before the @ (no quotes, spaces or non-ASCII)", ErrInvalidEmail, l[i])
		}
	}
	return nil
}

// isAtext is RFC 5322 §3.2.3's atext, in ASCII.
func isAtext(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// idnaProfile converts internationalized names without mapping: a
// character UTS #46 would map (upper case, compatibility forms such as the
// Kelvin sign or full-width letters) is an error, not another letter.
// Built on first use, so that a binary that links this package but never
// normalizes an address does not keep the IDNA tables.
// (A package-level sync.OnceValue would not do: its closure, made at init,
// keeps them reachable.)
func idnaProfile() *idna.Profile {
	idnaOnce.Do(func() {
		idnaProf = idna.New(idna.ValidateForRegistration(), idna.StrictDomainName(true), idna.BidiRule())
	})
	return idnaProf
}

var (
	idnaOnce sync.Once
	idnaProf *idna.Profile
)

// NormalizeDomain returns a DNS name in its ASCII form: ASCII letters
// lower-cased, internationalized labels converted by IDNA 2008 (RFC 5891)
// to their xn-- form, which is what domains are compared in. Letters,
// digits and hyphens only, at least two labels, no trailing dot.
func NormalizeDomain(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty domain")
	}
	if strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f || (r >= 0x80 && r <= 0x9f) }) {
		return "", errors.New("spaces or control characters in the domain")
	}
	a, err := idnaProfile().ToASCII(domain.LowerASCII(s))
	if err != nil {
		return "", fmt.Errorf("domain %q is not a valid internationalized name: %v", s, err)
	}
	if len(a) > 253 {
		return "", errors.New("domain longer than 253 bytes")
	}
	labels := strings.Split(a, ".")
	if len(labels) < 2 {
		return "", fmt.Errorf("domain %q has no dot", s)
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' ||
			strings.ContainsFunc(l, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }) {
			return "", fmt.Errorf("domain %q is not a host name", s)
		}
	}
	return a, nil
}
