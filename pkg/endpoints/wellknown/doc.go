// Package discovery serves what clients and resource servers read before
// they talk to orgauth: OpenID Connect Discovery metadata, RFC 8414
// authorization server metadata and the JWKS (RFC 7517), and the OpenID
// Connect UserInfo endpoint (/userinfo, Core §5.3), which answers with the
// claims of a bearer token's user that its scopes release.
//
// It must never fetch keys from KMS per request: the key set is loaded once
// per process and cached by the KeySet; the well-known documents are
// cacheable, userinfo answers are not.
package wellknown
