// Package discovery serves what clients and resource servers read before
// they talk to orgauth: OpenID Connect Discovery metadata, RFC 8414
// authorization server metadata and the JWKS (RFC 7517).
//
// It must never fetch keys from KMS per request: the key set is loaded once
// per process and cached by the KeySet; responses are cacheable.
package discovery
