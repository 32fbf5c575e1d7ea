// Package keys is the signing-key rotation state machine: the ordered key
// set that the stack signs and publishes with, the rules that say when each
// rotation step is due, and the steps themselves. It is pure: no AWS SDK, no
// I/O, and the clock is always passed in.
//
// # States
//
// A key set holds exactly one active key, which signs new tokens, plus
// published keys that verifiers must also accept:
//
//	upcoming  published in the JWKS, not signing yet
//	active    signs new tokens; published
//	retiring  no longer signs; published until its last token has expired
//	retired   out of the JWKS; its KMS key is (or is about to be) scheduled
//	          for deletion. Kept in the set as history only.
//
// A rotation moves one key along upcoming → active → retiring → retired, in
// three steps, each a separate run of `orgauthctl keys rotate`:
//
//  1. Publish: a new KMS key becomes upcoming. No token is signed with it.
//  2. Promote: the upcoming key becomes active and the active one retiring.
//     Due once the upcoming key has been published for PromoteDelay, so that
//     KMS lets the functions read it (KeyAccess), every function has re-read
//     the set (Refresh), and every verifier that honours the JWKS
//     Cache-Control (JWKSMaxAge) has seen the new key.
//  3. Retire: the retiring key leaves the JWKS, and its KMS key is scheduled
//     for deletion. Due RetireDelay after it stopped being active: a warm
//     function may still sign with it for Refresh, and its last token lives
//     for MaxTokenLifetime more, plus ClockSkew of verifier leeway.
//
// There is no way to promote early: the bound is what makes a rotation
// invisible to verifiers.
//
// This package must never import the AWS SDK, read the wall clock, or decide
// anything about KMS key material. pkg/keys/rotation performs the steps on
// the stored set and KMS; pkg/keys/kmskeys is the KMS adapter.
package keys
