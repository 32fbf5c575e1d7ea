package upstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/upstream"
)

const verifier = "verifier-verifier-verifier-verifier-verifier"

func authCodeURL(c *upstream.Client, issuer string) error {
	_, err := c.AuthCodeURL(context.Background(), &domain.SSO{Issuer: issuer, ClientID: "orgauth"},
		"https://auth.example.com/callback", "state", "nonce", verifier, "", "", -1)
	return err
}

// discoveryServer serves a discovery document naming its own endpoints,
// changed by edit, and counts the fetches.
func discoveryServer(t *testing.T, edit func(doc map[string]any), fetches *atomic.Int32, delay time.Duration) *httptest.Server {
	t.Helper()
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		if fetches != nil {
			fetches.Add(1)
		}
		time.Sleep(delay)
		doc := map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks"}
		if edit != nil {
			edit(doc)
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Item 4: a discovery document of 10 MiB fails as soon as 256 KiB have
// been read, whether or not it announces its length; memory stays bounded.
func TestOversizedDiscoveryFailsFast(t *testing.T) {
	chunk := []byte(`{"issuer":"` + strings.Repeat("x", 64<<10-12) + `"`)[:64<<10]
	const size = 10 << 20
	var written atomic.Int64
	var announce atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if announce.Load() {
			w.Header().Set("Content-Length", "10485760")
		}
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			written.Add(int64(len(chunk)))
		}
	}))
	defer srv.Close()

	for _, a := range []bool{false, true} {
		announce.Store(a)
		written.Store(0)
		c := upstream.New(upstream.Config{Timeout: 10 * time.Second}, nil)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		err := authCodeURL(c, srv.URL)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, domain.ErrUpstreamUnavailable) || !strings.Contains(err.Error(), "larger than orgauth accepts") {
			t.Fatalf("announced %v: %v, want unavailable as too large", a, err)
		}
		// Unbounded, io.ReadAll holds the 10 MiB and copies it as it grows.
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 4<<20 {
			t.Errorf("announced %v: reading the oversized document allocated %d bytes", a, alloc)
		}
		t.Logf("announced %v: allocated %d KiB; server wrote %d KiB before the client gave up",
			a, (after.TotalAlloc-before.TotalAlloc)>>10, written.Load()>>10)
	}
}

