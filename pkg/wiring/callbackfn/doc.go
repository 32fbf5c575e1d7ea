// Package callbackfn wires the callback function: GET /callback, where
// organizations' providers return their users. It alone decrypts their
// client secrets (SSO_KEY_ID).
//
// It must never build another function's endpoints, hold a rule of its
// own, or leave a dependency unset: it only connects the stage's parts to
// its endpoints' constructors, which refuse a missing one.
package callbackfn
