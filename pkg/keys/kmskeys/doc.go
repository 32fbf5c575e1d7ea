// Package kmssign signs tokens with asymmetric AWS KMS keys and publishes
// their public halves as a JWKS. It implements the token.Key and
// token.KeySet ports for the issuer.
//
// A KeySet is an ordered list of KMS keys: one active key signs new tokens;
// every published key (active, upcoming, retiring) is in the JWKS, active
// first, so that verifiers accept tokens signed by a retiring key and are
// ready for an upcoming one before rotation makes it active. Supported key
// specs are RSA_2048 (RS256, the default that OIDC discovery requires) and
// ECC_NIST_P256 (ES256). A key's kid is the RFC 7638 SHA-256 thumbprint of
// its public key.
//
// NewKeySet takes a static list (key ids, key ARNs or alias/... names; the
// first is active). An alias is resolved when the key is first loaded: the
// key set then signs with the key ARN it was resolved to, so moving an alias
// takes effect on the next cold start and never makes a signature disagree
// with the kid it is published under.
//
// NewRotatingKeySet follows the key-set item that `orgauthctl keys rotate`
// maintains (pkg/keys; read through a Source such as pkg/storage/dynamo's Store),
// falling back to the static list while there is none. It serves the set it
// last read for the refresh interval R, then reads it again on the next
// call: a warm function follows a rotation within R of its write, with no
// redeploy. The read starts the interval, so the bound holds whatever the
// read costs. A failed read keeps serving the last good set and is retried
// after a short back-off; a cold function without a good set fails the call
// and tries again on the next one.
//
// Public keys are fetched with kms:GetPublicKey the first time a key id is
// seen and kept while the key stays in the set: a refresh costs one
// DynamoDB read, and KMS is called only for a key it has never seen. A
// failed load is not cached. A retiring key that KMS no longer serves
// (pending deletion or disabled: a retirement racing a cold start) is left
// out of the JWKS and reported, rather than failing the whole set.
//
// This package must never:
//   - hold, generate, import or export private key material: signing happens
//     inside KMS (kms:Sign with MessageType DIGEST), and only a SHA-256 digest
//     leaves the process;
//   - call KMS on the JWKS path for a key it has already loaded:
//     KeySet.Published is served from memory, so JWKS traffic cannot become
//     KMS traffic or cost (a rotating set reads DynamoDB at most once per
//     refresh interval);
//   - sign anything but a 32-byte SHA-256 digest, or with a key whose spec or
//     usage it does not recognise.
//
// EnsureKey and NewLocalClient exist for local setup, tests and the admin CLI
// (local-kms started by emulator.StartKMS); CreateSigningKey (tagged
// orgauth-stage=<stage>, see StageTag), CheckSigningKey, DescribeSigningKey
// and ScheduleDeletion exist for key rotation: Admin offers them to
// pkg/keys/rotation, which decides when to call them. The request path
// needs none of them.
package kmskeys
