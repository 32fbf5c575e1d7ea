// Package httpx holds the plumbing every orgauth HTTP handler shares:
// request ids, structured logging, panic recovery, JSON and RFC 9457 problem
// responses, and strict body limits.
//
// It must never write a secret, token, password or Go error text into a
// response body or a log line; handlers pass it safe values only.
package httpx
