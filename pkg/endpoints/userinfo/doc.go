// Package userinfo serves GET/POST /userinfo (OpenID Connect Core §5.3):
// the claims of a bearer access token's user that its scopes release.
// The wellknown function mounts it beside the discovery documents.
//
// It must never answer for a token this server did not issue, a revoked
// one, or a user who is disabled or no longer in the token's organization,
// and never make its response readable by an origin that the token's own
// client does not allow.
package userinfo
