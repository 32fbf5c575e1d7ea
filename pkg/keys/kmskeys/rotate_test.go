package kmskeys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
	"orgauth/pkg/storage/memory"
)

// clock is a settable clock shared by everything in one test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)     { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }
func newClock(t time.Time) *clock    { return &clock{t: t} }

func kidOf(t *testing.T, ks *KeySet) string {
	t.Helper()
	k, err := ks.Active(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return k.Public().KeyID
}

func publishedKids(t *testing.T, ks *KeySet) []string {
	t.Helper()
	set, err := ks.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.KeyID)
	}
	return out
}

func contains(kids []string, kid string) bool {
	for _, k := range kids {
		if k == kid {
			return true
		}
	}
	return false
}

const issuerURL = "https://auth.example.com"

// issue signs an access token with ks's active key at now.
func issue(t *testing.T, ks *KeySet, now time.Time, lifetime time.Duration) (raw, kid string) {
	t.Helper()
	iss := jwt.NewIssuer(issuerURL, ks, func() time.Time { return now }, nil)
	raw, _, err := iss.AccessToken(context.Background(), jwt.AccessRequest{
		Subject: "c", ClientID: "c", OrgID: "o", Audience: "api", Lifetime: lifetime,
	})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ks.Active(context.Background())
	return raw, key.Public().KeyID
}

// verify checks raw against the JWKS ks serves now, as a verifier would at
// at (so expiry is not what decides).
func verify(ks *KeySet, raw string, at time.Time) error {
	_, err := jwt.NewVerifier(issuerURL, ks, func() time.Time { return at }).VerifyAccessToken(context.Background(), raw, "api")
	return err
}

