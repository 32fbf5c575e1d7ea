// Package storage is orgauth's store contract: the interfaces every store
// implements, split by concern (Organizations, Applications, Users, Origins,
// Sessions, Codes, KeySets, SSO) and joined in Store; the sentinel errors
// callers check with errors.Is; and the order and opaque cursor in which
// applications are listed, so a cursor means the same thing in every
// implementation.
//
// The implementations sit beside it: pkg/storage/dynamo (DynamoDB, the one
// deployed) and pkg/storage/memory (in memory, for tests and local runs).
// pkg/storage/conformance is the one suite both must pass; the contract
// written on each interface here is what that suite checks.
//
// Consumers should still declare the narrow interface they need (a handler
// that only reads applications asks for GetApplication, not for Store); the
// interfaces here say what an implementation provides.
//
// This package must never import an implementation (dynamo, memory), the
// conformance suite, net/http, the AWS SDK or testing: every function
// bootstrap links it. It holds no state and does no I/O.
package storage
