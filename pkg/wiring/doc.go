// Package wiring builds a stage's shared parts once per cold start: the AWS
// clients, the store, the signing key set, the metrics recorder, the
// configuration. Each function's own constructor (pkg/wiring/<name>fn)
// takes a Stage and builds only what that function serves, so a bootstrap
// links only its own endpoints. The Lambda mains and the local server call
// the same constructors, and so do the tests, on memory storage.
//
// It must never be called per request, and never exit the process: errors
// go back to main.
package wiring
