// Package rotation performs the steps of a signing-key rotation (see
// infra/KEY-ROTATION.md): publish a new key, promote it, retire the old one,
// and, to roll back a publish, withdraw it; and it lists the key set with
// what is due next. The timing rules themselves are pkg/keys's (NextStep,
// Publish, Promote, Retire, ...); this package applies them to the stored
// key set and to the key store, in the right order, and undoes what it
// started when a step cannot finish.
//
// A Service takes typed inputs and returns an Outcome (what was done, on
// which key, what is due next and when) or an error. Refusals are error
// values that callers tell apart with errors.Is and errors.As: ErrNoStage,
// ErrNoCurrentKeys, ErrNothingToWithdraw, *UnusableKeyError,
// *KidNotServedError, *ConcurrentChangeError, *UnusedKeyError,
// *DeletionNotScheduledError; a failure of the key store is a *KMSError.
//
// It talks to the world only through ports it declares: Store (the key-set
// item, compare-and-swap), KMS (pkg/keys/kmskeys.Admin implements it) and
// JWKS (HTTPJWKS, here, fetches one over HTTP). The clock is injected.
//
// This package must never import the AWS SDK, print, parse flags, read the
// environment, exit the process, or word anything for a particular command
// line: cmd/orgauthctl presents its outcomes. It must never promote or
// retire a key before pkg/keys says the step is due: there is no force.
package rotation
