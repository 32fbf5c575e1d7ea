package token

import (
	"context"
	"fmt"
	"time"

	"orgauth/pkg/oauth"
	"orgauth/pkg/platform/throttle"
)

// FailureCounter is the store's failure counters (pkg/platform/throttle).
type FailureCounter = throttle.Counter

// ThrottleConfig bounds failed client authentications (DESIGN: "Failed
// client authentication and failed logins are throttled").
type ThrottleConfig struct {
	Window      time.Duration // default 15 min
	PerClientIP int64         // failures per client id from one source address and window; default 20
	PerIP       int64         // failures per source address and window; default 100
}

// The rule (README, "Throttling"): throttle the failing party, not
// everyone behind its address.
//
//   - Every failed client authentication counts for the client id from the
//     source address, and for the address.
//   - A request that presents a secret is refused, before the secret is
//     checked, once its client id from its address has reached its limit:
//     that pair is the one guessing. The count is read from the table, so
//     every instance refuses it.
//   - The address's own limit never refuses a request whose client
//     authentication succeeds: an office behind one NAT keeps its tokens
//     when one machine there fails 100 times. Over it, that address's
//     failures are answered 429 instead of 401.
//   - A public client (an SPA, client_id alone) has no secret to guess and
//     is never refused by the pair's limit either.
//   - Never a client id alone: anyone who knows one (an SPA's is public)
//     could lock its client out from everywhere by failing on purpose.
func pairKey(clientID, ip string) string { return "client-auth#client-ip#" + clientID + "#" + ip }
func ipKey(ip string) string             { return "client-auth#ip#" + ip }

// checkPair refuses a request with a secret whose client id from its
// address has reached its limit.
func (h *Handler) checkPair(ctx context.Context, creds oauth.ClientCredentials, ip string) error {
	if creds.Method == "none" {
		return nil
	}
	b, err := h.throttle.Check(ctx, h.now(), throttle.Limit{Key: pairKey(creds.ID, ip), Max: h.cfg.Throttle.PerClientIP})
	if err != nil {
		return fmt.Errorf("client authentication throttle: %w", err)
	}
	if b != nil {
		return tooMany(b)
	}
	return nil
}

// fail counts a failed authentication for the pair and the address, and
// answers 429 instead of the failure once either is over its limit.
func (h *Handler) fail(ctx context.Context, creds oauth.ClientCredentials, ip string, failure error) error {
	b, err := h.throttle.Count(ctx, h.now(),
		throttle.Limit{Key: pairKey(creds.ID, ip), Max: h.cfg.Throttle.PerClientIP},
		throttle.Limit{Key: ipKey(ip), Max: h.cfg.Throttle.PerIP})
	if err != nil {
		return fmt.Errorf("count failed authentication: %w", err)
	}
	if b != nil {
		return tooMany(b)
	}
	return failure
}

func tooMany(b *throttle.Blocked) error {
	secs := int(b.RetryAfter.Round(time.Second) / time.Second)
	if secs < 1 {
		secs = 1
	}
	e := oauth.TooManyRequests(fmt.Sprintf("too many failed client authentications; retry in %d seconds", secs))
	e.RetryAfter = secs
	return e
}
