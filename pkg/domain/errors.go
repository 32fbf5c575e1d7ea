package domain

import "errors"

// Sentinel errors returned by every store implementation. Callers check them
// with errors.Is; a store never answers a miss with a zero value and nil.
var (
	// ErrNotFound: the item does not exist (or has expired).
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists: a create collided with an existing item.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict: a compare-and-swap lost against a concurrent writer, or a
	// caller-supplied version did not match.
	ErrConflict = errors.New("conflict")
)
