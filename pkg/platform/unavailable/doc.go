// Package unavailable decides, in one place, whether an error means that a
// dependency (DynamoDB, KMS) is down, slow or throttling, so that the OAuth
// error writer and the problem writer answer 503 with Retry-After instead of
// 500. It recognises AWS errors by the methods they carry (ErrorCode,
// HTTPStatusCode), so it imports no AWS SDK.
//
// It must never decide what a request is allowed to do: it only classifies
// failures that already happened.
package unavailable
