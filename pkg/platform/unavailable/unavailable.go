package unavailable

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
)

// ErrUnavailable marks an error as a dependency that is down, slow or
// throttling. Wrap it (fmt.Errorf with %w) where a failure is known to be of
// that kind without being recognisable by Is.
var ErrUnavailable = errors.New("a dependency is unavailable")

// RetryAfter is the Retry-After, in seconds, of a 503 for an unavailable
// dependency: long enough for a retry budget to reset, short enough for a
// user to wait.
const RetryAfter = 5

// The AWS error codes that mean throttling or a fault on AWS's side
// (DynamoDB, KMS, and the SDK's generic ones).
var retryableCodes = map[string]bool{
	"ThrottlingException": true, "Throttling": true, "ThrottledException": true, "RequestThrottled": true,
	"RequestThrottledException": true, "TooManyRequestsException": true, "ProvisionedThroughputExceededException": true,
	"RequestLimitExceeded": true, "LimitExceededException": true, "SlowDown": true, "TransactionInProgressException": true,
	"InternalServerError": true, "InternalFailure": true, "InternalError": true, "ServiceUnavailable": true,
	"ServiceUnavailableException": true, "RequestTimeout": true, "RequestTimeoutException": true,
	"KMSInternalException": true, "DependencyTimeoutException": true, "KeyUnavailableException": true,
}

// Is reports whether err means a dependency is down, slow or throttling:
// ErrUnavailable itself, a deadline that passed, a network failure
// (timeout, refused or reset connection, a dropped response), an AWS
// throttling or internal-failure code, or an HTTP 429 or 5xx from AWS.
// A canceled request (the client went away) is not.
func Is(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		return true
	}
	if errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	var op *net.OpError
	var dns *net.DNSError
	if errors.As(err, &op) || errors.As(err, &dns) {
		return true
	}
	var coded interface{ ErrorCode() string }
	if errors.As(err, &coded) && retryableCodes[coded.ErrorCode()] {
		return true
	}
	var status interface{ HTTPStatusCode() int }
	if errors.As(err, &status) {
		if c := status.HTTPStatusCode(); c == 429 || c >= 500 {
			return true
		}
	}
	return false
}
