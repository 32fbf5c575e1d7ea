// Package memory is orgauth's store in memory: one Store that implements
// storage.Store with the same behaviour as pkg/storage/dynamo (both pass
// pkg/storage/conformance), conditional writes included: creates fail on a
// taken key, updates are compare-and-swap on a version (fn runs outside the
// lock and may run more than once), single-use items are consumed exactly
// once, and every read checks expiry against the now it is given. Unit and
// handler tests use it where a DynamoDB emulator would only add time.
//
// It must never share memory with its callers: slices are copied on the way
// in and on the way out, so a caller mutating a value cannot change what is
// stored. It must never import the AWS SDK, net/http or testing. It keeps
// nothing across restarts and is not for production.
package memory
