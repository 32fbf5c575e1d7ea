package storage

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

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
