package domain

import "strings"

// openIDWords says what each OpenID Connect scope lets an application know
// or do, in words a user reads on the consent page and in the console.
var openIDWords = map[string]string{
	"openid":         "Know who you are: your user id in this organization.",
	"profile":        "See your name.",
	"email":          "See your email address.",
	"offline_access": "Keep its access while you are not using it, until you withdraw this consent.",
}

// OpenIDScopeWords describes an OpenID Connect scope in plain words; ok is
// false for any other scope.
func OpenIDScopeWords(scope string) (words string, ok bool) {
	words, ok = openIDWords[scope]
	return words, ok
}

// SplitConsentScope reads back a grant of a Consent: its audience ("" for
// an OpenID Connect scope) and its scope.
func SplitConsentScope(grant string) (audience, scope string) {
	if a, s, ok := strings.Cut(grant, " "); ok {
		return a, s
	}
	return "", grant
}
