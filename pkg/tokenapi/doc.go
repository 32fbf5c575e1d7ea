// Package tokenapi is the token endpoint, POST /oauth/token (RFC 6749 §3.2).
//
// Every request runs one fixed pipeline: parse the form strictly, authenticate
// the client, run the grant's own checks, issue, write. A grant cannot skip a
// shared step. Today the client_credentials grant (RFC 6749 §4.4) is served.
//
// It must never reveal whether a client exists to a caller that failed to
// authenticate, never log a secret or token, and never answer without
// Cache-Control: no-store.
package tokenapi
