package throttle

import (
	"context"
	"fmt"
	"time"
)

// Counter is the store's failure counters (storage.Sessions).
type Counter interface {
	CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	Failures(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
	ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error
}

// Limit is one key and the failures it may have in a window.
type Limit struct {
	Key string
	Max int64
}

// Blocked says which limit refused, with the count that passed it and how
// long until its window ends.
type Blocked struct {
	Limit      Limit
	Count      int64
	RetryAfter time.Duration
}

func (b *Blocked) Error() string {
	return fmt.Sprintf("throttled: %s over %d", b.Limit.Key, b.Limit.Max)
}

// Throttle counts failures per key in fixed windows of one length.
type Throttle struct {
	store  Counter
	window time.Duration
}

// New returns a throttle over store's counters with windows of window.
func New(store Counter, window time.Duration) *Throttle {
	return &Throttle{store: store, window: window}
}

// Window is the length of the throttle's windows.
func (t *Throttle) Window() time.Duration { return t.window }

// RetryAfter is how long until the window containing now ends (windows
// start at multiples of the window since the Unix epoch), at least a
// second.
func (t *Throttle) RetryAfter(now time.Time) time.Duration { return windowLeft(t.window, now) }

func windowLeft(window time.Duration, now time.Time) time.Duration {
	w := int64(window / time.Second)
	if w < 1 {
		w = 1
	}
	return time.Duration(w-now.Unix()%w) * time.Second
}

// Check reads the stored counts, counting nothing, and returns the first
// limit that has reached its maximum: the next failure would pass it.
// Every instance reads the same counts.
func (t *Throttle) Check(ctx context.Context, now time.Time, limits ...Limit) (*Blocked, error) {
	for _, l := range limits {
		n, err := t.store.Failures(ctx, l.Key, t.window, now)
		if err != nil {
			return nil, fmt.Errorf("read failures: %w", err)
		}
		if n >= l.Max {
			return &Blocked{Limit: l, Count: n, RetryAfter: t.RetryAfter(now)}, nil
		}
	}
	return nil, nil
}

// Count adds one to every key (one atomic increment each) and returns the
// first limit the new count passes. Counting an attempt before checking
// it, and taking the count back with Forget when it succeeds, makes
// concurrent attempts unable to pass a check made before any of them was
// counted: of n parallel attempts at most Max are let through.
func (t *Throttle) Count(ctx context.Context, now time.Time, limits ...Limit) (*Blocked, error) {
	_, b, err := t.Tally(ctx, now, limits...)
	return b, err
}

// Tally is Count, with every key's count after the increment.
func (t *Throttle) Tally(ctx context.Context, now time.Time, limits ...Limit) ([]int64, *Blocked, error) {
	var first *Blocked
	counts := make([]int64, len(limits))
	for i, l := range limits {
		n, err := t.store.CountFailure(ctx, l.Key, t.window, now)
		if err != nil {
			return nil, nil, fmt.Errorf("count failure: %w", err)
		}
		counts[i] = n
		if n > l.Max && first == nil {
			first = &Blocked{Limit: l, Count: n, RetryAfter: t.RetryAfter(now)}
		}
	}
	return counts, first, nil
}

// Forget takes back one count of each key: an attempt counted before it
// was checked that turned out not to be a failure.
func (t *Throttle) Forget(ctx context.Context, now time.Time, keys ...string) error {
	for _, k := range keys {
		if err := t.store.ForgetFailure(ctx, k, t.window, now); err != nil {
			return fmt.Errorf("forget failure: %w", err)
		}
	}
	return nil
}

// Slot admits one attempt per key in each window of length every (at
// least a second): the first caller in a window gets it, every other one
// is told how long until the next window. It is the growing delay of a key
// under attack: the caller makes every longer as failures mount.
func (t *Throttle) Slot(ctx context.Context, now time.Time, key string, every time.Duration) (bool, time.Duration, error) {
	every = every.Truncate(time.Second)
	if every < time.Second {
		every = time.Second
	}
	n, err := t.store.CountFailure(ctx, fmt.Sprintf("%s#slot%d", key, every/time.Second), every, now)
	if err != nil {
		return false, 0, fmt.Errorf("count attempt: %w", err)
	}
	return n == 1, windowLeft(every, now), nil
}
