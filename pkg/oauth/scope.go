package oauth

import (
	"slices"
	"strings"
)

// Scope is a list of scope tokens, RFC 6749 §3.3: "The value of the scope
// parameter is expressed as a list of space-delimited, case-sensitive
// strings." Each token appears once, in the order first given.
type Scope []string

// ParseScope splits a scope parameter on spaces (%x20), dropping empty
// tokens and repeats. An omitted or blank parameter is an empty Scope;
// what that means (everything allowed, or openid) is the caller's rule.
func ParseScope(s string) Scope {
	var out Scope
	for _, tok := range strings.Split(s, " ") {
		if tok != "" && !slices.Contains(out, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// Contains reports whether tok is one of s's tokens.
func (s Scope) Contains(tok string) bool { return slices.Contains(s, tok) }

// NotIn returns the first token of s that none of the allowed lists holds,
// and whether there is one.
func (s Scope) NotIn(allowed ...[]string) (string, bool) {
	for _, tok := range s {
		if !slices.ContainsFunc(allowed, func(list []string) bool { return slices.Contains(list, tok) }) {
			return tok, true
		}
	}
	return "", false
}

// Intersect returns the tokens of s that other holds too, in s's order.
func (s Scope) Intersect(other []string) Scope {
	var out Scope
	for _, tok := range s {
		if slices.Contains(other, tok) {
			out = append(out, tok)
		}
	}
	return out
}

// String is the scope parameter: the tokens joined by single spaces.
func (s Scope) String() string { return strings.Join(s, " ") }

// Target is the API a request names: "audience" (Auth0's name) or
// "resource" (RFC 8707 §2, the standard one), "" when neither is sent. Both
// may be sent if they agree; naming two different APIs is invalid_request
// (RFC 8707 §2: one token for one audience is all this server issues).
func Target(audience, resource string) (string, error) {
	switch {
	case audience == "":
		return resource, nil
	case resource == "" || resource == audience:
		return audience, nil
	}
	return "", InvalidRequest("audience and resource name different APIs; send one")
}
