package rotation

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
	"orgauth/pkg/testkit/jwttest"
)

// ---------------------------------------------------------------- fakes

// memStore is a key-set item with the store contract: ErrNotFound before
// the first write, ErrAlreadyExists on a second create, compare-and-swap.
type memStore struct {
	mu  sync.Mutex
	set *keys.Set
	// beforeCreate and beforeUpdate run before a write, as another writer
	// racing it would; an error they return fails the write.
	beforeCreate func(*memStore)
	beforeUpdate func() error
}

func (m *memStore) GetKeySet(context.Context) (keys.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		return keys.Set{}, domain.ErrNotFound
	}
	return m.set.Clone(), nil
}

func (m *memStore) CreateKeySet(_ context.Context, s keys.Set) error {
	if f := m.beforeCreate; f != nil {
		m.beforeCreate = nil
		f(m)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set != nil {
		return domain.ErrAlreadyExists
	}
	if err := s.Validate(); err != nil {
		return err
	}
	s = s.Clone()
	s.Version = 1
	m.set = &s
	return nil
}

func (m *memStore) UpdateKeySet(_ context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error) {
	if f := m.beforeUpdate; f != nil {
		if err := f(); err != nil {
			return keys.Set{}, err
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		return keys.Set{}, domain.ErrNotFound
	}
	next, err := fn(m.set.Clone())
	if err != nil {
		return keys.Set{}, err
	}
	if err := next.Validate(); err != nil {
		return keys.Set{}, err
	}
	next.Version = m.set.Version + 1
	m.set = &next
	return next.Clone(), nil
}

func (m *memStore) version() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		return 0
	}
	return m.set.Version
}

type fakeKey struct {
	info     keys.KeyInfo
	stage    string
	kid      string // what it publishes under while enabled
	window   int32  // the pending window it was scheduled with
	describe int    // DescribeSigningKey calls
	priv     *jwttest.KeySet
}

// fakeKMS holds keys by ARN, and aliases.
type fakeKMS struct {
	now         func() time.Time
	keys        map[string]*fakeKey
	aliases     map[string]string
	n           int
	createErr   error
	scheduleErr error
	disableErr  error
	canaryErr   error // SignCanary fails with it
}

func newFakeKMS(now func() time.Time) *fakeKMS {
	return &fakeKMS{now: now, keys: map[string]*fakeKey{}, aliases: map[string]string{}}
}

// add creates an enabled key, as an operator created the stack's first.
func (f *fakeKMS) add(spec, stage string) string {
	f.n++
	arn := fmt.Sprintf("arn:aws:kms:eu-west-1:111122223333:key/k%d", f.n)
	alg := "RS256"
	if spec == keys.SpecECCNistP256 {
		alg = "ES256"
	}
	priv := jwttest.NewKeySet()
	f.keys[arn] = &fakeKey{info: keys.KeyInfo{ARN: arn, Spec: spec, State: "Enabled", Alg: alg}, stage: stage, kid: priv.Public().KeyID, priv: priv}
	return arn
}

func (f *fakeKMS) key(id string) (*fakeKey, error) {
	if arn, ok := f.aliases[id]; ok {
		id = arn
	}
	k, ok := f.keys[id]
	if !ok {
		return nil, fmt.Errorf("NotFoundException: key %s", id)
	}
	return k, nil
}

func (f *fakeKMS) CreateSigningKey(_ context.Context, spec, stage string) (string, error) {
	if f.createErr != nil {
		return "", f.createErr
	}
	return f.add(spec, stage), nil
}

func (f *fakeKMS) DescribeSigningKey(_ context.Context, id string) (keys.KeyInfo, error) {
	k, err := f.key(id)
	if err != nil {
		return keys.KeyInfo{}, err
	}
	k.describe++
	info := k.info
	if info.State == "Enabled" {
		info.Kid = k.kid
	}
	return info, nil
}

func (f *fakeKMS) CheckSigningKey(ctx context.Context, id string) (keys.KeyInfo, error) {
	info, err := f.DescribeSigningKey(ctx, id)
	if err == nil && info.Kid == "" {
		err = fmt.Errorf("key %s is %s, not Enabled", info.ARN, info.State)
	}
	return info, err
}

func (f *fakeKMS) ScheduleDeletion(_ context.Context, id string, days int32) (time.Time, error) {
	if f.scheduleErr != nil {
		return time.Time{}, f.scheduleErr
	}
	k, err := f.key(id)
	if err != nil {
		return time.Time{}, err
	}
	if k.info.State != "PendingDeletion" {
		k.info.State, k.info.DeletionDate, k.window = "PendingDeletion", f.now().Add(time.Duration(days)*24*time.Hour), days
	}
	return k.info.DeletionDate, nil
}

