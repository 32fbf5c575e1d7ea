// Package authorizefn wires the authorize function: /authorize, /login and
// /logout. It sends users of organizations with SSO upstream, without being
// able to decrypt any upstream secret.
//
// It must never build another function's endpoints, hold a rule of its
// own, or leave a dependency unset: it only connects the stage's parts to
// its endpoints' constructors, which refuse a missing one.
package authorizefn
