// Package kmssign signs tokens with asymmetric AWS KMS keys and publishes
// their public halves as a JWKS. It implements the token.Key and
// token.KeySet ports for the issuer.
//
// A KeySet is an ordered list of KMS key ids (key ids, key ARNs or
// alias/... names): the first key is active and signs new tokens; every key,
// the active one included, is published so that verifiers accept tokens
// signed by a retiring key and are ready for an upcoming one before rotation
// makes it active. Supported key specs are RSA_2048 (RS256, the default that
// OIDC discovery requires) and ECC_NIST_P256 (ES256). A key's kid is the
// RFC 7638 SHA-256 thumbprint of its public key.
//
// Public keys are fetched with kms:GetPublicKey once, on first use, and kept
// in memory for the life of the process. An alias is resolved at that moment:
// the key set then signs with the key ARN it was resolved to, so moving an
// alias takes effect on the next cold start and never makes a signature
// disagree with the kid it is published under. A failed load is not cached;
// the next call tries again.
//
// This package must never:
//   - hold, generate, import or export private key material: signing happens
//     inside KMS (kms:Sign with MessageType DIGEST), and only a SHA-256 digest
//     leaves the process;
//   - call KMS on the JWKS path after the first successful load:
//     KeySet.Published is served from memory, so JWKS traffic cannot become
//     KMS traffic or cost;
//   - sign anything but a 32-byte SHA-256 digest, or with a key whose spec or
//     usage it does not recognise.
//
// EnsureKey and NewLocalClient exist for local setup, tests and the admin CLI
// (local-kms started by emulator.StartKMS); the request path needs neither.
package kmssign
