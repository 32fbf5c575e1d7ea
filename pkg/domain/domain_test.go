package domain

import (
	"testing"
	"time"
)

func TestPlanOrder(t *testing.T) {
	for _, tc := range []struct {
		p    Plan
		m2m  bool
		name string
	}{
		{PlanFree, false, "free"}, {PlanTeam, false, "team"}, {PlanEnterprise, false, "enterprise"},
		{PlanEnterpriseLarge, true, "enterprise_large"}, {PlanEnterpriseUnlimited, true, "enterprise_unlimited"},
		{Plan("bogus"), false, "unknown"},
	} {
		if got := tc.p.AllowsM2M(); got != tc.m2m {
			t.Errorf("%s.AllowsM2M() = %v", tc.name, got)
		}
	}
	if _, err := ParsePlan("platinum"); err == nil {
		t.Error("unknown plan parsed")
	}
	if p, err := ParsePlan("enterprise_large"); err != nil || p != PlanEnterpriseLarge {
		t.Error("enterprise_large did not parse")
	}
}

func TestSecretMatches(t *testing.T) {
	now := time.Now()
	cur, curHash := NewSecret()
	old, oldHash := NewSecret()
	if len(cur) != 43 || len(curHash) != 32 {
		t.Fatalf("secret %d chars, hash %d bytes", len(cur), len(curHash))
	}
	a := Application{SecretHash: curHash, PreviousSecretHash: oldHash, PreviousSecretExpiresAt: now.Add(time.Minute)}
	if !a.SecretMatches(cur, now) || !a.SecretMatches(old, now) {
		t.Fatal("current and unexpired previous secrets must match")
	}
	if a.SecretMatches(old, now.Add(time.Minute)) {
		t.Fatal("expired previous secret matched")
	}
	if a.SecretMatches("wrong", now) || a.SecretMatches("", now) {
		t.Fatal("wrong secret matched")
	}
	if (Application{}).SecretMatches("orgauth-no-such-client", now) {
		t.Fatal("an application without a secret matched the dummy")
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 24 || seen[id] {
			t.Fatalf("bad or repeated id %q", id)
		}
		seen[id] = true
	}
}

// The redirect URI an organization registers at its provider does not
// depend on whether the issuer carries Auth0's trailing slash: the sign-in
// code (configured issuer) and orgauthctl (trimmed) give the same one.
func TestSSORedirectURIIgnoresTheIssuersSlash(t *testing.T) {
	for _, iss := range []string{"https://auth.example.com", "https://auth.example.com/"} {
		if got := SSORedirectURI(iss, "org 1"); got != "https://auth.example.com/callback/org%201" {
			t.Errorf("SSORedirectURI(%q) = %q", iss, got)
		}
		if got := LegacySSORedirectURI(iss); got != "https://auth.example.com/callback" {
			t.Errorf("LegacySSORedirectURI(%q) = %q", iss, got)
		}
	}
}

// The console's URLs, likewise.
func TestConsoleApplicationIgnoresTheIssuersSlash(t *testing.T) {
	for _, iss := range []string{"https://auth.example.com", "https://auth.example.com/"} {
		a := ConsoleApplication(iss)
		if a.CallbackURLs[0] != "https://auth.example.com/console/callback" || a.LogoutURLs[0] != "https://auth.example.com/console/" ||
			a.AllowedOrigins[0] != "https://auth.example.com" {
			t.Errorf("ConsoleApplication(%q) = %v %v %v", iss, a.CallbackURLs, a.LogoutURLs, a.AllowedOrigins)
		}
	}
}
