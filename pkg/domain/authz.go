package domain

import (
	"fmt"
	"slices"
	"strings"
)

// ConsoleClientID is the developer console's client: defined by the stack,
// not an application anyone owns. It is stored nowhere, belongs to no
// organization, and every organization's members sign in to it; its
// tokens carry the organization of the user who signed in. No generated id
// (NewID: 24 base32 characters) can be it.
const ConsoleClientID = "orgauth-console"

// IsConsole reports whether clientID is the developer console's.
func IsConsole(clientID string) bool { return clientID == ConsoleClientID }

// IssuerURL is an endpoint of the issuer: path (which starts with "/")
// after the issuer without its trailing slash, so that "https://a.example/"
// and "https://a.example" both give "https://a.example/oauth/token". The
// issuer itself stays exactly as configured: it is every token's iss, and
// Auth0's SDKs expect "https://<domain>/" with the slash.
func IssuerURL(issuer, path string) string { return strings.TrimSuffix(issuer, "/") + path }

// ConsoleApplication is the developer console as a client of the stage of
// issuer: an SPA whose callback and logout URLs are fixed under
// <issuer>/console/.
func ConsoleApplication(issuer string) Application {
	return Application{
		ClientID: ConsoleClientID, Name: "orgauth developer console", Type: ClientSPA,
		Description:    "The stage's own console, where members manage their organization's applications.",
		CallbackURLs:   []string{IssuerURL(issuer, "/console/callback")},
		LogoutURLs:     []string{IssuerURL(issuer, "/console/")},
		AllowedOrigins: []string{originOf(issuer)},
		CreatedBy:      "orgauth",
	}
}

func originOf(issuer string) string {
	for i, n := 0, 0; i < len(issuer); i++ {
		if issuer[i] == '/' {
			if n++; n == 3 {
				return issuer[:i]
			}
		}
	}
	return issuer
}

// Admits reports whether a member of orgID may sign in to a: a member of
// its organization, or of any organization for the console.
func (a Application) Admits(orgID string) bool {
	return orgID != "" && (a.OrganizationID == orgID || (IsConsole(a.ClientID) && a.OrganizationID == ""))
}

// ForOrganization is a as the client of a grant of orgID: the console
// takes the organization of the user who signed in; any other application
// keeps its own.
func (a Application) ForOrganization(orgID string) Application {
	if IsConsole(a.ClientID) && a.OrganizationID == "" {
		a.OrganizationID = orgID
	}
	return a
}

// IsOpenIDScope reports whether s is an OpenID Connect scope (openid,
// profile, email, offline_access): about the user, of no API.
func IsOpenIDScope(s string) bool { return isOpenIDScope(s) }

// HeldScopes is what a token may carry of requested: the OpenID Connect
// scopes as requested, and of the others those that the application names
// (appScopes) and that role may hold on api, the registered API of the
// token's audience (nil when the audience is not registered: no API scope
// then). Order follows requested.
func HeldScopes(requested, appScopes []string, role Role, api *API) []string {
	out := []string{}
	for _, s := range requested {
		switch {
		case isOpenIDScope(s):
		case api == nil || !slices.Contains(appScopes, s) || !slices.Contains(api.ScopesFor(role), s):
			continue
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// ScopeError is a scope an application may not name: Registered is false
// for a scope of no registered API, true for one the member's role may not
// hold.
type ScopeError struct {
	Field      string // scopes[i]
	Scope      string
	Role       Role
	Registered bool
}

func (e *ScopeError) Error() string {
	if !e.Registered {
		return fmt.Sprintf("%s: %q is not a scope of any registered API", e.Field, e.Scope)
	}
	return fmt.Sprintf("%s: %q may not be held by the %s role, so a %s cannot give it to an application", e.Field, e.Scope, e.Role, e.Role)
}

// CheckGrantable requires each of scopes that is not in kept to be a
// scope of a registered API (apis) that role may hold: what a member may
// give an application. kept are the scopes the application already had,
// which a change may keep.
func CheckGrantable(apis []API, role Role, scopes, kept []string) error {
	for i, s := range scopes {
		if slices.Contains(kept, s) {
			continue
		}
		defined, held := false, false
		for _, api := range apis {
			if api.Has(s) {
				defined = true
				held = held || slices.Contains(api.ScopesFor(role), s)
			}
		}
		if !defined || !held {
			return &ScopeError{Field: fmt.Sprintf("scopes[%d]", i), Scope: s, Role: role, Registered: defined}
		}
	}
	return nil
}
