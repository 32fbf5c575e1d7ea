// Package throttle is orgauth's one failure throttle: counters of failed
// attempts per key in fixed windows, kept in the table (storage's
// CountFailure, Failures and ForgetFailure), so that every instance of every
// function sees the same counts. The token endpoint's client authentication
// and the login form both use it; each decides its own keys and limits.
//
// It must never keep a count in memory only (a fresh Lambda instance would
// answer from a clean slate), never log or store a secret, and never know
// about HTTP.
package throttle
