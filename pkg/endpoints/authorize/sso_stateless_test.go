package authorize_test

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/storage"
)

// signInWrites counts, by method, every write that sign-in (authorize and
// callback) can make: each writing method of signin.Store.
type signInWrites struct {
	storage.Store
	mu sync.Mutex
	n  map[string]int
}

func (w *signInWrites) add(method string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n[method]++
}

// take returns the writes counted so far and starts counting again.
func (w *signInWrites) take() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	n := w.n
	w.n = map[string]int{}
	return n
}

func total(n map[string]int) int {
	sum := 0
	for _, v := range n {
		sum += v
	}
	return sum
}

func (w *signInWrites) UpdateUser(ctx context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	w.add("UpdateUser")
	return w.Store.UpdateUser(ctx, id, fn)
}

func (w *signInWrites) CreateLoginTransaction(ctx context.Context, tx domain.LoginTransaction) error {
	w.add("CreateLoginTransaction")
	return w.Store.CreateLoginTransaction(ctx, tx)
}

func (w *signInWrites) ConsumeLoginTransaction(ctx context.Context, id string, now time.Time) (domain.LoginTransaction, error) {
	w.add("ConsumeLoginTransaction")
	return w.Store.ConsumeLoginTransaction(ctx, id, now)
}

func (w *signInWrites) CreateSession(ctx context.Context, s domain.Session) error {
	w.add("CreateSession")
	return w.Store.CreateSession(ctx, s)
}

func (w *signInWrites) DeleteSession(ctx context.Context, hash []byte) error {
	w.add("DeleteSession")
	return w.Store.DeleteSession(ctx, hash)
}

func (w *signInWrites) CountFailure(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	w.add("CountFailure")
	return w.Store.CountFailure(ctx, key, window, now)
}

func (w *signInWrites) ForgetFailure(ctx context.Context, key string, window time.Duration, now time.Time) error {
	w.add("ForgetFailure")
	return w.Store.ForgetFailure(ctx, key, window, now)
}

func (w *signInWrites) CreateCode(ctx context.Context, c domain.AuthorizationCode) error {
	w.add("CreateCode")
	return w.Store.CreateCode(ctx, c)
}

func (w *signInWrites) PutConsent(ctx context.Context, c domain.Consent) (domain.Consent, error) {
	w.add("PutConsent")
	return w.Store.PutConsent(ctx, c)
}

func (w *signInWrites) RevokeRefreshFamily(ctx context.Context, id string, now time.Time) error {
	w.add("RevokeRefreshFamily")
	return w.Store.RevokeRefreshFamily(ctx, id, now)
}

func (w *signInWrites) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	w.add("RevokeJTI")
	return w.Store.RevokeJTI(ctx, jti, expiresAt)
}

func (w *signInWrites) CreateUser(ctx context.Context, u domain.User) error {
	w.add("CreateUser")
	return w.Store.CreateUser(ctx, u)
}

func (w *signInWrites) LinkUpstream(ctx context.Context, l domain.UpstreamLink) error {
	w.add("LinkUpstream")
	return w.Store.LinkUpstream(ctx, l)
}

// countWrites rebuilds e's authorize and callback functions on a store
// that counts sign-in's writes.
func (e *ssoEnv) countWrites() *signInWrites {
	w := &signInWrites{Store: e.st.Stage.Store, n: map[string]int{}}
	e.st.Stage.Store = w
	log := slog.New(slog.NewJSONHandler(e.logs, nil))
	mux := http.NewServeMux()
	cb := e.st.WithClock(e.clock, e.st.Callback)
	mux.Handle("/callback", cb)
	mux.Handle("/callback/", cb)
	mux.Handle("/", e.st.WithClock(e.clock, e.st.Authorize))
	e.h = httpx.Middleware(log, nil, mux)
	return w
}

func stateOf(t *testing.T, authURL string) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("state")
}

// An anonymous GET /authorize of an application whose organization
// enforces SSO used to store its login transaction and an SSO transaction
// before sending the user upstream: two items per request, for anyone who
// knows a public client_id. Now 300 of them write nothing, and the
// sign-ins they started still complete through the provider.
func TestSSOAnonymousAuthorizeWritesNothing(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	w := e.countWrites()
	type started struct {
		b    *browser
		auth string
	}
	var kept []started
	for i := range 300 {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("state", fmt.Sprint("s-", i)) }), nil))
		if i == 150 || i == 299 {
			kept = append(kept, started{b, auth})
		}
	}
	if n := w.take(); total(n) != 0 {
		t.Fatalf("300 anonymous /authorize requests of an SSO application wrote %v", n)
	}
	// What the provider sees of the application's request: nothing.
	for _, secret := range []string{"s-150", challenge, "n-0S6", callback, url.QueryEscape(callback)} {
		if strings.Contains(kept[0].auth, secret) {
			t.Fatalf("the request sent upstream discloses %q: %s", secret, kept[0].auth)
		}
	}

	// The 151st sign-in completes; only then is anything written, and the
	// state is spent first.
	b := kept[0].b
	resp := b.do(t, "GET", e.op.grant(t, kept[0].auth, verified("sub-ola", "ola@example.org")), nil)
	q := e.wantRedirect(t, b.consenting(t, resp), callback)
	if q.Get("code") == "" || q.Get("state") != "s-150" {
		t.Fatalf("the 151st sign-in did not complete: %v", q)
	}
	if n := w.take(); n["CreateLoginTransaction"] < 1 || n["CreateSession"] != 1 || n["CreateCode"] != 1 {
		t.Fatalf("a completed SSO sign-in wrote %v", n)
	}
	// The last one too, from its own browser.
	last := kept[1]
	resp = last.b.do(t, "GET", e.op.grant(t, last.auth, verified("sub-ola", "ola@example.org")), nil)
	if q := e.wantRedirect(t, last.b.consenting(t, resp), callback); q.Get("code") == "" || q.Get("state") != "s-299" {
		t.Fatalf("the 300th sign-in did not complete: %v", q)
	}
}

