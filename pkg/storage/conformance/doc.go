// Package storetest is the conformance suite every orgauth store must pass:
// Run(t, newStore) exercises creation, lookup, compare-and-swap updates,
// deletion and listing through the Store interface, so the in-memory fake
// (pkg/storage/memory) and DynamoDB (pkg/storage/dynamo, on each emulator) are held to the
// same behaviour.
//
// It must never depend on a particular implementation or on wall-clock time:
// every timestamp it writes derives from a fixed base, and nothing sleeps.
package conformance
