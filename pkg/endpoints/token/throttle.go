package token

import (
	"context"
	"fmt"
	"sync"
	"time"

	"orgauth/pkg/oauth"
)

// FailureCounter counts failures per key in fixed windows (a DynamoDB
// counter item per key and window).
type FailureCounter interface {
	CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error)
}

// ThrottleConfig bounds failed client authentications (DESIGN: "Failed
// client authentication and failed logins are throttled").
type ThrottleConfig struct {
	Window      time.Duration // default 15 min
	PerClientIP int64         // failures per client id from one source address and window; default 20
	PerIP       int64         // failures per source address and window; default 100
}

// throttle costs nothing on the success path: failures are counted in the
// table, and once a key is over its limit, this warm instance refuses it
// from memory until the window ends, without reading the client or checking
// a secret. Other instances learn of it at their next counted failure.
//
// The keys are the source address, and a client id from that address;
// never a client id alone, or anyone who knows a client id (an SPA's is
// public) could lock that client out from everywhere by failing on purpose.
// Client secrets are 256 random bits, so guessing one from many addresses
// is hopeless anyway; the per-client failures show in the metrics and the
// alarm instead.
type throttle struct {
	store FailureCounter
	cfg   ThrottleConfig

	mu      sync.Mutex
	blocked map[string]time.Time // key -> end of its window
}

func throttleKeys(clientID, ip string) []string {
	return []string{"client-auth#client-ip#" + clientID + "#" + ip, "client-auth#ip#" + ip}
}

// check refuses a key this instance knows to be over its limit.
func (t *throttle) check(now time.Time, clientID, ip string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range throttleKeys(clientID, ip) {
		if until, ok := t.blocked[k]; ok {
			if now.Before(until) {
				return tooMany(until.Sub(now))
			}
			delete(t.blocked, k)
		}
	}
	return nil
}

// fail counts one failure for the client from the source address and for
// the address, and answers 429 instead of the failure once either is over
// its limit.
func (t *throttle) fail(ctx context.Context, now time.Time, clientID, ip string, failure error) error {
	limits := []int64{t.cfg.PerClientIP, t.cfg.PerIP}
	for i, k := range throttleKeys(clientID, ip) {
		n, err := t.store.CountFailure(ctx, k, t.cfg.Window, now)
		if err != nil {
			return fmt.Errorf("count failed authentication: %w", err)
		}
		if n > limits[i] {
			// The counter's windows are aligned on the epoch.
			until := now.Truncate(t.cfg.Window).Add(t.cfg.Window)
			t.mu.Lock()
			if len(t.blocked) > 10000 { // bounded memory under a spray of addresses
				for bk, bu := range t.blocked {
					if !now.Before(bu) {
						delete(t.blocked, bk)
					}
				}
			}
			t.blocked[k] = until
			t.mu.Unlock()
			return tooMany(until.Sub(now))
		}
	}
	return failure
}

func tooMany(wait time.Duration) error {
	secs := int(wait.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	e := oauth.TooManyRequests(fmt.Sprintf("too many failed client authentications; retry in %d seconds", secs))
	e.RetryAfter = secs
	return e
}
