package bearer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"orgauth/pkg/jwt"
)

// Realm is the realm of every challenge orgauth sends.
const Realm = "orgauth"

// RFC 6750 §3.1 error codes.
const (
	CodeInvalidRequest    = "invalid_request"
	CodeInvalidToken      = "invalid_token"
	CodeInsufficientScope = "insufficient_scope"
)

// Error is why a request's bearer token was not accepted. Status is the
// HTTP status to answer with; WWWAuthenticate the challenge to send with it
// (empty for 503, which is no authentication failure).
type Error struct {
	Status int
	// Code is the RFC 6750 §3.1 error code; empty when the request carried
	// no token at all (§3.1: "the resource server SHOULD NOT include an
	// error code"), or when the token could not be checked (503).
	Code        string
	Description string
	// Scope, for insufficient_scope, is the scope the resource needs.
	Scope string
	// Cause is the underlying reason, for logs only.
	Cause error
}

func (e *Error) Error() string {
	s := fmt.Sprintf("bearer %d %s: %s", e.Status, e.Code, e.Description)
	if e.Cause != nil {
		s += ": " + e.Cause.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Cause }

// WWWAuthenticate is the §3 challenge for e: the realm, then error,
// error_description and scope when set. A 503 has none.
func (e *Error) WWWAuthenticate() string {
	if e.Status == http.StatusServiceUnavailable {
		return ""
	}
	v := `Bearer realm="` + Realm + `"`
	if e.Code == "" {
		return v
	}
	v += `, error="` + e.Code + `"`
	if e.Description != "" {
		v += `, error_description="` + quote(e.Description) + `"`
	}
	if e.Scope != "" {
		v += `, scope="` + quote(e.Scope) + `"`
	}
	return v
}

// quote keeps a value inside its quoted-string: §3 allows only %x20-21,
// %x23-5B and %x5D-7E there, so quotes and backslashes are dropped.
func quote(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, s)
}

// InsufficientScope is the 403 for a valid token that lacks scope (§3.1).
func InsufficientScope(scope, desc string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeInsufficientScope, Description: desc, Scope: scope}
}

// Token extracts the access token from the Authorization header, §2.1:
// `Authorization: Bearer <token>`, the scheme case-insensitive. No header,
// another scheme or an empty token is a 401 without an error code; more
// than one Authorization header is ambiguous, a 400 invalid_request.
func Token(r *http.Request, missing string) (string, *Error) {
	values := r.Header.Values("Authorization")
	if len(values) > 1 {
		return "", &Error{Status: http.StatusBadRequest, Code: CodeInvalidRequest, Description: "send one Authorization header"}
	}
	var header string
	if len(values) == 1 {
		header = values[0]
	}
	scheme, raw, ok := strings.Cut(header, " ")
	raw = strings.TrimSpace(raw)
	if !ok || !strings.EqualFold(scheme, "Bearer") || raw == "" {
		return "", &Error{Status: http.StatusUnauthorized, Description: missing}
	}
	return raw, nil
}

// Verifier verifies this server's access tokens (jwt.Verifier).
type Verifier interface {
	VerifyAccessToken(ctx context.Context, raw, audience string) (jwt.AccessClaims, error)
}

// Revocations answers whether an access token's jti was revoked.
type Revocations interface {
	IsJTIRevoked(ctx context.Context, jti string, now time.Time) (bool, error)
}

// Config is what a resource server says about its tokens.
type Config struct {
	// Audiences: a token for any of them is accepted; with none, no token
	// is.
	Audiences []string
	// Missing and Invalid are the descriptions for a request without a
	// token and for a token that does not verify.
	Missing string
	Invalid string
}

// Authenticator authenticates the bearer tokens of one resource server.
type Authenticator struct {
	verifier Verifier
	revoked  Revocations
	cfg      Config
	now      func() time.Time
}

// New returns an Authenticator. Every argument is required: the endpoint's
// constructor checks its dependencies before it builds one.
func New(v Verifier, rev Revocations, cfg Config, now func() time.Time) *Authenticator {
	if cfg.Missing == "" {
		cfg.Missing = "a bearer access token is required"
	}
	if cfg.Invalid == "" {
		cfg.Invalid = "the access token is invalid or expired"
	}
	return &Authenticator{verifier: v, revoked: rev, cfg: cfg, now: now}
}

// Authenticate is Token, Verify and CheckRevoked: the caller's verified,
// unrevoked claims, or an *Error.
func (a *Authenticator) Authenticate(ctx context.Context, r *http.Request) (jwt.AccessClaims, error) {
	raw, e := Token(r, a.cfg.Missing)
	if e != nil {
		return jwt.AccessClaims{}, e
	}
	claims, err := a.Verify(ctx, raw)
	if err != nil {
		return jwt.AccessClaims{}, err
	}
	if err := a.CheckRevoked(ctx, claims); err != nil {
		return jwt.AccessClaims{}, err
	}
	return claims, nil
}

// Token extracts the request's bearer token, with this server's wording.
func (a *Authenticator) Token(r *http.Request) (string, error) {
	raw, e := Token(r, a.cfg.Missing)
	if e != nil {
		return "", e
	}
	return raw, nil
}

// Verify checks raw for each audience in turn: a 401 invalid_token when it
// verifies for none, a 503 when the keys cannot be read.
func (a *Authenticator) Verify(ctx context.Context, raw string) (jwt.AccessClaims, error) {
	var reasons []error
	for _, aud := range a.cfg.Audiences {
		c, err := a.verifier.VerifyAccessToken(ctx, raw, aud)
		switch {
		case errors.Is(err, jwt.ErrInvalidToken):
			reasons = append(reasons, err)
			continue
		case err != nil:
			return jwt.AccessClaims{}, &Error{Status: http.StatusServiceUnavailable, Description: "cannot verify tokens right now; retry shortly", Cause: err}
		}
		return c, nil
	}
	return jwt.AccessClaims{}, &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: a.cfg.Invalid, Cause: errors.Join(reasons...)}
}

// CheckRevoked refuses a token whose jti was revoked (RFC 7009): 401
// invalid_token, or 503 when the list cannot be read.
func (a *Authenticator) CheckRevoked(ctx context.Context, c jwt.AccessClaims) error {
	revoked, err := a.revoked.IsJTIRevoked(ctx, c.ID, a.now())
	switch {
	case err != nil:
		return &Error{Status: http.StatusServiceUnavailable, Description: "cannot check the token right now; retry shortly", Cause: err}
	case revoked:
		return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: "the access token has been revoked"}
	}
	return nil
}

// Refuse is a 401 invalid_token for a token that verified but that the
// resource server will not serve (its user is gone, say).
func Refuse(desc string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeInvalidToken, Description: desc}
}
