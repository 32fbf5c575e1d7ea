// Package upstream is orgauth as an OpenID Connect relying party of an
// organization's own identity provider: authorization code with PKCE
// through golang.org/x/oauth2, ID token verification through
// github.com/coreos/go-oidc. Providers (their discovery document and key
// set) are cached per issuer across invocations of a warm function;
// concurrent discoveries of one issuer are one fetch, and a failure is
// remembered briefly.
//
// Every provider is run by a tenant and may be hostile (guard.go): what it
// answers is read up to a bound, its endpoints must be https (unless the
// issuer is loopback), and connections go to public addresses only,
// checked after name resolution; a loopback issuer reaches loopback only.
//
// It must never trust a provider's answer without verifying it (issuer,
// audience, nonce, signature), log a client secret or a token, wait on a
// provider for home-realm discovery (AuthorizationEndpoint), or decide who
// may sign in: that is the sign-in core's.
package upstream
