package domain

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Documented bounds of an application's fields.
const (
	MaxNameLen        = 100
	MaxDescriptionLen = 500
	MaxURLs           = 20
	MaxURLLen         = 2000
	MaxScopes         = 50

	MinAccessTokenLifetime    = 60 * time.Second
	MaxSPAAccessTokenLifetime = time.Hour      // SPA tokens are short-lived, per user
	MaxM2MAccessTokenLifetime = 24 * time.Hour // M2M tokens
)

// FieldError is a validation failure of one named field, in the names the
// applications API uses (callback_urls[0], access_token_lifetime, ...).
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Invalid returns a *FieldError for field with a formatted reason.
func Invalid(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

func invalid(field, format string, args ...any) *FieldError { return Invalid(field, format, args...) }

func checkName(name string) error {
	n := utf8.RuneCountInString(name)
	if n < 1 || n > MaxNameLen || strings.TrimSpace(name) == "" {
		return invalid("name", "must be 1 to %d characters and not blank", MaxNameLen)
	}
	if HasInvisible(name, false) {
		return invalid("name", "must not contain control, invisible or bidirectional formatting characters")
	}
	return nil
}

func checkDescription(d string) error {
	if utf8.RuneCountInString(d) > MaxDescriptionLen {
		return invalid("description", "must be at most %d characters", MaxDescriptionLen)
	}
	if HasInvisible(d, true) {
		return invalid("description", "must not contain control, invisible or bidirectional formatting characters")
	}
	return nil
}

func hasControl(s string) bool { return strings.ContainsFunc(s, unicode.IsControl) }

// HasInvisible reports whether s, a text that orgauth's pages or the
// console display, holds a character that is not seen as itself: Unicode
// categories Cc (controls) and Cf (format characters, among them the
// zero-width characters U+200B..U+200D, U+2060 and U+FEFF, and every
// bidirectional control: U+061C, U+200E, U+200F, U+202A..U+202E and
// U+2066..U+2069), the line and paragraph separators U+2028 and U+2029,
// and U+FFFD, which stands for bytes that are not UTF-8. newline allows
// '\n' (multi-line descriptions).
func HasInvisible(s string, newline bool) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		if r == '\n' && newline {
			return false
		}
		return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp) || isBidiControl(r) || r == utf8.RuneError
	})
}

