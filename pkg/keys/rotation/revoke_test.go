package rotation

import (
	"context"
	"errors"
	"testing"
	"time"

	"orgauth/pkg/keys"
	"orgauth/pkg/testkit/jwttest"
)

// TestPromoteCanary: a promotion signs a canary token with the new key and
// verifies it against the published JWKS; if either fails, the key is not
// promoted, and the refusal says which.
func TestPromoteCanary(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k2 := f.published(t)
	f.clock.advance(keys.DefaultPolicy().PromoteDelay())
	in := input()
	in.JWKSURL = "https://auth.example.com/.well-known/jwks.json"
	f.jwks.kids = []string{f.kms.keys[f.k1].kid, f.kms.keys[k2].kid}

	// The key store refuses to sign (as KMS does for a role its key policy
	// does not name).
	f.kms.canaryErr = errors.New("AccessDeniedException: not authorized to perform kms:Sign")
	_, err := f.svc.Rotate(ctx, in)
	var ce *CanaryError
	var kerr *KMSError
	if !errors.As(err, &ce) || ce.KeyID != k2 || ce.Verify || !errors.As(err, &kerr) {
		t.Fatalf("canary that cannot sign: %v", err)
	}
	f.kms.canaryErr = nil

	// The JWKS serves the kid, but with another public key: the canary
	// does not verify.
	f.jwks.impostor = jwttest.NewKeySet()
	if _, err = f.svc.Rotate(ctx, in); !errors.As(err, &ce) || !ce.Verify {
		t.Fatalf("canary against a JWKS with another key under the kid: %v", err)
	}
	if f.state(t, k2) != keys.Upcoming || f.state(t, f.k1) != keys.Active {
		t.Fatal("a failed canary changed the set")
	}

	f.jwks.impostor = nil
	out := f.rotate(t, in, keys.ActionPromote)
	if out.Canary != CanaryJWKS {
		t.Fatalf("canary checked against %q, want the JWKS", out.Canary)
	}
}

// TestPromoteCanaryWithoutJWKS checks the canary against the key store's
// public key, and says so.
func TestPromoteCanaryWithoutJWKS(t *testing.T) {
	f := newFixture(t)
	f.published(t)
	f.clock.advance(keys.DefaultPolicy().PromoteDelay())
	if out := f.rotate(t, input(), keys.ActionPromote); out.Canary != CanaryKeyStore {
		t.Fatalf("canary %q", out.Canary)
	}
}

func revokeInput(key string) RevokeInput {
	return RevokeInput{Key: key, CurrentKeys: []string{"alias/current"}, Spec: keys.SpecRSA2048, Stage: "prod", DeletionWindowDays: 7}
}

// TestRevokeActiveWithUpcoming: the upcoming key takes over at once, and
// the compromised key leaves the JWKS and is scheduled for deletion.
func TestRevokeActiveWithUpcoming(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := keys.DefaultPolicy()
	// A first rotation makes k2 active; then k3 is published.
	k2 := f.published(t)
	f.clock.advance(p.PromoteDelay())
	f.rotate(t, input(), keys.ActionPromote)
	f.clock.advance(p.RetireDelay())
	f.rotate(t, input(), keys.ActionRetire)
	k3 := f.published(t)

	f.clock.advance(time.Minute) // long before k3's promotion is due
	out, err := f.svc.Revoke(ctx, revokeInput(f.kms.keys[k2].kid))
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != ActionRevoke || out.KeyID != k2 || out.Promoted != k3 || out.Created || out.StackKey ||
		!out.DeletionDate.Equal(f.clock.t.Add(7*24*time.Hour)) {
		t.Fatalf("revoke: %+v", out)
	}
	if f.state(t, k2) != keys.Retired || f.state(t, k3) != keys.Active {
		t.Fatalf("after revoke: %+v", out.Set)
	}
	if e, _ := out.Set.Find(k2); !e.Compromised {
		t.Fatalf("revoked entry: %+v", e)
	}
	if k := f.kms.keys[k2]; k.info.State != "PendingDeletion" || k.window != 7 {
		t.Fatalf("compromised key in KMS: %+v", k)
	}
	if out.Next.Action != keys.ActionPublish {
		t.Fatalf("next: %+v", out.Next)
	}
}

// TestRevokeStackKeyBeforeAnyRotation: with no set stored and no other key,
// a new key is created and made active in the first write of the set; the
// stack's own key is disabled, not deleted.
func TestRevokeStackKeyBeforeAnyRotation(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	out, err := f.svc.Revoke(ctx, revokeInput("alias/current"))
	var nis *NotInSetError
	if !errors.As(err, &nis) {
		t.Fatalf("revoke by alias: %v (want the key's ARN, id or kid)", err)
	}
	out, err = f.svc.Revoke(ctx, revokeInput("k1")) // the key id
	if err != nil {
		t.Fatal(err)
	}
	if out.KeyID != f.k1 || !out.Created || out.Promoted == "" || !out.StackKey || !out.StoredSet || !out.DeletionDate.IsZero() {
		t.Fatalf("revoke: %+v", out)
	}
	if f.state(t, out.Promoted) != keys.Active || f.state(t, f.k1) != keys.Retired {
		t.Fatalf("after revoke: %+v", out.Set)
	}
	if k := f.kms.keys[f.k1]; k.info.State != "Disabled" {
		t.Fatalf("the stack's key in KMS: %+v", k)
	}
	if k := f.kms.keys[out.Promoted]; k.stage != "prod" || k.info.Spec != keys.SpecRSA2048 {
		t.Fatalf("new key: %+v", k)
	}
	if out.Next.Action != keys.ActionPublish {
		t.Fatalf("next after revoking the stack's key: %+v (its deletion must never be due)", out.Next)
	}
}

// TestRevokeRefusals: unknown keys, bad windows; a failed write deletes
// the key it created.
func TestRevokeRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	var nis *NotInSetError
	if _, err := f.svc.Revoke(ctx, revokeInput("nope")); !errors.As(err, &nis) {
		t.Fatalf("unknown key: %v", err)
	}
	in := revokeInput("k1")
	in.DeletionWindowDays = 3
	var ie *InputError
	if _, err := f.svc.Revoke(ctx, in); !errors.As(err, &ie) {
		t.Fatalf("window 3: %v", err)
	}
	in = revokeInput("k1")
	in.Stage = ""
	if _, err := f.svc.Revoke(ctx, in); !errors.Is(err, ErrNoStage) {
		t.Fatalf("no stage: %v", err)
	}
	n := len(f.kms.keys)
	f.store.beforeCreate = func(m *memStore) {
		s, _ := keys.Bootstrap([]string{f.k1}, nil, keys.DefaultPolicy(), t0)
		m.set = &s
	}
	if _, err := f.svc.Revoke(ctx, revokeInput("k1")); err == nil {
		t.Fatal("a revoke that lost the race succeeded")
	}
	for arn, k := range f.kms.keys {
		if arn != f.k1 && k.info.State != "PendingDeletion" {
			t.Fatalf("the unused key %s was left behind (%d keys before)", arn, n)
		}
	}
}
