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