func (f *fakeKMS) DisableSigningKey(_ context.Context, id string) error {
	if f.disableErr != nil {
		return f.disableErr
	}
	k, err := f.key(id)
	if err != nil {
		return err
	}
	k.info.State = "Disabled"
	return nil
}

// SignCanary signs as KMS would, with the key's own private key, while it
// is enabled.
func (f *fakeKMS) SignCanary(ctx context.Context, id, issuer, audience string) (string, jose.JSONWebKey, error) {
	k, err := f.key(id)
	if err != nil {
		return "", jose.JSONWebKey{}, err
	}
	if f.canaryErr != nil {
		return "", jose.JSONWebKey{}, f.canaryErr
	}
	if k.info.State != "Enabled" {
		return "", jose.JSONWebKey{}, fmt.Errorf("KMSInvalidStateException: %s is %s", id, k.info.State)
	}
	raw, _, err := jwt.NewIssuer(issuer, k.priv, f.now, nil).AccessToken(ctx, jwt.AccessRequest{Subject: "c", ClientID: "c", OrgID: "o", Audience: audience, Lifetime: time.Minute})
	return raw, k.priv.Public(), err
}

// fakeJWKS serves the kids it is given, with the public key of the fake
// KMS's key of that kid (or of impostor, for every kid, if set), or fails
// with err.
type fakeJWKS struct {
	kms      *fakeKMS
	kids     []string
	err      error
	fetches  []string
	impostor *jwttest.KeySet
}

func (f *fakeJWKS) Fetch(_ context.Context, url string) (jose.JSONWebKeySet, error) {
	f.fetches = append(f.fetches, url)
	var set jose.JSONWebKeySet
	for _, kid := range f.kids {
		jwk := jose.JSONWebKey{KeyID: kid}
		for _, k := range f.kms.keys {
			if k.kid == kid {
				jwk = k.priv.Public()
			}
		}
		if f.impostor != nil {
			jwk = f.impostor.Public()
			jwk.KeyID = kid
		}
		set.Keys = append(set.Keys, jwk)
	}
	return set, f.err
}

type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

// ---------------------------------------------------------------- fixture

var t0 = time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)

type fixture struct {
	clock *clock
	store *memStore
	kms   *fakeKMS
	jwks  *fakeJWKS
	svc   *Service
	k1    string // the stack's key before any rotation, behind alias/current
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{clock: &clock{t: t0}, store: &memStore{}, jwks: &fakeJWKS{}}
	f.kms = newFakeKMS(f.clock.Now)
	f.jwks.kms = f.kms
	f.k1 = f.kms.add(keys.SpecRSA2048, "prod")
	f.kms.aliases["alias/current"] = f.k1
	f.svc = f.service(t, keys.DefaultPolicy())
	return f
}

