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
// instance counts in memory and adds its count to the organization's
// monthly counter (with an atomic ADD, which returns the new total) every
// FlushTokens tokens or FlushInterval, whichever comes first. A burst of a
// thousand tokens a second is then twenty writes a second, and the KMS
// account limit (500 RSA signatures a second) keeps it far under one
// item's limit. With Shards above 1 the counter is spread over that many
// items (a random one per sync), and each sync then reads their sum.
//
// How far the count may lag: an instance issues a token only while the
// total it last read plus what it counted since is under the quota, and
// only while what it counted that others cannot see yet (being added, or
// not yet sent) is under FlushTokens; past that, requests wait for the
// running sync. So an organization gets at most FlushTokens tokens over its
// quota per warm instance. Reused tokens are not counted.
//
// A sync runs while a request reads its client and signs its token, and
// that request finishes it before it answers; it holds no lock during its
// I/O. The token that leaves FlushTokens-1 uncounted names its
// organization, and the instance's next token request starts that sync
// before it reads its client (startDue): the write then has the client
// read and the signature to hide behind, not the signature alone (an
// emulator that serves one request at a time, as dynalite does, makes
// the read wait for it instead). The token that reaches
// FlushTokens, or the first after FlushInterval, starts it itself, while
// it signs. Only an instance's first sync for an organization is waited
// for before the decision, since the instance knows nothing before it.
//
// A failed sync does not refuse tokens: the count stays in memory and is
// added at the next sync, and the failure is logged.

// Usage is the part of the store the quota meter uses (storage.Usage).
type Usage interface {
	AddUsage(ctx context.Context, name string, shard int, delta int64, expiresAt time.Time) (int64, error)
	UsageTotal(ctx context.Context, name string, now time.Time) (total int64, spread int, err error)
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
		c.Shards = 1
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

	dueMu sync.Mutex  // taken inside an orgUsage's mu (take), never around one
	due   []*orgUsage // whose sync the next request starts (startDue)
}

type orgUsage struct {
	mu       sync.Mutex
	name     string
	end      time.Time
	total    int64 // the counter's sum at the last sync, with what this instance added since
	inflight int64 // being added by the running sync
	pending  int64 // counted here since, not yet added
	synced   time.Time
	spread   int        // the counter's spread at the last read (storage.Usage)
	syncing  bool       // a sync is running; no second one starts
	due      bool       // in meter.due
	cond     *sync.Cond // on mu: a sync ended
}

// used is what the organization has used, as far as this instance knows.
func (u *orgUsage) used() int64 { return u.total + u.inflight + u.pending }

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
		u.cond = sync.NewCond(&u.mu)
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

// startSync takes what u counted for the sync that its caller runs (the
// returned function); no sync is running. u.mu is held; the sync takes it
// only to record its outcome, so requests are not queued behind its I/O.
func (m *meter) startSync(u *orgUsage, now time.Time) func(ctx context.Context) {
	u.syncing = true
	delta := u.pending
	u.inflight, u.pending = delta, 0
	return func(ctx context.Context) { m.sync(ctx, u, delta, now) }
}

