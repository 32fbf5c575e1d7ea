package storage

import (
	"errors"

	"orgauth/pkg/domain"
)

// The sentinel errors of the contract. A store wraps them (fmt.Errorf with
// %w) and callers check them with errors.Is; a store never answers a miss
// with a zero value and nil.
//
// ErrNotFound, ErrAlreadyExists, ErrConflict and ErrAlreadyUsed are the
// domain's sentinels under their storage names, the same values: code that
// checks errors.Is(err, domain.ErrNotFound) and code that checks
// errors.Is(err, storage.ErrNotFound) agree.
var (
	// ErrNotFound: the item does not exist, has expired, or its id is one
	// no item can have.
	ErrNotFound = domain.ErrNotFound
	// ErrAlreadyExists: a create collided with an existing item.
	ErrAlreadyExists = domain.ErrAlreadyExists
	// ErrConflict: a compare-and-swap update lost against concurrent writers
	// on every attempt.
	ErrConflict = domain.ErrConflict
	// ErrAlreadyUsed: a single-use item (an authorization code, a refresh
	// token) was used before; the store returns the item with it.
	ErrAlreadyUsed = domain.ErrAlreadyUsed
)

// ErrInvalidCursor is returned when a page cursor was not produced by a
// store (malformed, truncated or tampered with).
var ErrInvalidCursor = errors.New("invalid cursor")