// isBidiControl is Unicode's Bidi_Control property (all of them are Cf
// too; listed so that the rule does not depend on the category table).
func isBidiControl(r rune) bool {
	return r == 0x061C || r == 0x200E || r == 0x200F || (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// checkRedirectURLs enforces the rules for callback and logout URLs: absolute,
// https (http only for loopback hosts, RFC 8252 §7.3), no fragment (RFC 6749
// §3.1.2), no wildcard (exact matching, RFC 9700 §2.1), no userinfo.
func checkRedirectURLs(field string, urls []string) error {
	if err := checkListLen(field, urls); err != nil {
		return err
	}
	for i, s := range urls {
		f := fmt.Sprintf("%s[%d]", field, i)
		if len(s) > MaxURLLen || hasControl(s) || strings.ContainsAny(s, " ") {
			return invalid(f, "must be a URL of at most %d characters without spaces", MaxURLLen)
		}
		if strings.Contains(s, "*") {
			return invalid(f, "must not contain a wildcard: URLs are matched exactly")
		}
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" {
			return invalid(f, "must be an absolute URL")
		}
		if u.Fragment != "" || strings.Contains(s, "#") {
			return invalid(f, "must not contain a fragment")
		}
		if u.User != nil {
			return invalid(f, "must not contain userinfo")
		}
		if err := checkScheme(u); err != nil {
			return invalid(f, "%s", err.Error())
		}
	}
	return checkDuplicates(field, urls)
}

// checkOrigins enforces web origins (RFC 6454): scheme, host and optional
// port only.
func checkOrigins(origins []string) error {
	const field = "allowed_origins"
	if err := checkListLen(field, origins); err != nil {
		return err
	}
	for i, s := range origins {
		f := fmt.Sprintf("%s[%d]", field, i)
		if strings.Contains(s, "*") {
			return invalid(f, "must not contain a wildcard")
		}
		u, err := url.Parse(s)
		if err != nil || !u.IsAbs() || u.Host == "" || hasControl(s) {
			return invalid(f, "must be an origin such as https://app.example.com")
		}
		if u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(s, "?") || strings.Contains(s, "#") {
			return invalid(f, "must be scheme, host and optional port only, with no path, query or fragment")
		}
		if err := checkScheme(u); err != nil {
			return invalid(f, "%s", err.Error())
		}
		if u.Scheme+"://"+u.Host != s { // e.g. a percent-encoded host: no browser sends that Origin
			return invalid(f, "must be an origin such as https://app.example.com")
		}
		if strings.ToLower(s) != s {
			return invalid(f, "must be lower case, as browsers send it")
		}
		// Browsers send an origin serialized: no percent-encoding in the
		// host, nothing but scheme://host[:port].
		if u.Scheme+"://"+u.Host != s || strings.Contains(u.Host, "%") {
			return invalid(f, "must be an origin such as https://app.example.com")
		}
	}
	return checkDuplicates(field, origins)
}

func checkScheme(u *url.URL) error {
	switch {
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && IsLoopback(u.Hostname()):
		return nil
	case u.Scheme == "http":
		return fmt.Errorf("must use https (http only for loopback hosts)")
	default:
		return fmt.Errorf("must use https")
	}
}

func checkListLen(field string, list []string) error {
	if len(list) > MaxURLs {
		return invalid(field, "must have at most %d entries", MaxURLs)
	}
	return nil
}

func checkDuplicates(field string, list []string) error {
	seen := map[string]bool{}
	for i, s := range list {
		if seen[s] {
			return invalid(fmt.Sprintf("%s[%d]", field, i), "is listed twice")
		}
		seen[s] = true
	}
	return nil
}

// checkScopes enforces RFC 6749 §3.3 scope-token syntax.
func checkScopes(scopes []string) error {
	if len(scopes) > MaxScopes {
		return invalid("scopes", "must have at most %d entries", MaxScopes)
	}
	for i, s := range scopes {
		if s == "" || len(s) > 100 || strings.ContainsFunc(s, func(r rune) bool {
			return r < 0x21 || r == 0x22 || r == 0x5c || r > 0x7e
		}) {
			return invalid(fmt.Sprintf("scopes[%d]", i), "must be a scope token: printable ASCII without spaces, quotes or backslashes")
		}
	}
	return checkDuplicates("scopes", scopes)
}

// CheckAccessTokenLifetime bounds an access token lifetime, in seconds, by
// the client type: SPA tokens are per user and short-lived.
func CheckAccessTokenLifetime(t ClientType, seconds int64) error {
	max := MaxM2MAccessTokenLifetime
	if t == ClientSPA {
		max = MaxSPAAccessTokenLifetime
	}
	d := time.Duration(seconds) * time.Second
	if d < MinAccessTokenLifetime || d > max {
		return invalid("access_token_lifetime", "must be %d to %d seconds for %s applications", int(MinAccessTokenLifetime/time.Second), int(max/time.Second), t)
	}
	return nil
}

// RegistersRedirectURI reports whether uri is one of the application's
// callback URLs. They match exactly (RFC 9700 §4.1.3): no prefix, no
// normalisation, no wildcard.
func (a Application) RegistersRedirectURI(uri string) bool {
	return uri != "" && slices.Contains(a.CallbackURLs, uri)
}

// Validate checks a whole application, as created or after a patch: every
// field, and the settings that make no sense for its type. The error is a
// *FieldError naming the first offending field. The applications API,
// orgauthctl and the local seed all create applications through it.
func (a Application) Validate() error {
	if err := checkName(a.Name); err != nil {
		return err
	}
	if err := checkDescription(a.Description); err != nil {
		return err
	}
	if err := checkRedirectURLs("callback_urls", a.CallbackURLs); err != nil {
		return err
	}
	if err := checkRedirectURLs("logout_urls", a.LogoutURLs); err != nil {
		return err
	}
	if err := checkOrigins(a.AllowedOrigins); err != nil {
		return err
	}
	if err := checkScopes(a.Scopes); err != nil {
		return err
	}
	if a.AccessTokenLifetime != 0 {
		if err := CheckAccessTokenLifetime(a.Type, int64(a.AccessTokenLifetime/time.Second)); err != nil {
			return err
		}
	}
	if a.Type == ClientM2M {
		// Machine clients have no browser: no redirects and no CORS.
		for _, f := range []struct {
			name string
			list []string
		}{{"callback_urls", a.CallbackURLs}, {"logout_urls", a.LogoutURLs}, {"allowed_origins", a.AllowedOrigins}} {
			if len(f.list) > 0 {
				return invalid(f.name, "M2M applications have no %s: they sign in no user and run in no browser", strings.ReplaceAll(f.name, "_", " "))
			}
		}
	}
	return nil
}
