// Package tokenfn wires the token function: POST /oauth/token,
// /oauth/revoke and /oauth/introspect. It links only the token endpoint.
//
// It must never build another function's endpoints, hold a rule of its
// own, or leave a dependency unset: it only connects the stage's parts to
// its endpoints' constructors, which refuse a missing one.
package tokenfn
