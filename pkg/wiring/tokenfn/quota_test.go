package tokenfn_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

func header(t *testing.T, resp *http.Response, name string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(resp.Header.Get(name), 10, 64)
	if err != nil {
		t.Fatalf("%s: %q", name, resp.Header.Get(name))
	}
	return n
}

// Every client_credentials answer carries the quota; new tokens count it
// down, reused ones do not; past the quota the answer is 429 with
// Retry-After until the month ends, and a new month starts again.
func TestQuotaHeadersCountDown(t *testing.T) {
	s := testenv.NewStack(t)
	now := time.Date(2026, 5, 31, 23, 0, 0, 0, time.UTC)
	s.Stage.Now = func() time.Time { return now }
	s.Stage.Cfg.TokenQuotas[domain.PlanEnterpriseLarge] = 4
	h := s.Handler(tokenfn.New)
	ask := func(scope string) (*http.Response, map[string]any) {
		return testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}, "audience": {s.Audience}, "scope": {scope}}})
	}
	check := func(resp *http.Response, status int, remaining int64) {
		t.Helper()
		if resp.StatusCode != status || header(t, resp, "RateLimit-Limit") != 4 || header(t, resp, "RateLimit-Remaining") != remaining ||
			header(t, resp, "RateLimit-Reset") != 3600 {
			t.Fatalf("status %d, headers %v; want %d with %d remaining", resp.StatusCode, resp.Header, status, remaining)
		}
	}
	r, first := ask("read")
	check(r, 200, 3)
	r, again := ask("read") // reused: not counted
	check(r, 200, 3)
	if again["access_token"] != first["access_token"] {
		t.Fatal("not reused")
	}
	r, _ = ask("") // another scope set (all of the application's, here the same): reused too
	check(r, 200, 3)
	s.Stage.Cfg.TokenReuse = false
	h = s.Handler(tokenfn.New)
	// A second warm instance has not seen the first one's token, which is
	// still under the flush threshold in its memory: it counts the whole
	// quota down itself, one token over in total (the stated lag).
	for want := int64(3); want >= 0; want-- {
		r, _ = ask("read")
		check(r, 200, want)
	}
	r, body := ask("read")
	check(r, 429, 0)
	if body["error"] != "too_many_requests" || r.Header.Get("Retry-After") != "3600" || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("over quota: %v %v", body, r.Header)
	}
	now = now.Add(time.Hour) // June
	r, _ = ask("read")
	if r.StatusCode != 200 || header(t, r, "RateLimit-Remaining") != 3 {
		t.Fatalf("a new month: %d, %v", r.StatusCode, r.Header)
	}
}

// Under 50 concurrent clients spread over five warm instances, the
// organization gets its whole quota and at most QUOTA_FLUSH_TOKENS more per
// instance: with one counter item (the total comes back from the ADD) and
// with four (each sync reads their sum).
func TestQuotaHoldsUnderConcurrentClients(t *testing.T) {
	for _, shards := range []int{1, 4} {
		t.Run(fmt.Sprintf("%d shards", shards), func(t *testing.T) { quotaUnderConcurrentClients(t, shards) })
	}
}

func quotaUnderConcurrentClients(t *testing.T, shards int) {
	const quota, instances, flush, clients, each = 300, 5, 10, 50, 10
	s := testenv.NewStack(t)
	s.Stage.Cfg.TokenReuse = false
	s.Stage.Cfg.QuotaShards = shards
	s.Stage.Cfg.QuotaFlushTokens = flush
	s.Stage.Cfg.QuotaFlushInterval = time.Hour // only the token count flushes
	if _, err := s.Stage.Store.UpdateOrganization(context.Background(), s.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.TokenQuota = quota // the operator's override
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	var hs []http.Handler
	for range instances {
		hs = append(hs, s.Handler(tokenfn.New))
	}
	type client struct{ id, secret string }
	var cs []client
	for i := range clients {
		secret, hash := domain.NewSecret()
		now := time.Now()
		a := domain.Application{ClientID: domain.NewID(), OrganizationID: s.OrgID, Name: "c" + strconv.Itoa(i), Type: domain.ClientM2M,
			Scopes: []string{"read"}, SecretHash: hash, CreatedBy: s.OwnerID, CreatedAt: now, UpdatedAt: now}
		if err := s.Stage.Store.CreateApplication(context.Background(), a); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, client{a.ClientID, secret})
	}
	var issued, refused atomic.Int64
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range each {
				r, _ := testenv.Do(t, hs[(i+j)%instances], testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
					"client_id": {c.id}, "client_secret": {c.secret}, "audience": {s.Audience}}})
				switch r.StatusCode {
				case 200:
					issued.Add(1)
				case 429:
					refused.Add(1)
				default:
					t.Errorf("status %d", r.StatusCode)
					return
				}
				if r.Header.Get("RateLimit-Limit") != strconv.Itoa(quota) {
					t.Errorf("RateLimit-Limit %q", r.Header.Get("RateLimit-Limit"))
				}
				if rem := header(t, r, "RateLimit-Remaining"); rem < 0 || rem > quota {
					t.Errorf("RateLimit-Remaining %d", rem)
				}
			}
		}()
	}
	wg.Wait()
	n := issued.Load()
	t.Logf("%d issued, %d refused; quota %d, bound %d", n, refused.Load(), quota, quota+instances*flush)
	if n < quota || n > quota+instances*flush {
		t.Fatalf("%d tokens issued for a quota of %d: want %d to %d", n, quota, quota, quota+instances*flush)
	}
	if n+refused.Load() != clients*each {
		t.Fatalf("%d answers for %d requests", n+refused.Load(), clients*each)
	}
}

