// Package conformance is the one suite every orgauth store must pass:
// RunTests(t, newStore) exercises every part of storage.Store (creation,
// lookup, compare-and-swap updates, deletion, listing, the origin index,
// single-use and expiring items, counters, key sets and SSO items), so the
// in-memory store (pkg/storage/memory) and DynamoDB (pkg/storage/dynamo, on
// each emulator) are held to the same behaviour. The contract it checks is
// written on the interfaces in pkg/storage.
//
// It is the only package of the production tree that imports testing, and
// only test files may import it. It must never depend on a particular
// implementation or on wall-clock time: every timestamp it writes derives
// from a fixed base, and nothing sleeps.
package conformance
