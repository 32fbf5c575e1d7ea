package token

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/oauth"
)

// Monthly M2M token quotas.
//
// Counting must not make one organization's counter a hot item. Each warm
// instance counts in memory and adds its count to one of Shards items of
// the organization's monthly counter (a random one, with an atomic ADD)
// every FlushTokens tokens or FlushInterval, whichever comes first; each
// such sync then reads the sum of the shards. A burst of a thousand tokens
// a second is then twenty writes a second, spread over ten items.
//
// How far the count may lag: an instance issues a token only while the
// total it last read plus what it counted since is under the quota, and it
// syncs at least every FlushTokens tokens. So every instance but the one
// that read last can issue at most FlushTokens-1 tokens that nobody else
// has seen: an organization gets at most FlushTokens tokens over its quota
// per warm instance. Reused tokens are not counted.
//
// A failed sync does not refuse tokens: the count stays in memory and is
// added at the next sync, and the failure is logged.

// Usage is the part of the store the quota meter uses (storage.Usage).
type Usage interface {
	AddUsage(ctx context.Context, name string, shard int, delta int64, expiresAt time.Time) error
	UsageTotal(ctx context.Context, name string, now time.Time) (int64, error)
}

// QuotaConfig sets the quotas and how often a warm instance syncs its
// count.
type QuotaConfig struct {
	Plans         domain.TokenQuotas // zero: domain.DefaultTokenQuotas
	Shards        int                // default 10
	FlushTokens   int                // default 50
	FlushInterval time.Duration      // default 10s
}

func (c *QuotaConfig) defaults() {
	if c.Plans == nil {
		c.Plans = domain.DefaultTokenQuotas
	}
	if c.Shards <= 0 {
		c.Shards = 10
	}
	if c.FlushTokens <= 0 {
		c.FlushTokens = 50
	}
	setDefault(&c.FlushInterval, 10*time.Second)
}

// counterTTL keeps a month's counter this long after the month ends, for
// the console and for billing questions.
const counterTTL = 35 * 24 * time.Hour

// rateLimit is what a token response says about the quota (the
// RateLimit-* fields of draft-ietf-httpapi-ratelimit-headers-07).
type rateLimit struct {
	limit, remaining int64
	reset            time.Duration // until the month ends
}

func (r *rateLimit) write(w http.ResponseWriter) {
	if r == nil {
		return
	}
	w.Header().Set("RateLimit-Limit", strconv.FormatInt(r.limit, 10))
	w.Header().Set("RateLimit-Remaining", strconv.FormatInt(r.remaining, 10))
	w.Header().Set("RateLimit-Reset", strconv.FormatInt(secondsUp(r.reset), 10))
}

func secondsUp(d time.Duration) int64 { return int64((d + time.Second - 1) / time.Second) }

// meter counts one warm instance's tokens per organization and month.
type meter struct {
	store Usage
	cfg   QuotaConfig
	log   func(ctx context.Context, msg string, args ...any)

	mu   sync.Mutex
	orgs map[string]*orgUsage // by counter name
}

type orgUsage struct {
	mu      sync.Mutex
	name    string
	end     time.Time
	total   int64 // the counter's sum at the last sync
	pending int64 // counted here since, not yet added
	synced  time.Time
}

func newMeter(store Usage, cfg QuotaConfig, log func(ctx context.Context, msg string, args ...any)) *meter {
	cfg.defaults()
	return &meter{store: store, cfg: cfg, log: log, orgs: map[string]*orgUsage{}}
}

func (m *meter) usage(org domain.Organization, now time.Time) *orgUsage {
	name, end := domain.TokenUsage(org.ID, now)
	m.mu.Lock()
	defer m.mu.Unlock()
	u := m.orgs[name]
	if u == nil {
		u = &orgUsage{name: name, end: end}
		m.orgs[name] = u
		// Last month's entries go; what they had pending is lost with them
		// only if their final sync failed.
		for k, old := range m.orgs {
			if !now.Before(old.end) {
				delete(m.orgs, k)
			}
		}
	}
	return u
}

// sync adds what u counted to a random shard and reads the total. u.mu is
// held.
func (m *meter) sync(ctx context.Context, u *orgUsage, now time.Time) {
	if u.pending > 0 {
		if err := m.store.AddUsage(ctx, u.name, rand.IntN(m.cfg.Shards), u.pending, u.end.Add(counterTTL)); err != nil {
			m.log(ctx, "token usage not counted yet", "event", "quota_sync_failed", "counter", u.name, "error", err.Error())
			return
		}
		u.total += u.pending
		u.pending = 0
	}
	total, err := m.store.UsageTotal(ctx, u.name, now)
	if err != nil {
		m.log(ctx, "token usage not read", "event", "quota_sync_failed", "counter", u.name, "error", err.Error())
		return
	}
	u.total = max(total, u.total)
	u.synced = now
}

func (m *meter) state(u *orgUsage, limit int64, now time.Time) *rateLimit {
	return &rateLimit{limit: limit, remaining: max(0, limit-u.total-u.pending), reset: u.end.Sub(now)}
}

// take counts one new token for org, or refuses it with 429 when the
// month's quota is used up. It always returns the rate-limit state.
func (m *meter) take(ctx context.Context, org domain.Organization, now time.Time) (*rateLimit, error) {
	limit := m.cfg.Plans.For(org)
	u := m.usage(org, now)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.synced.IsZero() || now.Sub(u.synced) >= m.cfg.FlushInterval {
		m.sync(ctx, u, now)
	}
	if u.total+u.pending >= limit {
		rl := m.state(u, limit, now)
		return rl, &oauth.Error{Code: "too_many_requests", Status: http.StatusTooManyRequests, RetryAfter: int(secondsUp(rl.reset)),
			Description: fmt.Sprintf("the organization has used its %d M2M tokens of this month; the quota starts again at %s", limit, u.end.Format(time.RFC3339))}
	}
	u.pending++
	if u.pending >= int64(m.cfg.FlushTokens) {
		m.sync(ctx, u, now)
	}
	return m.state(u, limit, now), nil
}

// peek is the state without counting: for a reused token.
func (m *meter) peek(ctx context.Context, org domain.Organization, now time.Time) *rateLimit {
	limit := m.cfg.Plans.For(org)
	u := m.usage(org, now)
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.synced.IsZero() {
		m.sync(ctx, u, now)
	}
	return m.state(u, limit, now)
}
