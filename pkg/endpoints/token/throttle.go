package token

import (
	"context"
	"fmt"
	"time"

	"orgauth/pkg/domain"
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
//   - A request that presents a secret is refused once its client id from
//     its address has reached its limit, even with the right secret: that
//     pair is the one guessing. A wrong secret is counted, and the count
//     that passes the limit answers 429. The right one is checked against
//     the count (from the table, so every instance refuses the pair)
//     before any grant runs, so that no answer tells it from a wrong one.
//     The count is read only while the application is marked throttled:
//     the pair that reaches its limit marks it, to the window's end, on the
//     application item that every request reads anyway.
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
// address has reached its limit. It reads the count only while the
// application is marked throttled (some source reached its limit as this
// client): otherwise there is nothing to read, and the M2M path costs no
// read beyond the application itself.
func (h *Handler) checkPair(ctx context.Context, creds oauth.ClientCredentials, app domain.Application, ip string) error {
	if creds.Method == "none" || !h.now().Before(app.ThrottledUntil) {
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
// answers 429 instead of the failure once either is over its limit. A pair
// that has reached its limit marks its application throttled until the
// window ends, so that every instance then reads the count of each source
// presenting that client's secret (authenticateRequest).
func (h *Handler) fail(ctx context.Context, creds oauth.ClientCredentials, ip string, failure error) error {
	now := h.now()
	pair := throttle.Limit{Key: pairKey(creds.ID, ip), Max: h.cfg.Throttle.PerClientIP}
	counts, b, err := h.throttle.Tally(ctx, now, pair, throttle.Limit{Key: ipKey(ip), Max: h.cfg.Throttle.PerIP})
	if err != nil {
		return fmt.Errorf("count failed authentication: %w", err)
	}
	if creds.Method != "none" && counts[0] >= pair.Max {
		if err := h.store.ThrottleApplication(ctx, creds.ID, now.Add(h.throttle.RetryAfter(now))); err != nil {
			return fmt.Errorf("mark the client throttled: %w", err)
		}
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
