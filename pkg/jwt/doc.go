// Package token mints orgauth's JWTs: RFC 9068 access tokens and OpenID
// Connect ID tokens (Core §2, §3.1.3.6: nonce, at_hash, auth_time, azp). It
// assembles the JWS with go-jose and delegates the signature itself to a
// Signer, so private keys never enter the process.
//
// It must never import the AWS SDK; the KMS adapter lives in pkg/keys/kmskeys.
package jwt
