package tokenfn_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/testkit/jwttest"
	"orgauth/pkg/wiring/tokenfn"
	"orgauth/test/testenv"
)

// reuseStack is a stack on memory whose clock the test moves and whose
// signatures are counted.
type reuseStack struct {
	*testenv.Stack
	now  time.Time
	keys *jwttest.Counting
	h    http.Handler
}

func newReuseStack(t *testing.T, reuse bool) *reuseStack {
	t.Helper()
	s := &reuseStack{Stack: testenv.NewStack(t), now: time.Date(2026, 5, 14, 12, 0, 0, 0, time.UTC)}
	s.keys = jwttest.NewCounting(s.Stage.Keys)
	s.Stage.Keys = s.keys
	s.Stage.Now = func() time.Time { return s.now }
	s.Stage.Cfg.TokenReuse = reuse
	s.h = s.Handler(tokenfn.New)
	return s
}

// ask requests a client_credentials token and returns the status and body.
func (s *reuseStack) ask(t *testing.T, secret string, extra url.Values) (int, map[string]any) {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {s.ClientID}, "client_secret": {secret}, "audience": {s.Audience}}
	for k, v := range extra {
		form[k] = v
	}
	resp, body := testenv.Do(t, s.h, testenv.Call{Path: "/oauth/token", Form: form})
	return resp.StatusCode, body
}

func (s *reuseStack) token(t *testing.T, extra url.Values) (string, int64) {
	t.Helper()
	code, body := s.ask(t, s.ClientSecret, extra)
	if code != 200 {
		t.Fatalf("token endpoint answered %d: %v", code, body)
	}
	return body["access_token"].(string), int64(body["expires_in"].(float64))
}

