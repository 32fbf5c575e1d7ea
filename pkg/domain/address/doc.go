// Package address owns the one normal form of email addresses and DNS
// names that orgauth compares, stores and asserts: a strict parse, ASCII
// lower-casing only, IDNA 2008 for internationalized domains.
//
// It holds the IDNA tables, which only the sign-in and operator paths
// need; it must never be imported by package domain, so that a function
// that never parses an address does not link them.
package address
