// Package tokenapi is the token endpoint, POST /oauth/token (RFC 6749 §3.2),
// and token revocation, POST /oauth/revoke (RFC 7009).
//
// Every request runs one fixed pipeline: parse the form strictly, authenticate
// the client, run the grant's own checks, issue, write. A grant cannot skip a
// shared step. Served grants: client_credentials (RFC 6749 §4.4, M2M only),
// authorization_code with PKCE S256 (§4.1.3, RFC 7636; SPA only) and
// refresh_token with rotation and reuse detection (§6, RFC 9700 §4.14).
// SPA clients are public: on the user grants and on revocation they identify
// with client_id alone; M2M clients always authenticate.
//
// Codes are redeemed exactly once by a conditional write; a replay revokes
// what the first redemption issued. Refresh tokens live in families; reuse
// of a rotated token after a short grace revokes the family and puts the
// access tokens issued from it on the revoked-jti list (refresh.go).
//
// CORS: preflights are answered for any origin without credentials; actual
// responses are readable only by the client's allowed origins (cors.go).
//
// It must never reveal whether a confidential client exists to a caller that
// failed to authenticate, never log a secret or token, and never answer
// without Cache-Control: no-store.
package token