// Item 5: 14 concurrent sign-ins make one discovery fetch; a failure is
// remembered for FailureTTL, and a provider that does not answer never
// holds up the home-realm discovery's AuthorizationEndpoint.
func TestDiscoveryIsMergedAndFailuresCached(t *testing.T) {
	var fetches atomic.Int32
	srv := discoveryServer(t, nil, &fetches, 200*time.Millisecond)
	c := upstream.New(upstream.Config{}, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 14)
	for range 14 {
		wg.Go(func() { errs <- authCodeURL(c, srv.URL) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("14 concurrent requests made %d discovery fetches, want 1", n)
	}

	// A broken provider: one fetch, then its failure for 30 s.
	var broken atomic.Int32
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		broken.Add(1)
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer bad.Close()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c = upstream.New(upstream.Config{}, clock)
	for range 5 {
		if err := authCodeURL(c, bad.URL); !errors.Is(err, domain.ErrUpstreamUnavailable) {
			t.Fatalf("broken provider: %v", err)
		}
	}
	if _, err := c.AuthorizationEndpoint(context.Background(), &domain.SSO{Issuer: bad.URL}); !errors.Is(err, domain.ErrUpstreamUnavailable) {
		t.Fatalf("endpoint of a broken provider: %v", err)
	}
	if n := broken.Load(); n != 1 {
		t.Fatalf("broken provider fetched %d times within 30 s, want 1", n)
	}
	mu.Lock()
	now = now.Add(31 * time.Second)
	mu.Unlock()
	_ = authCodeURL(c, bad.URL)
	if n := broken.Load(); n != 2 {
		t.Fatalf("after 30 s: %d fetches, want 2", n)
	}

	// A provider that answers only when the test lets it: the endpoint is
	// not known yet, and asking for it does not wait.
	release := make(chan struct{})
	var hangSrv *httptest.Server
	hangSrv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": hangSrv.URL, "authorization_endpoint": hangSrv.URL + "/auth",
			"token_endpoint": hangSrv.URL + "/token", "jwks_uri": hangSrv.URL + "/jwks"})
	}))
	defer hangSrv.Close()
	c = upstream.New(upstream.Config{Timeout: 20 * time.Second}, nil)
	sso := &domain.SSO{Issuer: hangSrv.URL}
	done := make(chan error, 1)
	go func() { _, err := c.AuthorizationEndpoint(context.Background(), sso); done <- err }()
	select {
	case err := <-done:
		if !errors.Is(err, upstream.ErrNotCached) {
			t.Fatalf("endpoint of an unanswered provider: %v, want ErrNotCached", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("AuthorizationEndpoint waited on the provider")
	}
	close(release)
	// The background discovery it started fills the cache.
	for range 200 {
		if ep, err := c.AuthorizationEndpoint(context.Background(), sso); err == nil {
			if ep != hangSrv.URL+"/auth" {
				t.Fatalf("endpoint %q", ep)
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("the background discovery never filled the cache")
}

// fakeResolver answers names from a table.
type fakeResolver map[string]string

func (f fakeResolver) LookupIPAddr(_ context.Context, host string) ([]net.IPAddr, error) {
	ip, ok := f[host]
	if !ok {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []net.IPAddr{{IP: net.ParseIP(ip)}}, nil
}

// Item 6: connections go to public addresses only, checked after name
// resolution; a loopback issuer reaches loopback and nothing else; every
// endpoint is https unless the issuer is loopback.
func TestProviderAddressesAreChecked(t *testing.T) {
	resolver := fakeResolver{
		"metadata.evil.example": "169.254.169.254", "internal.evil.example": "10.0.0.7",
		"ula.evil.example": "fd00::7", "cgnat.evil.example": "100.64.0.1", "loop.evil.example": "127.0.0.1",
		"mapped.evil.example": "::ffff:192.168.1.1",
	}
	newClient := func() *upstream.Client {
		return upstream.New(upstream.Config{Timeout: 3 * time.Second, Resolver: resolver}, nil)
	}

	// An https issuer whose name resolves to a non-public address, the
	// machine's own included: refused when dialling.
	for host := range resolver {
		err := authCodeURL(newClient(), "https://"+host)
		if !errors.Is(err, domain.ErrUpstreamUnavailable) || !strings.Contains(err.Error(), "not a public internet address") {
			t.Errorf("issuer on %s: %v, want the address refused", host, err)
		}
	}

	// A loopback issuer still works.
	honest := discoveryServer(t, nil, nil, 0)
	if err := authCodeURL(newClient(), honest.URL); err != nil {
		t.Fatalf("loopback issuer: %v", err)
	}

	// A loopback issuer whose token endpoint is https on a name that
	// resolves to a private or link-local address: discovery passes, but
	// the code and secret never leave: the connection is refused.
	for _, host := range []string{"internal.evil.example", "metadata.evil.example", "ula.evil.example"} {
		srv := discoveryServer(t, func(doc map[string]any) { doc["token_endpoint"] = "https://" + host + "/token" }, nil, 0)
		_, err := newClient().Exchange(context.Background(), &domain.SSO{Issuer: srv.URL, ClientID: "orgauth"}, "secret",
			"https://auth.example.com/callback", "code", verifier, "nonce")
		if !errors.Is(err, domain.ErrUpstreamUnavailable) || !strings.Contains(err.Error(), "not a public internet address") {
			t.Errorf("token endpoint on %s: %v, want the address refused", host, err)
		}
	}

	// Plain-http endpoints, other than on loopback behind a loopback issuer.
	for name, edit := range map[string]func(map[string]any){
		"jwks_uri":               func(d map[string]any) { d["jwks_uri"] = "http://169.254.169.254/latest/meta-data/" },
		"token_endpoint":         func(d map[string]any) { d["token_endpoint"] = "http://internal.evil.example/token" },
		"authorization_endpoint": func(d map[string]any) { d["authorization_endpoint"] = "http://idp.example/auth" },
		"userinfo_endpoint":      func(d map[string]any) { d["userinfo_endpoint"] = "http://10.0.0.7/userinfo" },
	} {
		srv := discoveryServer(t, edit, nil, 0)
		err := authCodeURL(newClient(), srv.URL)
		if !errors.Is(err, domain.ErrUpstreamUnavailable) || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "must be https") {
			t.Errorf("plain-http %s: %v, want refused", name, err)
		}
	}
}