func (s *reuseStack) update(t *testing.T, fn func(*domain.Application)) {
	t.Helper()
	if _, err := s.Stage.Store.UpdateApplication(context.Background(), s.ClientID, func(a domain.Application) (domain.Application, error) {
		fn(&a)
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A client that asks again gets the byte-identical token, with its true
// remaining lifetime, while at least half the lifetime is left; after that
// it gets a new one. Only the new ones are signed.
func TestReuseOnlyWhileHalfTheLifetimeIsLeft(t *testing.T) {
	s := newReuseStack(t, true)
	first, exp := s.token(t, nil)
	if exp != 3600 || s.keys.Signs() != 1 {
		t.Fatalf("first token: expires_in %d, %d signatures", exp, s.keys.Signs())
	}
	s.now = s.now.Add(30 * time.Minute) // exactly half left
	again, exp := s.token(t, nil)
	if again != first || exp != 1800 {
		t.Fatalf("at half the lifetime: same token %v, expires_in %d (want 1800)", again == first, exp)
	}
	if s.keys.Signs() != 1 {
		t.Fatalf("a reused token was signed again: %d signatures", s.keys.Signs())
	}
	s.now = s.now.Add(time.Second) // less than half left
	fresh, exp := s.token(t, nil)
	if fresh == first || exp != 3600 || s.keys.Signs() != 2 {
		t.Fatalf("past half the lifetime: reused %v, expires_in %d, %d signatures", fresh == first, exp, s.keys.Signs())
	}
	// The scope, in another order or repeated, is the same request.
	a, _ := s.token(t, url.Values{"scope": {"read read"}})
	if a != fresh {
		t.Error("the same scope, written differently, was not reused")
	}
}

// A change to anything that shapes the token, or to the state it was
// minted under, is never answered with a token from before.
func TestReuseNeverCrossesAChange(t *testing.T) {
	t.Run("secret rotation", func(t *testing.T) {
		s := newReuseStack(t, true)
		first, _ := s.token(t, nil)
		newSecret, hash := domain.NewSecret()
		s.update(t, func(a *domain.Application) {
			a.PreviousSecretHash, a.PreviousSecretExpiresAt = a.SecretHash, s.now.Add(time.Hour)
			a.SecretHash = hash
		})
		for _, secret := range []string{newSecret, s.ClientSecret} { // the new secret, and the old one in its grace period
			code, body := s.ask(t, secret, nil)
			if code != 200 || body["access_token"] == first {
				t.Fatalf("after rotation: %d, reused %v", code, body["access_token"] == first)
			}
		}
		s.update(t, func(a *domain.Application) { a.PreviousSecretHash = nil }) // the old secret revoked
		if code, _ := s.ask(t, s.ClientSecret, nil); code != 401 {
			t.Fatalf("revoked secret answered %d", code)
		}
	})
	t.Run("scope change", func(t *testing.T) {
		s := newReuseStack(t, true)
		// The creator, a member, may grant write here: the token's scope
		// really differs.
		if _, err := s.Stage.Store.UpdateAPI(context.Background(), s.Audience, func(a domain.API) (domain.API, error) {
			for i := range a.Scopes {
				a.Scopes[i].Roles = []domain.Role{domain.RoleAdmin, domain.RoleMember}
			}
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		s.update(t, func(a *domain.Application) { a.Scopes = []string{"read", "write"} })
		read, _ := s.token(t, url.Values{"scope": {"read"}})
		if both, _ := s.token(t, url.Values{"scope": {"read write"}}); both == read {
			t.Fatal("another scope got the same token")
		}
		s.update(t, func(a *domain.Application) { a.Scopes = []string{"read"} })
		if code, _ := s.ask(t, s.ClientSecret, url.Values{"scope": {"read write"}}); code != 400 {
			t.Fatalf("a scope taken away answered %d", code)
		}
		if again, _ := s.token(t, url.Values{"scope": {"read"}}); again == read {
			t.Fatal("a token minted under the old settings was reused")
		}
	})
	t.Run("audience change", func(t *testing.T) {
		s := newReuseStack(t, true)
		api, _ := s.token(t, nil)
		mgmt, _ := s.token(t, url.Values{"audience": {s.Stage.Cfg.ManagementAudience}})
		if mgmt == api {
			t.Fatal("another audience got the same token")
		}
	})
	t.Run("lifetime change", func(t *testing.T) {
		s := newReuseStack(t, true)
		first, _ := s.token(t, nil)
		s.update(t, func(a *domain.Application) { a.AccessTokenLifetime = 10 * time.Minute })
		if again, exp := s.token(t, nil); again == first || exp != 600 {
			t.Fatalf("after a lifetime change: reused %v, expires_in %d", again == first, exp)
		}
	})
	t.Run("signing key change", func(t *testing.T) {
		s := newReuseStack(t, true)
		first, _ := s.token(t, nil)
		s.keys.Swap(jwttest.NewRSAKeySet())
		if again, _ := s.token(t, nil); again == first {
			t.Fatal("a token signed by the old key was reused")
		}
	})
	t.Run("application deletion", func(t *testing.T) {
		s := newReuseStack(t, true)
		s.token(t, nil)
		if err := s.Stage.Store.DeleteApplication(context.Background(), s.ClientID); err != nil {
			t.Fatal(err)
		}
		if code, body := s.ask(t, s.ClientSecret, nil); code != 401 || body["access_token"] != nil {
			t.Fatalf("deleted application answered %d %v", code, body)
		}
	})
	t.Run("plan downgrade", func(t *testing.T) {
		s := newReuseStack(t, true)
		s.token(t, nil)
		if _, err := s.Stage.Store.UpdateOrganization(context.Background(), s.OrgID, func(o domain.Organization) (domain.Organization, error) {
			o.Plan = domain.PlanEnterprise
			return o, nil
		}); err != nil {
			t.Fatal(err)
		}
		// The plan is trusted for ORG_CACHE_TTL, with or without reuse.
		s.now = s.now.Add(s.Stage.Cfg.OrgCacheTTL + time.Second)
		if code, body := s.ask(t, s.ClientSecret, nil); code != 400 || body["error"] != "unauthorized_client" {
			t.Fatalf("after a downgrade: %d %v", code, body)
		}
	})
	t.Run("wrong secret", func(t *testing.T) {
		s := newReuseStack(t, true)
		s.token(t, nil)
		if code, _ := s.ask(t, "wrong", nil); code != 401 {
			t.Fatalf("a wrong secret answered %d", code)
		}
	})
}

// TOKEN_REUSE=off, and an application that opts out, sign every token.
func TestReuseCanBeTurnedOff(t *testing.T) {
	off := newReuseStack(t, false)
	a, _ := off.token(t, nil)
	if b, _ := off.token(t, nil); a == b || off.keys.Signs() != 2 {
		t.Fatalf("TOKEN_REUSE=off reused a token (%d signatures)", off.keys.Signs())
	}
	optOut := newReuseStack(t, true)
	optOut.update(t, func(a *domain.Application) { a.TokenReuseOff = true })
	a, _ = optOut.token(t, nil)
	if b, _ := optOut.token(t, nil); a == b || optOut.keys.Signs() != 2 {
		t.Fatalf("an application that opted out got a reused token (%d signatures)", optOut.keys.Signs())
	}
}