func (f *fixture) service(t *testing.T, p keys.Policy) *Service {
	t.Helper()
	svc, err := New(Config{Store: f.store, KMS: f.kms, JWKS: f.jwks, Canary: f.kms, Policy: p, Now: f.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func input() RotateInput {
	return RotateInput{CurrentKeys: []string{"alias/current"}, Spec: keys.SpecECCNistP256, Stage: "prod", DeletionWindowDays: 30}
}

func (f *fixture) rotate(t *testing.T, in RotateInput, want keys.Action) Outcome {
	t.Helper()
	out, err := f.svc.Rotate(context.Background(), in)
	if err != nil {
		t.Fatalf("rotate at %s: %v", f.clock.t, err)
	}
	if out.Action != want {
		t.Fatalf("rotate at %s: %s %s, want %s (next %+v)", f.clock.t, out.Action, out.KeyID, want, out.Next)
	}
	return out
}

func (f *fixture) state(t *testing.T, keyID string) keys.State {
	t.Helper()
	set, err := f.store.GetKeySet(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	e, ok := set.Find(keyID)
	if !ok {
		t.Fatalf("%s is not in the set", keyID)
	}
	return e.State
}

// published runs the first publish and returns the new key.
func (f *fixture) published(t *testing.T) string {
	t.Helper()
	return f.rotate(t, input(), keys.ActionPublish).KeyID
}

// ---------------------------------------------------------------- tests

// TestRotationSteps walks a whole rotation: each step only when its bound
// has passed, with a wait (and what it waits for) in between.
func TestRotationSteps(t *testing.T) {
	f := newFixture(t)
	p := keys.DefaultPolicy()

	out := f.rotate(t, input(), keys.ActionPublish)
	k2 := out.KeyID
	if !out.StoredSet || out.Kid == "" || out.Alg != "ES256" || !out.At.Equal(t0) {
		t.Fatalf("publish: %+v", out)
	}
	if k := f.kms.keys[k2]; k.stage != "prod" || k.info.Spec != keys.SpecECCNistP256 {
		t.Fatalf("new key: %+v", k)
	}
	if f.state(t, f.k1) != keys.Active || f.state(t, k2) != keys.Upcoming {
		t.Fatalf("after publish: %+v", out.Set)
	}
	promoteAt := t0.Add(p.PromoteDelay())
	if out.Next.Action != keys.ActionWait || out.Next.KeyID != k2 || !out.Next.DueAt.Equal(promoteAt) {
		t.Fatalf("after publish, next: %+v", out.Next)
	}

	// Not before the bound; and not with smaller bounds passed later.
	f.clock.t = promoteAt.Add(-time.Second)
	v := f.store.version()
	out = f.rotate(t, input(), keys.ActionWait)
	if out.KeyID != k2 || out.Awaits != keys.ActionPromote || !out.Next.DueAt.Equal(promoteAt) {
		t.Fatalf("early: %+v", out)
	}
	small := keys.Policy{Refresh: time.Millisecond, MaxTokenLifetime: time.Second}
	f.svc = f.service(t, small)
	f.rotate(t, input(), keys.ActionWait)
	f.svc = f.service(t, p)
	if f.store.version() != v {
		t.Fatal("a wait wrote the key set")
	}

	f.clock.t = promoteAt
	out = f.rotate(t, input(), keys.ActionPromote)
	if out.KeyID != k2 || out.Demoted != f.k1 || out.Kid != f.kms.keys[k2].kid {
		t.Fatalf("promote: %+v", out)
	}
	if f.state(t, k2) != keys.Active || f.state(t, f.k1) != keys.Retiring {
		t.Fatalf("after promote: %+v", out.Set)
	}
	retireAt := promoteAt.Add(p.RetireDelay())
	if out.Next.Action != keys.ActionWait || out.Next.KeyID != f.k1 || !out.Next.DueAt.Equal(retireAt) {
		t.Fatalf("after promote, next: %+v", out.Next)
	}

	f.clock.t = retireAt.Add(-time.Second)
	if out = f.rotate(t, input(), keys.ActionWait); out.Awaits != keys.ActionRetire || out.KeyID != f.k1 {
		t.Fatalf("early retire: %+v", out)
	}

	// k1 is the stack's own key: it leaves the JWKS, but the stack's
	// alias, output and fallback still name it, so it is not deleted.
	f.clock.t = retireAt
	out = f.rotate(t, input(), keys.ActionRetire)
	if out.KeyID != f.k1 || !out.StackKey || !out.DeletionDate.IsZero() || out.Next.Action != keys.ActionPublish {
		t.Fatalf("retire: %+v", out)
	}
	if k := f.kms.keys[f.k1]; k.info.State != "Enabled" {
		t.Fatalf("the stack's key in KMS after retirement: %+v", k)
	}
	if e, _ := out.Set.Find(f.k1); e.State != keys.Retired || !e.StackKey || !e.DeletionDate.IsZero() {
		t.Fatalf("retired entry: %+v", e)
	}

	// The next rotation publishes again, into the stored set; the key it
	// retires, k2, was created by a rotation and is scheduled for deletion.
	out = f.rotate(t, input(), keys.ActionPublish)
	if out.StoredSet {
		t.Fatalf("second publish stored a new set: %+v", out)
	}
	f.clock.advance(p.PromoteDelay())
	f.rotate(t, input(), keys.ActionPromote)
	f.clock.advance(p.RetireDelay())
	out = f.rotate(t, input(), keys.ActionRetire)
	wantDate := f.clock.t.Add(30 * 24 * time.Hour)
	if out.KeyID != k2 || out.StackKey || !out.DeletionDate.Equal(wantDate) {
		t.Fatalf("second retire: %+v", out)
	}
	if k := f.kms.keys[k2]; k.info.State != "PendingDeletion" || k.window != 30 {
		t.Fatalf("retired key in KMS: %+v", k)
	}
	if e, _ := out.Set.Find(k2); e.State != keys.Retired || !e.DeletionDate.Equal(wantDate) {
		t.Fatalf("retired entry: %+v", e)
	}
}

// TestPublishRefusals: nothing is created in KMS when a publish cannot
// start.
func TestPublishRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	in := input()
	in.CurrentKeys = nil
	if _, err := f.svc.Rotate(ctx, in); !errors.Is(err, ErrNoCurrentKeys) {
		t.Fatalf("no current keys: %v", err)
	}
	in = input()
	in.Stage = ""
	if _, err := f.svc.Rotate(ctx, in); !errors.Is(err, ErrNoStage) {
		t.Fatalf("no stage: %v", err)
	}
	in = input()
	in.CurrentKeys = []string{"alias/missing"}
	var kerr *KMSError
	if _, err := f.svc.Rotate(ctx, in); !errors.As(err, &kerr) {
		t.Fatalf("unknown current key: %v", err)
	}
	f.kms.createErr = errors.New("AccessDeniedException")
	if _, err := f.svc.Rotate(ctx, input()); !errors.As(err, &kerr) {
		t.Fatalf("create failed: %v", err)
	}
	if len(f.kms.keys) != 1 || f.store.set != nil {
		t.Fatalf("a refused publish left %d keys, set %+v", len(f.kms.keys), f.store.set)
	}
	for _, bad := range []RotateInput{{Spec: "RSA_4096", DeletionWindowDays: 30}, {Spec: keys.SpecRSA2048, DeletionWindowDays: 6}} {
		var ierr *InputError
		if _, err := f.svc.Rotate(ctx, bad); !errors.As(err, &ierr) {
			t.Errorf("Rotate(%+v): %v", bad, err)
		}
	}
}

// TestPublishRace: a publish that loses against another writer schedules
// the deletion of the key it created, and says so.
func TestPublishRace(t *testing.T) {
	ctx := context.Background()

	// The first set: another run stores one first.
	f := newFixture(t)
	f.store.beforeCreate = func(m *memStore) {
		other, err := keys.Bootstrap([]string{f.k1}, nil, keys.DefaultPolicy(), t0)
		if err != nil {
			t.Fatal(err)
		}
		other.Version = 1
		m.set = &other
	}
	_, err := f.svc.Rotate(ctx, input())
	var raced *ConcurrentChangeError
	if !errors.As(err, &raced) || !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("lost create: %v", err)
	}
	if k := f.kms.keys[raced.KeyID]; k == nil || k.info.State != "PendingDeletion" || k.window != unusedKeyWindowDays {
		t.Fatalf("unused key: %+v", k)
	}
	if _, ok := f.store.set.Find(raced.KeyID); ok {
		t.Fatal("the unused key is in the set")
	}

	// A stored set: the compare-and-swap fails.
	f = newFixture(t)
	f.published(t)
	f.rotate(t, input(), keys.ActionWait)
	f.store.set.Entries = f.store.set.Entries[:1] // as if withdrawn and forgotten
	f.store.beforeUpdate = func() error { return domain.ErrConflict }
	if _, err := f.svc.Rotate(ctx, input()); !errors.As(err, &raced) || !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("lost update: %v", err)
	}

	// And the clean-up fails too: both are reported.
	f.kms.scheduleErr = errors.New("KMS is down")
	_, err = f.svc.Rotate(ctx, input())
	var unused *UnusedKeyError
	if !errors.As(err, &unused) || !errors.Is(err, domain.ErrConflict) || unused.DeleteErr != f.kms.scheduleErr ||
		!strings.Contains(err.Error(), "scheduling the deletion of the unused key "+unused.KeyID+" failed") {
		t.Fatalf("lost update, clean-up failed: %v", err)
	}
}

// TestPromoteRefusals: a key KMS cannot sign with, or that the live JWKS
// does not serve, is not promoted.
func TestPromoteRefusals(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	k2 := f.published(t)
	kid2 := f.kms.keys[k2].kid
	f.clock.advance(keys.DefaultPolicy().PromoteDelay())

	f.kms.keys[k2].info.State = "Disabled"
	_, err := f.svc.Rotate(ctx, input())
	var unusable *UnusableKeyError
	var kerr *KMSError
	if !errors.As(err, &unusable) || unusable.KeyID != k2 || !errors.As(err, &kerr) {
		t.Fatalf("disabled key: %v", err)
	}
	f.kms.keys[k2].info.State = "Enabled"

	in := input()
	in.JWKSURL = "https://auth.example.com/.well-known/jwks.json"
	f.jwks.kids = []string{f.kms.keys[f.k1].kid}
	_, err = f.svc.Rotate(ctx, in)
	var missing *KidNotServedError
	if !errors.As(err, &missing) || missing.Kid != kid2 || missing.URL != in.JWKSURL {
		t.Fatalf("JWKS without the key: %v", err)
	}
	f.jwks.err = errors.New("fetch JWKS: connection refused")
	if _, err = f.svc.Rotate(ctx, in); !errors.Is(err, f.jwks.err) {
		t.Fatalf("JWKS unreachable: %v", err)
	}
	if f.state(t, k2) != keys.Upcoming {
		t.Fatal("a refused promotion changed the set")
	}

	f.jwks.err, f.jwks.kids = nil, append(f.jwks.kids, kid2)
	f.rotate(t, in, keys.ActionPromote)
	if len(f.jwks.fetches) != 3 {
		t.Fatalf("JWKS fetched %d times", len(f.jwks.fetches))
	}
}

// TestPromoteWithoutJWKSURL does not fetch a JWKS.
func TestPromoteWithoutJWKSURL(t *testing.T) {
	f := newFixture(t)
	f.published(t)
	f.clock.advance(keys.DefaultPolicy().PromoteDelay())
	f.rotate(t, input(), keys.ActionPromote)
	if len(f.jwks.fetches) != 0 {
		t.Fatalf("fetched %v", f.jwks.fetches)
	}
}

// TestRetireThenScheduleDeletion: when KMS fails after the key left the
// JWKS, the next run schedules its deletion before anything else.
func TestRetireThenScheduleDeletion(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	p := keys.DefaultPolicy()
	// A first rotation retires the stack's key (never deleted); the second
	// retires k2, which a rotation created.
	var k2 string
	for i := range 2 {
		k := f.published(t)
		if i == 0 {
			k2 = k
		}
		f.clock.advance(p.PromoteDelay())
		f.rotate(t, input(), keys.ActionPromote)
		f.clock.advance(p.RetireDelay())
		if i == 0 {
			f.rotate(t, input(), keys.ActionRetire)
		}
	}

	f.kms.scheduleErr = errors.New("ThrottlingException")
	_, err := f.svc.Rotate(ctx, input())
	var undone *DeletionNotScheduledError
	var kerr *KMSError
	if !errors.As(err, &undone) || undone.KeyID != k2 || undone.Step != keys.ActionRetire || !errors.As(err, &kerr) {
		t.Fatalf("retire with KMS failing: %v", err)
	}
	if f.state(t, k2) != keys.Retired {
		t.Fatal("the key did not leave the JWKS")
	}

	f.kms.scheduleErr = nil
	in := input()
	in.DeletionWindowDays = 10
	out := f.rotate(t, in, keys.ActionScheduleDeletion)
	if out.KeyID != k2 || !out.DeletionDate.Equal(f.clock.t.Add(10*24*time.Hour)) || out.Next.Action != keys.ActionPublish {
		t.Fatalf("schedule deletion: %+v", out)
	}
	if e, _ := out.Set.Find(k2); !e.DeletionDate.Equal(out.DeletionDate) {
		t.Fatalf("recorded %+v", e)
	}
}

// TestWithdraw rolls a publish back, and refuses when there is nothing to
// roll back.
func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.Withdraw(ctx, 7); !errors.Is(err, ErrNothingToWithdraw) {
		t.Fatalf("no set: %v", err)
	}
	k2 := f.published(t)
	var ierr *InputError
	if _, err := f.svc.Withdraw(ctx, 31); !errors.As(err, &ierr) {
		t.Fatalf("window 31: %v", err)
	}
	f.clock.advance(time.Minute)
	out, err := f.svc.Withdraw(ctx, 7)
	if err != nil {
		t.Fatal(err)
	}
	if out.Action != keys.ActionWithdraw || out.KeyID != k2 || !out.DeletionDate.Equal(f.clock.t.Add(7*24*time.Hour)) ||
		out.Next.Action != keys.ActionPublish {
		t.Fatalf("withdraw: %+v", out)
	}
	if f.state(t, k2) != keys.Retired || f.kms.keys[k2].info.State != "PendingDeletion" {
		t.Fatal("withdrawn key still published or not scheduled")
	}
	if _, err := f.svc.Withdraw(ctx, 7); !errors.Is(err, ErrNothingToWithdraw) {
		t.Fatalf("nothing upcoming: %v", err)
	}

	// KMS fails after the key left the JWKS.
	k3 := f.published(t)
	f.kms.scheduleErr = errors.New("ThrottlingException")
	var undone *DeletionNotScheduledError
	if _, err := f.svc.Withdraw(ctx, 7); !errors.As(err, &undone) || undone.KeyID != k3 || undone.Step != keys.ActionWithdraw {
		t.Fatalf("withdraw with KMS failing: %v", err)
	}
}