// A sealed state is refused, writing nothing, when it is tampered with,
// another stage's, opened in another browser, replayed after its sign-in
// completed, expired, or back at another organization's redirect URI; and
// the provider's error ends the sign-in writing nothing.
func TestSSOSealedStateRefusals(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	_, spaB, opB := e.addSSOOrg(t, "b.example")
	foreign := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	w := e.countWrites()
	start := func(b *browser, client string) string {
		t.Helper()
		resp := b.do(t, "GET", authzQuery(client, nil), nil)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/auth?") {
			t.Fatalf("want a redirect upstream, got %d %q", resp.StatusCode, loc)
		}
		return loc
	}
	refusedQuietly := func(t *testing.T, resp *http.Response, status int, text string) {
		t.Helper()
		wantPage(t, resp, status, text)
		if n := w.take(); total(n) != 0 {
			t.Fatalf("a refused callback wrote %v", n)
		}
	}

	t.Run("Tampered", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		back := e.op.grant(t, auth, verified("sub-t", "t@example.org"))
		state := stateOf(t, auth)
		for _, i := range []int{3, len(state) / 2, len(state) - 2} {
			c := byte('A')
			if state[i] == 'A' {
				c = 'B'
			}
			bad := state[:i] + string(c) + state[i+1:]
			refusedQuietly(t, b.do(t, "GET", withParam(t, back, "state", bad), nil), 400, "expired or was already used")
		}
		for _, bad := range []string{state[:len(state)-4], state + "AAAA", "s1.", "s1.!!!", strings.Repeat("A", 3000)} {
			refusedQuietly(t, b.do(t, "GET", withParam(t, back, "state", bad), nil), 400, "expired or was already used")
		}
		// Untouched, it still completes.
		e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
		w.take()
	})

	t.Run("AnotherStagesState", func(t *testing.T) {
		fb := foreign.browser()
		auth := start(fb, foreign.spa)
		// The same browser cookie, at this stage: still not its state.
		b := e.browser()
		b.cookies = fb.cookies
		refusedQuietly(t, b.do(t, "GET", "/callback/"+e.st.OrgID+"?"+url.Values{"state": {stateOf(t, auth)}, "code": {"x"}}.Encode(), nil),
			400, "expired or was already used")
	})

	t.Run("AnotherBrowser", func(t *testing.T) {
		victim, attacker := e.browser(), e.browser()
		auth := start(victim, e.spa)
		back := e.op.grant(t, auth, verified("sub-v", "v@example.org"))
		start(attacker, e.spa) // the attacker has a binding cookie of their own
		refusedQuietly(t, attacker.do(t, "GET", back, nil), 403, "started in another browser")
		e.wantCode(t, victim.consenting(t, victim.do(t, "GET", back, nil)))
		w.take()
	})

	t.Run("ReplayedAfterSuccess", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		back := e.op.grant(t, auth, verified("sub-r", "r@example.org"))
		binding := b.cookies["__Host-orgauth_sso"]
		e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
		w.take()
		// Even with the binding cookie kept, and a provider that would
		// accept its code again.
		b.cookies["__Host-orgauth_sso"] = binding
		refusedQuietly(t, b.do(t, "GET", back, nil), 400, "expired or was already used")
		again := e.op.grant(t, auth, verified("sub-r", "r@example.org"))
		hits := 0
		e.op.set(func(op *testOP) { hits = op.tokenHits })
		refusedQuietly(t, b.do(t, "GET", again, nil), 400, "expired or was already used")
		e.op.set(func(op *testOP) {
			if op.tokenHits != hits {
				t.Errorf("a spent state's code was sent to the provider")
			}
		})
	})

	t.Run("ConcurrentCallbacksOneWins", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		codes := make([]string, 6)
		for i := range codes {
			codes[i] = e.op.grant(t, auth, verified("sub-c", "c@example.org"))
		}
		var mu sync.Mutex
		statuses := map[int]int{}
		var wg sync.WaitGroup
		for _, back := range codes {
			wg.Go(func() {
				c := &browser{e: e.env, ip: b.ip, cookies: maps.Clone(b.cookies)}
				resp := c.do(t, "GET", back, nil)
				mu.Lock()
				statuses[resp.StatusCode]++
				mu.Unlock()
			})
		}
		wg.Wait()
		if statuses[http.StatusBadRequest] != len(codes)-1 || statuses[http.StatusBadRequest]+statuses[http.StatusOK]+statuses[http.StatusSeeOther] != len(codes) {
			t.Fatalf("concurrent callbacks with one state: %v, want one sign-in", statuses)
		}
		if n := w.take(); n["CreateSession"] != 1 {
			t.Fatalf("concurrent callbacks with one state wrote %v", n)
		}
	})

	t.Run("Expired", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		back := e.op.grant(t, auth, verified("sub-x", "x@example.org"))
		e.advance(10 * time.Minute)
		refusedQuietly(t, b.do(t, "GET", back, nil), 400, "expired or was already used")
	})

	t.Run("OtherOrganizationsRedirectURI", func(t *testing.T) {
		// A state of organization B comes back at /callback/<A>.
		b := e.browser()
		auth := start(b, spaB)
		back := opB.grant(t, auth, verified("sub-b", "b@b.example"))
		if !strings.HasPrefix(back, "/callback/") {
			t.Fatalf("answer at %s", back)
		}
		moved := "/callback/" + e.st.OrgID + "?" + strings.SplitN(back, "?", 2)[1]
		refusedQuietly(t, b.do(t, "GET", moved, nil), 400, "did not come from your organization")
		// And of A at /callback/<B>.
		a := e.browser()
		authA := start(a, e.spa)
		backA := e.op.grant(t, authA, verified("sub-a", "a@example.org"))
		orgB := strings.TrimPrefix(strings.SplitN(back, "?", 2)[0], "/callback/")
		refusedQuietly(t, a.do(t, "GET", "/callback/"+orgB+"?"+strings.SplitN(backA, "?", 2)[1], nil), 400, "did not come from your organization")
		// Neither attempt spent anything: both still complete where they belong.
		e.wantCode(t, a.consenting(t, a.do(t, "GET", backA, nil)))
		e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
		w.take()
	})

	t.Run("RedirectURIDroppedSince", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		back := e.op.grant(t, auth, verified("sub-d", "d@example.org"))
		app, err := e.st.Stage.Store.GetApplication(t.Context(), e.spa)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.st.Stage.Store.UpdateApplication(t.Context(), e.spa, func(a domain.Application) (domain.Application, error) {
			a.CallbackURLs = []string{"https://elsewhere.example/cb"}
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		resp := b.do(t, "GET", back, nil)
		if loc := resp.Header.Get("Location"); loc != "" {
			t.Fatalf("sent to %q", loc)
		}
		refusedQuietly(t, resp, 400, "no longer registered")
		if _, err := e.st.Stage.Store.UpdateApplication(t.Context(), e.spa, func(a domain.Application) (domain.Application, error) {
			a.CallbackURLs = app.CallbackURLs
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		w.take()
	})

	t.Run("UpstreamErrorWritesNothing", func(t *testing.T) {
		b := e.browser()
		auth := start(b, e.spa)
		resp := b.do(t, "GET", "/callback/"+e.st.OrgID+"?"+url.Values{"error": {"access_denied"}, "state": {stateOf(t, auth)}}.Encode(), nil)
		q := e.wantRedirect(t, resp, callback)
		if q.Get("error") != "access_denied" || q.Get("state") != "xyz-state" {
			t.Fatalf("access_denied: %v", q)
		}
		if n := w.take(); total(n) != 0 {
			t.Fatalf("the provider's error wrote %v", n)
		}
		// The sign-in ended in this browser: its binding cookie is gone,
		// so the state's code can no longer complete it.
		if b.cookies["__Host-orgauth_sso"] != nil {
			t.Fatal("the binding cookie outlived the provider's error")
		}
		refusedQuietly(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-e", "e@example.org")), nil), 403, "started in another browser")
	})
}

// An authorization request too long to seal into the state is refused to
// the application (invalid_request), never stored instead.
func TestSSOStateTooLong(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	w := e.countWrites()
	b := e.browser()
	long := strings.Repeat("x", 1800)
	resp := b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("state", long) }), nil)
	q := e.wantRedirect(t, resp, callback)
	if q.Get("error") != "invalid_request" || q.Get("state") != long || !strings.Contains(q.Get("error_description"), "too long") {
		t.Fatalf("a request too long to send upstream: error %q: %q", q.Get("error"), q.Get("error_description"))
	}
	if n := w.take(); total(n) != 0 {
		t.Fatalf("a request too long to send upstream wrote %v", n)
	}
	// A long state that fits still goes upstream.
	e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("state", strings.Repeat("y", 600)) }), nil))
}