// sequencedStore records the quota writes, and can hold a read of a client
// until the quota write it waits for has started.
type sequencedStore struct {
	storage.Store
	mu          sync.Mutex
	adds        []int64       // deltas, in order
	added       chan struct{} // closed at the first AddUsage once armed
	holdClient  atomic.Bool   // GetApplication waits for added
	notStarted  atomic.Bool   // it waited in vain
	addFinished atomic.Bool
}

func (s *sequencedStore) AddUsage(ctx context.Context, name string, shard int, delta int64, expiresAt time.Time) (int64, error) {
	s.mu.Lock()
	s.adds = append(s.adds, delta)
	if s.added != nil {
		close(s.added)
		s.added = nil
	}
	s.mu.Unlock()
	time.Sleep(50 * time.Millisecond) // a write slower than the rest of the request
	n, err := s.Store.AddUsage(ctx, name, shard, delta, expiresAt)
	s.addFinished.Store(true)
	return n, err
}

func (s *sequencedStore) GetApplication(ctx context.Context, id string) (domain.Application, error) {
	if s.holdClient.Load() {
		s.mu.Lock()
		added := s.added
		s.mu.Unlock()
		if added != nil {
			select {
			case <-added:
			case <-time.After(2 * time.Second):
				s.notStarted.Store(true)
				return domain.Application{}, errors.New("the due quota write had not started while the client was read")
			}
		}
	}
	return s.Store.GetApplication(ctx, id)
}

// The quota count that earlier tokens made due is written while the next
// request reads its client and signs, not after its signature: the write
// has started before that request's client is read, and the answer waits
// for it to end (a frozen Lambda would hold it otherwise).
func TestQuotaWriteRunsWhileTheNextRequestAuthenticates(t *testing.T) {
	s := testenv.NewStack(t)
	s.Stage.Cfg.TokenReuse = false
	s.Stage.Cfg.QuotaFlushTokens = 3
	s.Stage.Cfg.QuotaFlushInterval = time.Hour
	st := &sequencedStore{Store: s.Stage.Store}
	s.Stage.Store = st
	h := s.Handler(tokenfn.New)
	ask := func() {
		t.Helper()
		r, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}, "audience": {s.Audience}}})
		if r.StatusCode != 200 && !st.notStarted.Load() {
			t.Fatalf("status %d: %v", r.StatusCode, body)
		}
	}
	ask() // the instance's first token: it reads the counter, adds nothing
	ask() // two uncounted: the next request writes them
	if len(st.adds) != 0 {
		t.Fatalf("written before due: %v", st.adds)
	}
	st.added = make(chan struct{})
	st.holdClient.Store(true)
	ask()
	if st.notStarted.Load() {
		t.Fatal("the due quota write had not started while the client was read")
	}
	if len(st.adds) != 1 || st.adds[0] != 2 {
		t.Fatalf("quota writes %v, want one of 2", st.adds)
	}
	if !st.addFinished.Load() {
		t.Fatal("the answer did not wait for the quota write")
	}
	name, _ := domain.TokenUsage(s.OrgID, time.Now())
	if total, _, err := s.Stage.Store.UsageTotal(context.Background(), name, time.Now()); err != nil || total != 2 {
		t.Fatalf("counter %d, %v; want 2", total, err)
	}
}

// A month begun with more shards keeps counts in them when QUOTA_SHARDS
// drops to 1 (a deploy of the new default, or an operator's change): the
// instances still count those, and still see each other's tokens, so the
// organization gets its quota and at most QUOTA_FLUSH_TOKENS more per
// instance, not the old shards' count again.
func TestQuotaCountsShardsLeftByAnEarlierSetting(t *testing.T) {
	const quota, earlier, flush, instances = 20, 10, 2, 2
	s := testenv.NewStack(t)
	ctx := context.Background()
	s.Stage.Cfg.TokenReuse = false
	s.Stage.Cfg.QuotaShards = 1
	s.Stage.Cfg.QuotaFlushTokens = flush
	s.Stage.Cfg.QuotaFlushInterval = time.Hour
	if _, err := s.Stage.Store.UpdateOrganization(ctx, s.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.TokenQuota = quota
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	name, end := domain.TokenUsage(s.OrgID, time.Now())
	if _, err := s.Stage.Store.AddUsage(ctx, name, 5, earlier, end.Add(35*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	var hs []http.Handler
	for range instances {
		hs = append(hs, s.Handler(tokenfn.New))
	}
	issued := 0
	for i := range 4 * quota {
		r, _ := testenv.Do(t, hs[i%instances], testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {s.ClientID}, "client_secret": {s.ClientSecret}, "audience": {s.Audience}}})
		switch r.StatusCode {
		case 200:
			issued++
		case 429:
		default:
			t.Fatalf("status %d", r.StatusCode)
		}
	}
	if issued < quota-earlier || issued > quota-earlier+instances*flush {
		t.Fatalf("%d tokens issued with %d of %d already counted in another shard: want %d to %d",
			issued, earlier, quota, quota-earlier, quota-earlier+instances*flush)
	}
}
