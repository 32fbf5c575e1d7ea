package upstream_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/upstream"
)

// A provider's discovery document is fetched once per issuer and trusted
// for the cache's lifetime, across requests of a warm function; then it is
// fetched again. A provider that does not answer is unavailable, not a hang.
func TestDiscoveryIsCachedPerIssuer(t *testing.T) {
	var fetches atomic.Int32
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/openid-configuration" {
			http.NotFound(w, r)
			return
		}
		fetches.Add(1)
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": srv.URL, "authorization_endpoint": srv.URL + "/auth",
			"token_endpoint": srv.URL + "/token", "jwks_uri": srv.URL + "/jwks"})
	}))
	defer srv.Close()

	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	c := upstream.New(upstream.Config{CacheTTL: time.Hour}, func() time.Time { return now })
	sso := &domain.SSO{Issuer: srv.URL, ClientID: "orgauth", Scopes: []string{"email"}}
	ctx := context.Background()
	for i := range 3 {
		target, err := c.AuthCodeURL(ctx, sso, "https://auth.example.com/callback", "state-1", "nonce-1", "verifier-verifier-verifier-verifier-verifier", "ada@example.org", "", -1)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(target)
		q := u.Query()
		if u.Path != "/auth" || q.Get("client_id") != "orgauth" || q.Get("scope") != "openid email" || q.Get("state") != "state-1" ||
			q.Get("nonce") != "nonce-1" || q.Get("code_challenge_method") != "S256" || q.Get("login_hint") != "ada@example.org" ||
			q.Get("redirect_uri") != "https://auth.example.com/callback" {
			t.Fatalf("request %d: %s", i, target)
		}
	}
	// A re-authentication is forwarded; without one, neither parameter is sent.
	target, err := c.AuthCodeURL(ctx, sso, "https://auth.example.com/callback", "s", "n", "verifier-verifier-verifier-verifier-verifier", "", "login", 0)
	if u, _ := url.Parse(target); err != nil || u.Query().Get("prompt") != "login" || u.Query().Get("max_age") != "0" {
		t.Fatalf("re-authentication not forwarded: %s %v", target, err)
	}
	if target, _ := c.AuthCodeURL(ctx, sso, "https://auth.example.com/callback", "s", "n", "verifier-verifier-verifier-verifier-verifier", "", "", -1); strings.Contains(target, "prompt=") || strings.Contains(target, "max_age=") {
		t.Fatalf("unasked re-authentication: %s", target)
	}
	if ep, err := c.AuthorizationEndpoint(ctx, sso); err != nil || ep != srv.URL+"/auth" {
		t.Fatalf("endpoint %q %v", ep, err)
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("discovery fetched %d times, want once", n)
	}
	now = now.Add(time.Hour + time.Second)
	if _, err := c.AuthCodeURL(ctx, sso, "https://auth.example.com/callback", "s", "n", "verifier-verifier-verifier-verifier-verifier", "", "", -1); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("after the cache's lifetime: %d fetches, want 2", n)
	}

	// A provider that hangs: unavailable within the timeout.
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	defer hang.Close()
	slow := upstream.New(upstream.Config{Timeout: 200 * time.Millisecond}, nil)
	_, err = slow.AuthCodeURL(ctx, &domain.SSO{Issuer: hang.URL, ClientID: "x"}, "https://auth.example.com/callback", "s", "n", "v", "", "", -1)
	// The client's timeout and the request's deadline are the same bound;
	// under load either may fire first.
	if msg := strings.ToLower(fmt.Sprint(err)); !errors.Is(err, domain.ErrUpstreamUnavailable) ||
		!strings.Contains(msg, "timeout") && !strings.Contains(msg, "deadline exceeded") {
		t.Fatalf("hanging provider: %v, want unavailable by the client's timeout", err)
	}
}