// sync adds delta to a random shard and reads the total.
func (m *meter) sync(ctx context.Context, u *orgUsage, delta int64, now time.Time) {
	var addErr, readErr error
	var total int64
	if delta > 0 {
		total, addErr = m.store.AddUsage(ctx, u.name, rand.IntN(m.cfg.Shards), delta, u.end.Add(counterTTL))
	}
	// With one shard the addition returned the total, as long as the
	// counter has no other live shard: a month begun with QUOTA_SHARDS
	// above 1 keeps its counts there. Otherwise, or with nothing to add,
	// the shards are read. Only the first read of a month by an instance
	// can find them; once deployed, Lambda sends every request to the new
	// version, so none are added after it.
	u.mu.Lock()
	spread := u.spread
	u.mu.Unlock()
	if addErr == nil && (delta == 0 || m.cfg.Shards > 1 || spread > 1) {
		total, spread, readErr = m.store.UsageTotal(ctx, u.name, now)
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	defer u.cond.Broadcast()
	u.syncing, u.inflight = false, 0
	switch {
	case addErr != nil:
		u.pending += delta // added at the next sync
		m.log(ctx, "token usage not counted yet", "event", "quota_sync_failed", "counter", u.name, "error", addErr.Error())
	case readErr != nil:
		u.total += delta
		m.log(ctx, "token usage not read", "event", "quota_sync_failed", "counter", u.name, "error", readErr.Error())
	default:
		u.total = max(total, u.total+delta)
		u.synced, u.spread = now, spread
	}
}

func (m *meter) state(u *orgUsage, limit int64, now time.Time) *rateLimit {
	return &rateLimit{limit: limit, remaining: max(0, limit-u.used()), reset: u.end.Sub(now)}
}

// settle waits, with u.mu held, until the instance may decide for the
// organization: once its counter was read (the first sync), and while what
// it counted that others cannot see yet is under FlushTokens. It waits for
// a running sync, or runs one itself; if the one it ran failed (logged),
// it decides on what it knows: a failed sync never refuses tokens.
func (m *meter) settle(ctx context.Context, u *orgUsage, now time.Time) {
	for u.synced.IsZero() || u.inflight+u.pending >= int64(m.cfg.FlushTokens) {
		if u.syncing {
			u.cond.Wait()
			continue
		}
		run := m.startSync(u, now)
		u.mu.Unlock()
		run(ctx)
		u.mu.Lock()
		return
	}
}

// take counts one new token for org, or refuses it with 429 when the
// month's quota is used up. It always returns the rate-limit state. A
// sync that is due starts in the background while the caller signs, and
// the caller calls wait before it answers: nil when none started.
func (m *meter) take(ctx context.Context, org domain.Organization, now time.Time) (rl *rateLimit, wait func(), err error) {
	limit := m.cfg.Plans.For(org)
	u := m.usage(org, now)
	u.mu.Lock()
	defer u.mu.Unlock()
	m.settle(ctx, u, now)
	if u.used() >= limit {
		rl := m.state(u, limit, now)
		return rl, nil, &oauth.Error{Code: "too_many_requests", Status: http.StatusTooManyRequests, RetryAfter: int(secondsUp(rl.reset)),
			Description: fmt.Sprintf("the organization has used its %d M2M tokens of this month; the quota starts again at %s", limit, u.end.Format(time.RFC3339))}
	}
	u.pending++
	rl = m.state(u, limit, now)
	// The count goes out with the request that reaches FlushTokens, or the
	// first after FlushInterval. In Lambda, one request at a time per
	// instance, that request finishes it, so no other request ever finds it
	// running; where requests share an instance (the local server), those
	// past FlushTokens wait for it (settle).
	if !u.syncing && (u.pending >= int64(m.cfg.FlushTokens) || now.Sub(u.synced) >= m.cfg.FlushInterval) {
		return rl, goSync(ctx, m.startSync(u, now)), nil
	}
	if !u.syncing && !u.due && u.pending >= int64(m.cfg.FlushTokens)-1 {
		u.due = true
		m.dueMu.Lock()
		m.due = append(m.due, u)
		m.dueMu.Unlock()
	}
	return rl, nil, nil
}

// startDue starts the syncs that earlier tokens made due, for the caller
// to run while it reads its client and signs; wait (nil when none
// started) returns once they have ended, and the caller calls it before
// it answers.
func (m *meter) startDue(ctx context.Context, now time.Time) (wait func()) {
	m.dueMu.Lock()
	due := m.due
	m.due = nil
	m.dueMu.Unlock()
	var waits []func()
	for _, u := range due {
		u.mu.Lock()
		u.due = false
		if !u.syncing && u.pending > 0 {
			waits = append(waits, goSync(ctx, m.startSync(u, now)))
		}
		u.mu.Unlock()
	}
	if len(waits) == 0 {
		return nil
	}
	return func() {
		for _, w := range waits {
			w()
		}
	}
}

// goSync runs a sync that startSync took in the background, while the
// request goes on, and returns what waits for it to end: the request
// waits before it answers (a frozen Lambda would hold the sync
// otherwise), and the sync outlives the request's cancellation, so a
// client that hangs up does not lose the count. The caller may hold u.mu:
// the sync takes it only to record its outcome.
func goSync(ctx context.Context, run func(context.Context)) (wait func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		run(context.WithoutCancel(ctx))
	}()
	return func() { <-done }
}

// peek is the state without counting: for a reused token.
func (m *meter) peek(ctx context.Context, org domain.Organization, now time.Time) *rateLimit {
	limit := m.cfg.Plans.For(org)
	u := m.usage(org, now)
	u.mu.Lock()
	defer u.mu.Unlock()
	for u.synced.IsZero() && u.syncing {
		u.cond.Wait()
	}
	if u.synced.IsZero() {
		run := m.startSync(u, now)
		u.mu.Unlock()
		run(ctx)
		u.mu.Lock()
	}
	return m.state(u, limit, now)
}
