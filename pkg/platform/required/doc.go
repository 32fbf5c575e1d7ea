// Package required checks a constructor's dependencies. A deployed function
// takes everything it needs (store, signer, metrics, audit, throttle, CORS)
// as required constructor arguments, never as optional setters: a forgotten
// one must fail the cold start, not silently turn a feature off.
//
// It must never be used per request: constructors call it once.
package required
