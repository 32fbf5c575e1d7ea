package token_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/test/testenv"
)

// Failed client authentications are counted in the table; over the limit a
// client id from one source address (or the address) gets 429 with
// Retry-After until the window ends, even with the right secret, while the
// same client from elsewhere, and other clients, are unaffected: failing on
// purpose cannot lock a client out.
func TestClientAuthenticationThrottle(t *testing.T) {
	st := testenv.NewStack(t)
	var mu sync.Mutex
	now := time.Now().Truncate(15 * time.Minute).Add(time.Minute)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := st.WithClock(clock, st.Token)

	post := func(clientID, secret, ip string) *httptest.ResponseRecorder {
		form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "audience": {st.Audience}}
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = ip + ":4711"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
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
		t.Fatalf("the throttled address got %d for the client with its right secret", w.Code)
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

	// Per source address: many unknown clients from one address.
	for i := range 100 {
		if w := post(fmt.Sprintf("ghost-%d", i), "x", "203.0.113.9"); w.Code != 401 {
			t.Fatalf("ghost %d: %d", i, w.Code)
		}
	}
	if w := post("ghost-x", "x", "203.0.113.9"); w.Code != 429 {
		t.Fatalf("101st failure from one address: %d", w.Code)
	}
	if w := post(st.ClientID, st.ClientSecret, "203.0.113.9"); w.Code != 429 {
		t.Fatalf("a throttled address still gets tokens: %d", w.Code)
	}
	if w := post(st.ClientID, st.ClientSecret, "192.0.2.1"); w.Code != 200 {
		t.Fatalf("another address is refused: %d %s", w.Code, w.Body)
	}
}
