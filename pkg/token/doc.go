// Package token mints orgauth's JWTs: RFC 9068 access tokens (and, later,
// OpenID Connect ID tokens). It assembles the JWS with go-jose and delegates
// the signature itself to a Signer, so private keys never enter the process.
//
// It must never import the AWS SDK; the KMS adapter lives in pkg/kmssign.
package token