// TestRotationWithoutDowntime drives a whole rotation against local-kms with
// an injected clock: a token function and a wellknown function, both warm,
// follow the key set that the rotation steps write.
func TestRotationWithoutDowntime(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	p := keys.Policy{JWKSMaxAge: 5 * time.Minute, Refresh: time.Minute, MaxTokenLifetime: time.Hour, ClockSkew: time.Minute}
	lifetime := p.MaxTokenLifetime
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clk := newClock(t0)

	k1, err := CreateSigningKey(ctx, client, SpecRSA2048, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	store := memory.New()
	newKS := func() *KeySet {
		ks, err := NewRotatingKeySet(client, store, []string{k1}, RotatingOptions{Refresh: p.Refresh, Now: clk.Now})
		if err != nil {
			t.Fatal(err)
		}
		return ks
	}
	signer, jwks := newKS(), newKS() // the token function and the wellknown function
	update := func(fn func(keys.Set) (keys.Set, error)) {
		t.Helper()
		if _, err := store.UpdateKeySet(ctx, fn); err != nil {
			t.Fatal(err)
		}
	}

	// Before any set is stored, the static fallback signs.
	before, kid1 := issue(t, signer, t0, lifetime)
	if err := verify(jwks, before, t0); err != nil {
		t.Fatalf("token before rotation: %v", err)
	}
	boot, err := keys.Bootstrap([]string{k1}, []string{SpecRSA2048}, p, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKeySet(ctx, boot); err != nil {
		t.Fatal(err)
	}

	// Step 1: publish k2.
	k2, err := CreateSigningKey(ctx, client, SpecECCNistP256, "test", "")
	if err != nil {
		t.Fatal(err)
	}
	info2, err := CheckSigningKey(ctx, client, k2)
	if err != nil {
		t.Fatal(err)
	}
	kid2 := info2.Kid
	published := t0.Add(10 * time.Second)
	clk.Set(published)
	update(func(s keys.Set) (keys.Set, error) { return keys.Publish(s, k2, SpecECCNistP256, p, published) })

	// The warm wellknown function read the set at t0: it publishes k2 within
	// one refresh interval of that read, and not before.
	clk.Set(t0.Add(p.Refresh - time.Second))
	if contains(publishedKids(t, jwks), kid2) {
		t.Fatal("k2 published before the warm key set was due to refresh")
	}
	clk.Set(published.Add(p.Refresh))
	if got := publishedKids(t, jwks); len(got) != 2 || got[0] != kid1 || got[1] != kid2 {
		t.Fatalf("published %v, want [k1 k2] within one refresh of the write", got)
	}
	if kidOf(t, signer) != kid1 {
		t.Fatal("an upcoming key signed")
	}

	// Step 2: promotion is refused before the bound, and done at it.
	promoteAt := published.Add(p.PromoteDelay())
	_, err = keys.Promote(keys.Set{}, k2, p, promoteAt) // wrong state on an empty set
	if !errors.Is(err, keys.ErrWrongState) {
		t.Fatal(err)
	}
	set, _ := store.GetKeySet(ctx)
	var nd *keys.NotDueError
	if _, err := keys.Promote(set, k2, p, promoteAt.Add(-time.Second)); !errors.As(err, &nd) {
		t.Fatalf("early promotion: %v, want NotDueError", err)
	}
	clk.Set(promoteAt)
	during1, kidDuring1 := issue(t, signer, promoteAt, lifetime) // the signer has not refreshed since
	update(func(s keys.Set) (keys.Set, error) { return keys.Promote(s, k2, p, promoteAt) })
	if kidDuring1 != kid1 {
		t.Fatalf("signed with %s before the promotion was written", kidDuring1)
	}
	// Until it refreshes, a warm signer keeps signing with k1: that is what
	// RetireDelay's Refresh term is for.
	clk.Set(promoteAt.Add(p.Refresh - time.Second))
	lagging, kidLagging := issue(t, signer, clk.Now(), lifetime)
	clk.Set(promoteAt.Add(p.Refresh))
	during2, kidDuring2 := issue(t, signer, clk.Now(), lifetime)
	if kidLagging != kid1 || kidDuring2 != kid2 {
		t.Fatalf("signer kids %s then %s, want k1 then k2 one refresh after promotion", kidLagging, kidDuring2)
	}
	// Every token verifies against the JWKS served during the overlap.
	for name, raw := range map[string]string{"before": before, "during(k1)": during1, "lagging(k1)": lagging, "during(k2)": during2} {
		if err := verify(jwks, raw, clk.Now()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if got := publishedKids(t, jwks); len(got) != 2 || got[0] != kid2 || got[1] != kid1 {
		t.Fatalf("published %v, want [k2 k1] (active first, then retiring)", got)
	}

	// Step 3: retirement after the longest token lifetime, then deletion.
	retireAt := promoteAt.Add(p.RetireDelay())
	set, _ = store.GetKeySet(ctx)
	if _, err := keys.Retire(set, k1, p, retireAt.Add(-time.Second)); !errors.As(err, &nd) {
		t.Fatalf("early retirement: %v, want NotDueError", err)
	}
	// The lagging token, the last one k1 signed, still verifies at the last
	// moment its exp (plus skew) allows: the bound is not too short.
	lastUse := promoteAt.Add(p.Refresh - time.Second).Add(lifetime)
	clk.Set(lastUse)
	if err := verify(jwks, lagging, lastUse.Add(-time.Second)); err != nil {
		t.Fatalf("last k1 token just before exp: %v", err)
	}
	clk.Set(retireAt)
	jwks = newKS() // a function that read the set just before the retirement
	if !contains(publishedKids(t, jwks), kid1) {
		t.Fatal("k1 not published before its retirement")
	}
	update(func(s keys.Set) (keys.Set, error) { return keys.Retire(s, k1, p, retireAt) })
	date, err := ScheduleDeletion(ctx, client, k1, 7)
	if err != nil {
		t.Fatal(err)
	}
	update(func(s keys.Set) (keys.Set, error) { return keys.DeletionScheduled(s, k1, date, retireAt) })
	if again, err := ScheduleDeletion(ctx, client, k1, 7); err != nil || !again.Equal(date) {
		t.Fatalf("rescheduling: %v %v, want the first date %v", again, err, date)
	}

	// A warm function keeps k1 (cached) until its next refresh, then drops
	// it; k1 tokens stop verifying once k1 left the JWKS they are checked
	// against.
	clk.Set(retireAt.Add(p.Refresh - time.Second))
	if !contains(publishedKids(t, jwks), kid1) {
		t.Fatal("k1 left a warm JWKS before its refresh was due")
	}
	clk.Set(retireAt.Add(p.Refresh))
	if got := publishedKids(t, jwks); len(got) != 1 || got[0] != kid2 {
		t.Fatalf("published %v after retirement, want [k2]", got)
	}
	if err := verify(jwks, before, t0); !errors.Is(err, jwt.ErrInvalidToken) || !strings.Contains(err.Error(), "unknown kid") {
		t.Fatalf("k1 token after retirement: %v, want unknown kid", err)
	}
	if err := verify(jwks, during2, promoteAt.Add(p.Refresh)); err != nil {
		t.Fatalf("k2 token after retirement: %v", err)
	}
	// A cold function never asks KMS for the retired (pending deletion) key.
	cold := newKS()
	if got := publishedKids(t, cold); len(got) != 1 || got[0] != kid2 {
		t.Fatalf("cold start published %v, want [k2]", got)
	}
}

// TestRetiringKeyGoneIsLeftOut: a function that reads the set just before a
// retirement, but asks KMS for the key just after its deletion was
// scheduled, leaves that key out rather than failing.
func TestRetiringKeyGoneIsLeftOut(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	p := keys.DefaultPolicy()
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	k1, _ := CreateSigningKey(ctx, client, SpecRSA2048, "test", "")
	k2, _ := CreateSigningKey(ctx, client, SpecRSA2048, "test", "")
	store := memory.New()
	s, err := keys.Bootstrap([]string{k2, k1}, nil, p, now) // k2 active, k1 retiring
	if err != nil {
		t.Fatal(err)
	}
	if err := store.CreateKeySet(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := ScheduleDeletion(ctx, client, k1, 7); err != nil {
		t.Fatal(err)
	}
	var reported []error
	ks, _ := NewRotatingKeySet(client, store, []string{k2}, RotatingOptions{Now: func() time.Time { return now },
		OnRefreshError: func(err error) { reported = append(reported, err) }})
	if got := publishedKids(t, ks); len(got) != 1 {
		t.Fatalf("published %v, want only the active key", got)
	}
	if len(reported) != 1 {
		t.Fatalf("reported %v, want one note about k1", reported)
	}
	// An active or upcoming key that KMS refuses is an error, not a gap.
	s2, _ := keys.Bootstrap([]string{k1}, nil, p, now)
	other := memory.New()
	_ = other.CreateKeySet(ctx, s2)
	bad, _ := NewRotatingKeySet(client, other, []string{k2}, RotatingOptions{})
	if _, err := bad.Active(ctx); err == nil {
		t.Fatal("an active key pending deletion was accepted")
	}
}

// source is a key-set source whose answers a test controls.
type source struct {
	mu    sync.Mutex
	set   keys.Set
	err   error
	reads atomic.Int64
}

func (s *source) GetKeySet(context.Context) (keys.Set, error) {
	s.reads.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return keys.Set{}, s.err
	}
	if s.set.Entries == nil {
		return keys.Set{}, fmt.Errorf("test: %w", domain.ErrNotFound)
	}
	return s.set.Clone(), nil
}

func (s *source) put(set keys.Set, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.set, s.err = set, err
}

// TestRefreshRules: the source is read at most once per interval, known
// keys are never fetched again, a failed refresh serves the last good set
// and is retried soon, and a missing set falls back to the static list.
func TestRefreshRules(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	counting := &countingAPI{API: client}
	k1, _ := CreateSigningKey(ctx, client, SpecRSA2048, "test", "")
	k2, _ := CreateSigningKey(ctx, client, SpecECCNistP256, "test", "")
	t0 := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	clk := newClock(t0)
	src := &source{}
	var failures atomic.Int64
	ks, err := NewRotatingKeySet(counting, src, []string{k1}, RotatingOptions{Refresh: time.Minute, Now: clk.Now,
		OnRefreshError: func(error) { failures.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}

	// No set yet: the static list.
	if got := publishedKids(t, ks); len(got) != 1 {
		t.Fatalf("fallback published %v", got)
	}
	for range 10 {
		clk.Add(5 * time.Second) // stays within the interval
		_ = publishedKids(t, ks)
	}
	if n := src.reads.Load(); n != 1 {
		t.Fatalf("source read %d times within one interval, want 1", n)
	}

	// A set appears: picked up at the next refresh; k1 is not fetched again.
	p := keys.DefaultPolicy()
	s, _ := keys.Bootstrap([]string{k1}, nil, p, t0)
	s, _ = keys.Publish(s, k2, "", p, t0)
	src.put(s, nil)
	clk.Set(t0.Add(time.Minute))
	if got := publishedKids(t, ks); len(got) != 2 {
		t.Fatalf("published %v, want k1 and k2", got)
	}
	if n := counting.getPublicKey.Load(); n != 2 {
		t.Fatalf("GetPublicKey called %d times, want 2 (k1 once, k2 once)", n)
	}

	// The source fails: the last good set is served, and retried after
	// retryAfterFailure rather than on every call.
	src.put(keys.Set{}, errors.New("throttled"))
	clk.Add(time.Minute)
	reads := src.reads.Load()
	if got := publishedKids(t, ks); len(got) != 2 {
		t.Fatalf("published %v during an outage, want the last good set", got)
	}
	if failures.Load() != 1 || src.reads.Load() != reads+1 {
		t.Fatalf("failures %d, reads %d", failures.Load(), src.reads.Load()-reads)
	}
	_ = publishedKids(t, ks)
	if src.reads.Load() != reads+1 {
		t.Fatal("a failed refresh was retried at once")
	}
	clk.Add(retryAfterFailure)
	src.put(s, nil)
	_ = publishedKids(t, ks)
	if src.reads.Load() != reads+2 {
		t.Fatal("a failed refresh was not retried after the back-off")
	}
	if n := counting.getPublicKey.Load(); n != 2 {
		t.Fatalf("GetPublicKey called %d times, want still 2", n)
	}

	// A cold key set whose first read fails has nothing to serve: an error,
	// and the next call tries again.
	src.put(keys.Set{}, errors.New("throttled"))
	cold, _ := NewRotatingKeySet(counting, src, []string{k1}, RotatingOptions{Now: clk.Now})
	if _, err := cold.Active(ctx); err == nil {
		t.Fatal("cold key set served without a source")
	}
	src.put(s, nil)
	if _, err := cold.Active(ctx); err != nil {
		t.Fatalf("second try: %v", err)
	}
}

func TestNewRotatingKeySetArgs(t *testing.T) {
	api := &flakyAPI{}
	if _, err := NewRotatingKeySet(api, nil, []string{"a"}, RotatingOptions{}); err == nil {
		t.Error("nil source accepted")
	}
	if _, err := NewRotatingKeySet(api, &source{}, nil, RotatingOptions{}); err == nil {
		t.Error("no fallback accepted")
	}
	if _, err := NewRotatingKeySet(api, &source{}, []string{"a"}, RotatingOptions{Refresh: -1}); err == nil {
		t.Error("negative refresh accepted")
	}
}

func TestCreateSigningKeyTagsAndArgs(t *testing.T) {
	client := startKMS(t)
	ctx := context.Background()
	arn, err := CreateSigningKey(ctx, client, SpecECCNistP256, "prod", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(arn, "arn:") {
		t.Fatalf("CreateSigningKey returned %q, want an ARN", arn)
	}
	tags, err := client.ListResourceTags(ctx, &kms.ListResourceTagsInput{KeyId: aws.String(arn)})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || aws.ToString(tags.Tags[0].TagKey) != StageTag || aws.ToString(tags.Tags[0].TagValue) != "prod" {
		t.Fatalf("tags %+v, want %s=prod", tags.Tags, StageTag)
	}
	info, err := CheckSigningKey(ctx, client, arn)
	if err != nil || info.Alg != "ES256" || info.Spec != SpecECCNistP256 {
		t.Fatalf("%+v %v", info, err)
	}
	for _, bad := range [][2]string{{"RSA_4096", "prod"}, {SpecRSA2048, ""}, {SpecRSA2048, "a b"}} {
		if _, err := CreateSigningKey(ctx, client, bad[0], bad[1], ""); err == nil {
			t.Errorf("CreateSigningKey(%q, %q) accepted", bad[0], bad[1])
		}
	}
	if _, err := ScheduleDeletion(ctx, client, arn, 3); err == nil {
		t.Error("a 3-day window accepted")
	}
	if _, err := ScheduleDeletion(ctx, client, arn, 7); err != nil {
		t.Fatal(err)
	}
	info, err = DescribeSigningKey(ctx, client, arn)
	if err != nil || info.State != string(types.KeyStatePendingDeletion) || info.DeletionDate.IsZero() {
		t.Fatalf("%+v %v", info, err)
	}
	if _, err := CheckSigningKey(ctx, client, arn); err == nil {
		t.Fatal("a key pending deletion passed the check")
	}
}
