package token_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
	"orgauth/test/testenv"
)

// clientPost posts a client_credentials request from ip to h.
func clientPost(st *testenv.Stack, h http.Handler, clientID, secret, ip string) *httptest.ResponseRecorder {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "audience": {st.Audience}}
	return formPost(h, form, ip, "")
}

func formPost(h http.Handler, f url.Values, ip, origin string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(f.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	r.RemoteAddr = ip + ":4711"
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// Failed client authentications are counted in the table; over the limit a
// client id from one source address gets 429 with Retry-After until the
// window ends, even with the right secret, while the same client from
// elsewhere, and other clients, are unaffected: failing on purpose cannot
// lock a client out.
func TestClientAuthenticationThrottle(t *testing.T) {
	st := testenv.NewStack(t)
	var mu sync.Mutex
	now := time.Now().Truncate(15 * time.Minute).Add(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := st.WithClock(clock, st.Token)
	post := func(clientID, secret, ip string) *httptest.ResponseRecorder {
		return clientPost(st, h, clientID, secret, ip)
	}
	for i := range 20 {
		if w := post(st.ClientID, "wrong", "198.51.100.1"); w.Code != 401 {
			t.Fatalf("failure %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	w := post(st.ClientID, "wrong", "198.51.100.1")
	if w.Code != 429 || w.Header().Get("Retry-After") != fmt.Sprint(14*60) || !strings.Contains(w.Body.String(), "too many failed") {
		t.Fatalf("21st failure: %d %v %s", w.Code, w.Header(), w.Body)
	}
	if w := post(st.ClientID, st.ClientSecret, "198.51.100.1"); w.Code != 429 {
		t.Fatalf("the throttled client id from its address got %d with its right secret", w.Code)
	}
	if w := post(st.ClientID, st.ClientSecret, "198.51.100.2"); w.Code != 200 {
		t.Fatalf("the client from another address got %d: one address locked it out", w.Code)
	}
	mu.Lock()
	now = now.Add(14 * time.Minute)
	mu.Unlock()
	if w := post(st.ClientID, st.ClientSecret, "198.51.100.1"); w.Code != 200 {
		t.Fatalf("after the window: %d %s", w.Code, w.Body)
	}
}

// An office behind one address: one machine there fails 100+ times with
// made-up client ids. Its failures turn into 429, but an SPA's code
// exchange and an M2M client with its secret from the same address still
// get their tokens: the address's limit never refuses a request whose
// client authentication succeeds.
func TestThrottleSharedAddress(t *testing.T) {
	e := newFlowEnv(t)
	h := e.token()
	const office = "203.0.113.9"
	for i := range 100 {
		if w := clientPost(e.st, h, fmt.Sprintf("ghost-%d", i), "x", office); w.Code != 401 {
			t.Fatalf("ghost %d: %d", i, w.Code)
		}
	}
	for i := range 5 {
		if w := clientPost(e.st, h, fmt.Sprintf("ghost-x%d", i), "x", office); w.Code != 429 || w.Header().Get("Retry-After") == "" {
			t.Fatalf("failure %d over the address's limit: %d %v", 101+i, w.Code, w.Header())
		}
	}
	// An unknown public client id from there is a failure too.
	f := url.Values{"grant_type": {"authorization_code"}, "code": {"x"}, "code_verifier": {strings.Repeat("v", 43)}, "redirect_uri": {e.redirect}, "client_id": {"ghost-spa"}}
	if w := formPost(h, f, office, ""); w.Code != 429 {
		t.Fatalf("unknown public client from the throttled address: %d", w.Code)
	}

	if w := clientPost(e.st, h, e.st.ClientID, e.st.ClientSecret, office); w.Code != 200 {
		t.Fatalf("M2M client with its secret from the shared address: %d %s", w.Code, w.Body)
	}
	code, verifier := e.code(t, nil)
	f = url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {e.redirect}, "client_id": {e.spa}}
	if w := formPost(h, f, office, e.origin); w.Code != 200 || !strings.Contains(w.Body.String(), `"access_token"`) {
		t.Fatalf("SPA code exchange from the shared address: %d %s", w.Code, w.Body)
	}
}

// Two instances of the token function on one table (two warm Lambdas): a
// client id thrown into throttling by one is refused by the other, which
// has never seen a failure; and the other answers that address's next
// failure with 429 too.
func TestThrottleAcrossInstances(t *testing.T) {
	st := testenv.NewStack(t)
	first, second := st.Token(), st.Token()
	const ip = "198.51.100.77"
	for i := range 21 {
		clientPost(st, first, st.ClientID, fmt.Sprintf("wrong-%d", i), ip)
	}
	if w := clientPost(st, first, st.ClientID, "wrong", ip); w.Code != 429 {
		t.Fatalf("the first instance does not throttle: %d", w.Code)
	}
	if w := clientPost(st, second, st.ClientID, st.ClientSecret, ip); w.Code != 429 {
		t.Fatalf("a fresh instance answered the throttled client id and address with %d", w.Code)
	}
	if w := clientPost(st, second, st.ClientID, st.ClientSecret, "198.51.100.78"); w.Code != 200 {
		t.Fatalf("the client from another address: %d", w.Code)
	}

	const office = "203.0.113.50"
	for range 101 {
		clientPost(st, first, "ghost-"+domain.NewID(), "x", office)
	}
	if w := clientPost(st, second, "ghost-"+domain.NewID(), "x", office); w.Code != 429 {
		t.Fatalf("a fresh instance answered a failure from a throttled address with %d", w.Code)
	}
	if w := clientPost(st, second, st.ClientID, st.ClientSecret, office); w.Code != 200 {
		t.Fatalf("a fresh instance refused a good client behind the throttled address: %d", w.Code)
	}
}

// failureReads counts the reads of failure counters.
type failureReads struct {
	storage.Store
	mu sync.Mutex
	n  int
}

func (f *failureReads) Failures(ctx context.Context, key string, window time.Duration, now time.Time) (int64, error) {
	f.mu.Lock()
	f.n++
	f.mu.Unlock()
	return f.Store.Failures(ctx, key, window, now)
}

func (f *failureReads) reads() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.n
}

// A client that nobody is failing as costs no read of a failure count:
// the application item it is read from anyway says so. The pair that
// reaches its limit (exactly the limit: the next attempt would pass it)
// marks the application, and from then on every instance reads the count
// of each source presenting the client's secret, and refuses that pair.
func TestThrottleReadsCountsOnlyOnceMarked(t *testing.T) {
	st := testenv.NewStack(t)
	counting := &failureReads{Store: st.Stage.Store}
	st.Stage.Store = counting
	h := st.Token()
	const ip, other = "198.51.100.90", "198.51.100.91"
	for range 5 {
		if w := clientPost(st, h, st.ClientID, st.ClientSecret, ip); w.Code != 200 {
			t.Fatalf("good client: %d %s", w.Code, w.Body)
		}
	}
	if n := counting.reads(); n != 0 {
		t.Fatalf("%d failure counts read for a client nobody fails as", n)
	}
	for i := range 19 {
		if w := clientPost(st, h, st.ClientID, fmt.Sprintf("wrong-%d", i), ip); w.Code != 401 {
			t.Fatalf("failure %d: %d", i+1, w.Code)
		}
	}
	if w := clientPost(st, h, st.ClientID, st.ClientSecret, ip); w.Code != 200 || counting.reads() != 0 {
		t.Fatalf("19 failures, under the limit of 20: %d, %d reads", w.Code, counting.reads())
	}
	if w := clientPost(st, h, st.ClientID, "wrong-20", ip); w.Code != 401 {
		t.Fatalf("the 20th failure: %d", w.Code)
	}
	app, err := st.Stage.Store.GetApplication(t.Context(), st.ClientID)
	if err != nil || !app.ThrottledUntil.After(time.Now()) {
		t.Fatalf("the pair at its limit did not mark the client: %v %v", app.ThrottledUntil, err)
	}
	fresh := st.Token()
	if w := clientPost(st, fresh, st.ClientID, st.ClientSecret, ip); w.Code != 429 || w.Header().Get("Retry-After") == "" {
		t.Fatalf("the right secret from the pair at its limit, on a fresh instance: %d", w.Code)
	}
	if w := clientPost(st, fresh, st.ClientID, st.ClientSecret, other); w.Code != 200 {
		t.Fatalf("the client from another address: %d", w.Code)
	}
	if n := counting.reads(); n != 2 {
		t.Fatalf("%d failure counts read once marked, want one per request", n)
	}
}

// A throttled pair learns nothing from any answer: with the right secret
// and a request that the grant would refuse (a bad scope, audience or
// none), it gets the same 429 as with a wrong secret, not the grant's 400.
func TestThrottledPairGetsNoOracle(t *testing.T) {
	st := testenv.NewStack(t)
	h := st.Token()
	const ip = "198.51.100.92"
	for i := range 21 {
		clientPost(st, h, st.ClientID, fmt.Sprintf("wrong-%d", i), ip)
	}
	for name, f := range map[string]func(url.Values){
		"bad scope":    func(f url.Values) { f.Set("scope", "no-such-scope") },
		"bad audience": func(f url.Values) { f.Set("audience", "https://nowhere.example") },
		"no audience":  func(f url.Values) { f.Del("audience") },
		"as it is":     func(url.Values) {},
	} {
		for _, secret := range []string{st.ClientSecret, "wrong"} {
			form := url.Values{"grant_type": {"client_credentials"}, "client_id": {st.ClientID}, "client_secret": {secret}, "audience": {st.Audience}}
			f(form)
			if w := formPost(h, form, ip, ""); w.Code != 429 {
				t.Errorf("%s, right secret %v: %d %s", name, secret == st.ClientSecret, w.Code, w.Body)
			}
		}
	}
}
