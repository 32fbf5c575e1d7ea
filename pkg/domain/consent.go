package domain

import (
	"slices"
	"time"
)

// Consent is what a user approved for one application: the scopes it may
// receive on their behalf without asking again. It is remembered per user
// and application; approving more scopes later adds to it.
//
// Scopes is a flat list of grants, each "<audience> <scope>" for a scope
// of a registered API, or the bare scope for the OpenID Connect scopes
// (openid, profile, email, offline_access), which belong to no API. An
// audience never contains a space, nor a scope, so the two read back
// unambiguously. ConsentScopes builds such a list.
type Consent struct {
	UserID         string
	ClientID       string
	OrganizationID string
	Scopes         []string // sorted, without duplicates
	GrantedAt      time.Time
	UpdatedAt      time.Time
}

// openIDScopes are the OpenID Connect scopes: about the user, not an API.
var openIDScopes = []string{"openid", "profile", "email", "offline_access"}

func isOpenIDScope(s string) bool { return slices.Contains(openIDScopes, s) }

// ConsentScope is the grant of scope on audience as a Consent lists it.
func ConsentScope(audience, scope string) string {
	if isOpenIDScope(scope) || audience == "" {
		return scope
	}
	return audience + " " + scope
}

// ConsentScopes lists the grants of scopes on audience, sorted and without
// duplicates, as a Consent keeps them.
func ConsentScopes(audience string, scopes []string) []string {
	out := make([]string, 0, len(scopes))
	for _, s := range scopes {
		out = append(out, ConsentScope(audience, s))
	}
	return MergeScopes(out)
}

// MergeScopes returns the union of lists, sorted and without duplicates
// or empty entries.
func MergeScopes(lists ...[]string) []string {
	var out []string
	for _, l := range lists {
		for _, s := range l {
			if s != "" {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) == 0 {
		return nil
	}
	return out
}

// Covers reports whether the consent already grants every one of
// requested (grants as ConsentScopes makes them). A request for nothing is
// covered.
func (c Consent) Covers(requested []string) bool {
	for _, r := range requested {
		if !slices.Contains(c.Scopes, r) {
			return false
		}
	}
	return true
}

// Missing lists the grants of requested that the consent lacks: what a
// consent page must still ask for.
func (c Consent) Missing(requested []string) []string {
	var out []string
	for _, r := range MergeScopes(requested) {
		if !slices.Contains(c.Scopes, r) {
			out = append(out, r)
		}
	}
	return out
}