// TestList shows the set (or, before one is stored, the current keys) with
// kids of published keys and the due times under the policy.
func TestList(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	if _, err := f.svc.List(ctx, nil); !errors.Is(err, ErrNoCurrentKeys) {
		t.Fatalf("nothing to list: %v", err)
	}
	l, err := f.svc.List(ctx, []string{"alias/current"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Stored || len(l.Keys) != 1 || l.Keys[0].KeyID != f.k1 || l.Keys[0].State != keys.Active ||
		l.Keys[0].Kid != f.kms.keys[f.k1].kid || l.Keys[0].Alg != "RS256" || l.Next.Action != keys.ActionPublish {
		t.Fatalf("before any rotation: %+v", l)
	}
	if f.store.set != nil {
		t.Fatal("List stored a set")
	}

	k2 := f.published(t)
	longer := keys.DefaultPolicy()
	longer.JWKSMaxAge = time.Hour
	l, err = f.service(t, longer).List(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	up := l.Keys[1]
	if !l.Stored || l.Version != 1 || up.KeyID != k2 || up.State != keys.Upcoming ||
		!up.PromoteAt.Equal(t0.Add(longer.PromoteDelay())) || !up.PromoteAfter.Equal(t0.Add(keys.DefaultPolicy().PromoteDelay())) {
		t.Fatalf("with an upcoming key: %+v", l)
	}
	if l.Next.Action != keys.ActionWait || !l.Next.DueAt.Equal(up.PromoteAt) {
		t.Fatalf("next: %+v", l.Next)
	}

	// A retired key is not described: KMS may have deleted it.
	if _, err := f.svc.Withdraw(ctx, 7); err != nil {
		t.Fatal(err)
	}
	before := f.kms.keys[k2].describe
	if l, err = f.svc.List(ctx, nil); err != nil || f.kms.keys[k2].describe != before || l.Keys[1].Kid != "" {
		t.Fatalf("retired key described: %+v %v", l, err)
	}
}

func TestNewRequiresEverything(t *testing.T) {
	f := newFixture(t)
	ok := Config{Store: f.store, KMS: f.kms, JWKS: f.jwks, Canary: f.kms, Policy: keys.DefaultPolicy(), Now: f.clock.Now}
	for name, edit := range map[string]func(*Config){
		"store":  func(c *Config) { c.Store = nil },
		"kms":    func(c *Config) { c.KMS = nil },
		"jwks":   func(c *Config) { c.JWKS = nil },
		"canary": func(c *Config) { c.Canary = nil },
		"clock":  func(c *Config) { c.Now = nil },
		"policy": func(c *Config) { c.Policy.Refresh = 0 },
	} {
		c := ok
		edit(&c)
		if _, err := New(c); err == nil {
			t.Errorf("New without %s: no error", name)
		}
	}
}

func TestHTTPJWKS(t *testing.T) {
	ctx := context.Background()
	mux := http.NewServeMux()
	mux.HandleFunc("/ok", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`{"keys":[]}`)) })
	mux.HandleFunc("/down", func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusServiceUnavailable) })
	mux.HandleFunc("/junk", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte(`<html>`)) })
	srv := httptest.NewServer(mux)
	defer srv.Close()
	h := HTTPJWKS{Client: srv.Client()}
	if set, err := h.Fetch(ctx, srv.URL+"/ok"); err != nil || len(set.Keys) != 0 {
		t.Fatalf("ok: %+v %v", set, err)
	}
	if _, err := h.Fetch(ctx, srv.URL+"/down"); err == nil || !strings.Contains(err.Error(), "status 503") {
		t.Fatalf("down: %v", err)
	}
	if _, err := h.Fetch(ctx, srv.URL+"/junk"); err == nil {
		t.Fatal("junk accepted")
	}
	var bad *BadJWKSURLError
	if _, err := h.Fetch(ctx, "http://[::1"); !errors.As(err, &bad) {
		t.Fatalf("bad URL: %v", err)
	}
}
