// Package oauth holds the protocol pieces every OAuth endpoint of orgauth
// shares: RFC 6749 §5.2 errors as values and their one writer, strict parsing
// of form-encoded requests, and client authentication parsing (RFC 6749
// §2.3.1).
//
// It must never put Go error text or internals into a response: an error
// that is not an *Error is logged with the request id and answered as
// server_error.
package oauth
