// Package bearer is orgauth's one reader of RFC 6750 bearer tokens: it takes
// the access token from the Authorization header (§2.1), verifies it with
// the jwt package for the resource server's audiences, checks that it was
// not revoked, and answers with the caller's verified claims or an *Error
// that carries the HTTP status and the WWW-Authenticate challenge (§3).
//
// It owns the header syntax, the challenge and the error codes
// (invalid_request, invalid_token, insufficient_scope). It must never
// verify a JWT itself (that is pkg/jwt), decide what a caller may do with
// the API (that is the endpoint), or put a verification failure's reason
// into a response: reasons go to Cause, for logs only.
package bearer
