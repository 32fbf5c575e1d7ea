// Package upstream is orgauth as an OpenID Connect relying party of an
// organization's own identity provider: authorization code with PKCE
// through golang.org/x/oauth2, ID token verification through
// github.com/coreos/go-oidc. Providers (their discovery document and key
// set) are cached per issuer across invocations of a warm function.
//
// It must never trust a provider's answer without verifying it (issuer,
// audience, nonce, signature), log a client secret or a token, or decide
// who may sign in: that is the sign-in core's.
package upstream
