package domain

import "time"

// LoginTransaction is one pending sign-in: the validated parameters of a
// GET /authorize request, kept while the user fills in the login form. It
// lives a few minutes and is consumed at most once, by the POST /login that
// signs the user in.
type LoginTransaction struct {
	ID            string // random (NewID); the form carries it
	ClientID      string
	RedirectURI   string
	State         string
	Nonce         string
	CodeChallenge string // RFC 7636 S256
	Scopes        []string
	Audience      string
	Prompt        string // "", "none" or "login"
	LoginHint     string // OIDC login_hint: prefills the email field
	ResponseMode  string // "" (query) or "web_message"
	// MaxAge is the OIDC max_age in seconds; -1 when absent.
	MaxAge int64
	// CSRFHash is SHA-256 of the browser's CSRF token (HashSecret): the
	// form's token must hash to it.
	CSRFHash       []byte
	OrganizationID string // the application's organization
	// UserID is set on the consent step's transaction only: the signed-in
	// user the consent page asks. A login form refuses such a transaction.
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Session is a signed-in browser: the single sign-on session behind the
// session cookie, stored by the hash of the cookie's value. It belongs to
// one organization, like its user.
type Session struct {
	Hash           []byte // SHA-256 of the cookie value (HashSecret)
	ID             string // random, not secret: for logs and for what the session issued
	UserID         string
	OrganizationID string
	AuthTime       time.Time // when the user last authenticated (entered a password, or at the provider)
	CreatedAt      time.Time
	ExpiresAt      time.Time
	// AuthMethod is how the session was authenticated: AuthPassword, or
	// AuthSSO by the provider AuthIssuer. A session stored without one
	// (before sessions recorded it) counts as a password session.
	AuthMethod string
	AuthIssuer string // the organization's provider, for AuthSSO
}

// How a session was authenticated.
const (
	AuthPassword = "password"
	AuthSSO      = "sso"
)

// AuthenticatedBy reports whether the session was authenticated by the
// provider whose issuer is issuer.
func (s Session) AuthenticatedBy(issuer string) bool {
	return s.AuthMethod == AuthSSO && issuer != "" && s.AuthIssuer == issuer
}
