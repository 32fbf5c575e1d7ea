// Package store holds the little that every store implementation must agree
// on beyond the domain sentinels: the order in which applications are listed
// and the opaque cursor that pages through that list. pkg/storage/memory and
// pkg/storage/dynamo both use it, so a cursor means the same thing in either.
//
// It must never import an adapter (AWS SDK, net/http): it is shared
// vocabulary, not a store.
package storage

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrInvalidCursor is returned when a page cursor was not produced by a
// store (malformed, truncated or tampered with).
var ErrInvalidCursor = errors.New("invalid cursor")

// keyTimeLayout is RFC 3339 in UTC with exactly nine fractional digits, so
// that byte order equals time order (for years 0000–9999).
const keyTimeLayout = "2006-01-02T15:04:05.000000000Z"

// CreationKey is the sort key that lists items in creation order:
// "<created at, fixed-width UTC RFC 3339 with nanoseconds>#<id>". The id
// breaks ties between items created in the same nanosecond.
func CreationKey(createdAt time.Time, id string) string {
	return createdAt.UTC().Format(keyTimeLayout) + "#" + id
}

// EncodeCursor turns the CreationKey of the last item of a page into an
// opaque cursor for the next page.
func EncodeCursor(createdAt time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(CreationKey(createdAt, id)))
}

// DecodeCursor validates a cursor from EncodeCursor and returns the creation
// time and id it points after. Any other input fails with ErrInvalidCursor.
func DecodeCursor(cursor string) (createdAt time.Time, id string, err error) {
	b, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("%w: not base64url", ErrInvalidCursor)
	}
	ts, id, ok := strings.Cut(string(b), "#")
	if !ok || id == "" {
		return time.Time{}, "", fmt.Errorf("%w: malformed", ErrInvalidCursor)
	}
	createdAt, err = time.Parse(keyTimeLayout, ts)
	// Re-encoding must give the same bytes, so two cursors for one position
	// cannot exist and the key handed to the database is exactly one we made.
	if err != nil || createdAt.Format(keyTimeLayout) != ts {
		return time.Time{}, "", fmt.Errorf("%w: bad time", ErrInvalidCursor)
	}
	return createdAt, id, nil
}
