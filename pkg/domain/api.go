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

// API is a resource server registered on the stage: the audience its
// access tokens name, and the scopes it defines. A token carries only
// scopes of registered APIs, and only those the holder's role may hold.
type API struct {
	Audience  string // the "aud" of its tokens: an absolute URI, never changed
	Name      string
	Scopes    []APIScope
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// APIScope is one scope an API defines: its name as it appears in a
// token's "scope" claim, words a user can read on the consent page, and the
// organization roles that may hold it. A scope without roles is held by
// nobody.
type APIScope struct {
	Name        string
	Description string
	Roles       []Role
}

// Bounds of a registered API.
const (
	MaxAudienceLength         = 200
	MaxAPINameLength          = 100
	MaxAPIScopes              = 50
	MaxScopeNameLength        = 100
	MaxScopeDescriptionLength = 200
)

// Roles lists every organization role.
var Roles = []Role{RoleAdmin, RoleMember}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// APIError is a registered API that fails validation: which field, and
// why.
type APIError struct {
	Field  string // "audience", "name", "scopes", "scopes[i].name", ...
	Reason string
}

func (e *APIError) Error() string { return "invalid " + e.Field + ": " + e.Reason }

func apiInvalid(field, format string, args ...any) error {
	return &APIError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Validate checks an API as an operator registers it; the first problem
// comes back as *APIError.
func (api API) Validate() error {
	if err := ValidateAudience(api.Audience); err != nil {
		return err
	}
	if n := utf8.RuneCountInString(api.Name); strings.TrimSpace(api.Name) == "" || n > MaxAPINameLength ||
		!utf8.ValidString(api.Name) || strings.ContainsFunc(api.Name, unicode.IsControl) {
		return apiInvalid("name", "must be 1 to %d characters of text", MaxAPINameLength)
	}
	if len(api.Scopes) > MaxAPIScopes {
		return apiInvalid("scopes", "at most %d scopes (got %d)", MaxAPIScopes, len(api.Scopes))
	}
	seen := map[string]bool{}
	for i, s := range api.Scopes {
		field := fmt.Sprintf("scopes[%d]", i)
		if !ValidScopeToken(s.Name) || len(s.Name) > MaxScopeNameLength {
			return apiInvalid(field+".name", "%q is not a scope name (1 to %d of the characters RFC 6749 §3.3 allows: no spaces, quotes or backslashes)", s.Name, MaxScopeNameLength)
		}
		if isOpenIDScope(s.Name) {
			return apiInvalid(field+".name", "%q is an OpenID Connect scope, which belongs to no API", s.Name)
		}
		if seen[s.Name] {
			return apiInvalid(field+".name", "%q appears twice", s.Name)
		}
		seen[s.Name] = true
		if n := utf8.RuneCountInString(s.Description); strings.TrimSpace(s.Description) == "" || n > MaxScopeDescriptionLength ||
			!utf8.ValidString(s.Description) || strings.ContainsFunc(s.Description, unicode.IsControl) {
			return apiInvalid(field+".description", "must be 1 to %d characters of text", MaxScopeDescriptionLength)
		}
		for j, r := range s.Roles {
			if !r.Valid() {
				return apiInvalid(field+".roles", "%q is not a role (admin or member)", r)
			}
			if slices.Contains(s.Roles[:j], r) {
				return apiInvalid(field+".roles", "%q appears twice", r)
			}
		}
	}
	return nil
}

// ValidateAudience checks an API's audience: an absolute URI (RFC 3986
// §4.3) such as https://api.example.com, urn:example:api or
// orgauth:management, of at most MaxAudienceLength visible ASCII
// characters, without a fragment.
func ValidateAudience(aud string) error {
	if aud == "" || len(aud) > MaxAudienceLength {
		return apiInvalid("audience", "must be 1 to %d characters", MaxAudienceLength)
	}
	for i := 0; i < len(aud); i++ {
		if aud[i] <= 0x20 || aud[i] >= 0x7f {
			return apiInvalid("audience", "must be visible ASCII without spaces")
		}
	}
	u, err := url.Parse(aud)
	if err != nil || u.Scheme == "" || u.Fragment != "" || strings.Contains(aud, "#") {
		return apiInvalid("audience", "%q is not an absolute URI such as https://api.example.com or urn:example:api", aud)
	}
	switch u.Scheme {
	case "http", "https":
		if u.Host == "" {
			return apiInvalid("audience", "%q has no host", aud)
		}
	default:
		if u.Opaque == "" && u.Host == "" && u.Path == "" {
			return apiInvalid("audience", "%q has nothing after its scheme", aud)
		}
	}
	return nil
}

// ValidScopeToken reports whether s is a scope-token of RFC 6749 §3.3:
//
//	scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
func ValidScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// Has reports whether the API defines scope.
func (api API) Has(scope string) bool {
	return slices.ContainsFunc(api.Scopes, func(s APIScope) bool { return s.Name == scope })
}

// ScopesFor lists, in the API's order, the scopes a user of role may hold.
func (api API) ScopesFor(role Role) []string {
	var out []string
	for _, s := range api.Scopes {
		if slices.Contains(s.Roles, role) {
			out = append(out, s.Name)
		}
	}
	return out
}

// Scope returns the definition of scope, if the API has it.
func (api API) Scope(scope string) (APIScope, bool) {
	i := slices.IndexFunc(api.Scopes, func(s APIScope) bool { return s.Name == scope })
	if i < 0 {
		return APIScope{}, false
	}
	return api.Scopes[i], true
}
