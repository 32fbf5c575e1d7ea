package keys_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
)

var t0 = time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)

func policy() keys.Policy {
	return keys.Policy{JWKSMaxAge: 5 * time.Minute, Refresh: time.Minute, MaxTokenLifetime: time.Hour, ClockSkew: 2 * time.Minute, KeyAccess: 3 * time.Minute}
}

func ids(es []keys.Entry) []string {
	var out []string
	for _, e := range es {
		out = append(out, e.KeyID+":"+string(e.State))
	}
	return out
}

// mustT returns a helper that fails t on a transition's error.
func mustT(t *testing.T) func(keys.Set, error) keys.Set {
	return func(s keys.Set, err error) keys.Set {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
}

func TestDefaultPolicyCoversTheLongestLifetime(t *testing.T) {
	p := keys.DefaultPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if p.MaxTokenLifetime < domain.MaxM2MAccessTokenLifetime || p.MaxTokenLifetime < domain.MaxSPAAccessTokenLifetime {
		t.Fatalf("MaxTokenLifetime %v is shorter than what an application may be given", p.MaxTokenLifetime)
	}
}

func TestPolicyDelays(t *testing.T) {
	p := policy()
	if got, want := p.PromoteDelay(), 11*time.Minute; got != want {
		t.Errorf("PromoteDelay = %v, want %v (key access + refresh + max-age + skew)", got, want)
	}
	if got, want := p.RetireDelay(), 63*time.Minute; got != want {
		t.Errorf("RetireDelay = %v, want %v (refresh + lifetime + skew)", got, want)
	}
	for _, bad := range []keys.Policy{
		{JWKSMaxAge: -1, Refresh: 1, MaxTokenLifetime: 1},
		{Refresh: 0, MaxTokenLifetime: 1},
		{Refresh: 1, MaxTokenLifetime: 0},
		{Refresh: 1, MaxTokenLifetime: 1, ClockSkew: -1},
		{Refresh: 1, MaxTokenLifetime: 1, KeyAccess: -1},
	} {
		if bad.Validate() == nil {
			t.Errorf("%+v: want an error", bad)
		}
	}
}

// TestFullRotation walks a rotation with an injected clock: every step is
// refused one second before its bound and done at it.
func TestFullRotation(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1"}, []string{"RSA_2048"}, p, t0))
	if st := keys.NextStep(s, p, t0); st.Action != keys.ActionPublish {
		t.Fatalf("fresh set: %+v, want publish", st)
	}

	// Step 1: publish k2.
	s = must(keys.Publish(s, "k2", "ECC_NIST_P256", p, t0))
	if got, want := ids(s.Published()), []string{"k1:active", "k2:upcoming"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	if a, _ := s.Active(); a.KeyID != "k1" {
		t.Fatalf("active %s, want k1: publishing must not change the signer", a.KeyID)
	}
	if _, err := keys.Publish(s, "k3", "", p, t0); !errors.Is(err, keys.ErrWrongState) {
		t.Fatalf("second upcoming key: %v, want ErrWrongState", err)
	}

	// Step 2: promotion is refused until PromoteDelay has passed.
	promoteAt := t0.Add(p.PromoteDelay())
	st := keys.NextStep(s, p, promoteAt.Add(-time.Second))
	if st.Action != keys.ActionWait || !st.DueAt.Equal(promoteAt) || st.KeyID != "k2" {
		t.Fatalf("before the bound: %+v, want wait until %v", st, promoteAt)
	}
	_, err := keys.Promote(s, "k2", p, promoteAt.Add(-time.Second))
	var nd *keys.NotDueError
	if !errors.As(err, &nd) || !nd.DueAt.Equal(promoteAt) || nd.Action != keys.ActionPromote {
		t.Fatalf("early promote: %v, want NotDueError at %v", err, promoteAt)
	}
	if st := keys.NextStep(s, p, promoteAt); st.Action != keys.ActionPromote || st.KeyID != "k2" {
		t.Fatalf("at the bound: %+v, want promote k2", st)
	}
	s = must(keys.Promote(s, "k2", p, promoteAt))
	if got, want := ids(s.Published()), []string{"k2:active", "k1:retiring"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	k1, _ := s.Find("k1")
	if !k1.RetiringSince.Equal(promoteAt) || !k1.NotAfter.Equal(promoteAt.Add(p.RetireDelay())) {
		t.Fatalf("k1 after promotion: %+v", k1)
	}

	// Step 3: retirement waits for the longest token lifetime.
	retireAt := promoteAt.Add(p.RetireDelay())
	if st := keys.NextStep(s, p, retireAt.Add(-time.Second)); st.Action != keys.ActionWait || !st.DueAt.Equal(retireAt) {
		t.Fatalf("before retirement: %+v, want wait until %v", st, retireAt)
	}
	if _, err := keys.Retire(s, "k1", p, retireAt.Add(-time.Second)); !errors.As(err, &nd) || !nd.DueAt.Equal(retireAt) {
		t.Fatalf("early retire: %v", err)
	}
	if st := keys.NextStep(s, p, retireAt); st.Action != keys.ActionRetire || st.KeyID != "k1" {
		t.Fatalf("at retirement: %+v", st)
	}
	s = must(keys.Retire(s, "k1", p, retireAt))
	if got, want := ids(s.Published()), []string{"k2:active"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	// k1 is the stack's own key (Bootstrap): out of the JWKS, but its
	// deletion is never due, since the stack still names it.
	if e, _ := s.Find("k1"); !e.StackKey {
		t.Fatalf("bootstrapped key not marked as the stack's: %+v", e)
	}
	if st := keys.NextStep(s, p, retireAt); st.Action != keys.ActionPublish {
		t.Fatalf("after retirement of the stack's key: %+v, want publish", st)
	}
	// A key a rotation created is scheduled for deletion once retired.
	s2 := s.Clone()
	s2.Entries[1].StackKey = false
	if st := keys.NextStep(s2, p, retireAt); st.Action != keys.ActionScheduleDeletion || st.KeyID != "k1" {
		t.Fatalf("after retirement: %+v, want schedule-deletion k1", st)
	}
	s = must(keys.DeletionScheduled(s, "k1", retireAt.Add(30*24*time.Hour), retireAt))
	if st := keys.NextStep(s, p, retireAt); st.Action != keys.ActionPublish {
		t.Fatalf("rotation done: %+v, want publish", st)
	}
	if got, want := ids(s.Entries), []string{"k2:active", "k1:retired"}; !slices.Equal(got, want) {
		t.Fatalf("entries %v, want %v", got, want)
	}
}

// TestPolicyRaisedMidRotation: a bound stored when a step was taken is a
// floor; a longer one configured since wins.
func TestPolicyRaisedMidRotation(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1"}, nil, p, t0))
	s = must(keys.Publish(s, "k2", "", p, t0))
	longer := p
	longer.JWKSMaxAge = time.Hour
	if _, err := keys.Promote(s, "k2", longer, t0.Add(p.PromoteDelay())); err == nil {
		t.Fatal("promoted under the stored bound although max-age was raised")
	}
	shorter := p
	shorter.JWKSMaxAge = 0
	if _, err := keys.Promote(s, "k2", shorter, t0.Add(shorter.PromoteDelay())); err == nil {
		t.Fatal("a shorter policy undercut the bound stored at publication")
	}
}

func TestWithdraw(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1"}, nil, p, t0))
	s = must(keys.Publish(s, "k2", "", p, t0))
	s = must(keys.Withdraw(s, "k2", t0.Add(time.Minute)))
	if got, want := ids(s.Published()), []string{"k1:active"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	if st := keys.NextStep(s, p, t0.Add(time.Minute)); st.Action != keys.ActionScheduleDeletion || st.KeyID != "k2" {
		t.Fatalf("%+v", st)
	}
	if _, err := keys.Withdraw(s, "k1", t0); !errors.Is(err, keys.ErrWrongState) {
		t.Fatalf("withdraw the active key: %v", err)
	}
}

func TestBootstrapSeveralKeys(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1", "k0"}, nil, p, t0))
	if got, want := ids(s.Published()), []string{"k1:active", "k0:retiring"}; !slices.Equal(got, want) {
		t.Fatalf("published %v, want %v", got, want)
	}
	st := keys.NextStep(s, p, t0)
	if st.Action != keys.ActionWait || st.KeyID != "k0" || !st.DueAt.Equal(t0.Add(p.RetireDelay())) {
		t.Fatalf("%+v: a static extra key stays published for a full RetireDelay", st)
	}
	if _, err := keys.Bootstrap(nil, nil, p, t0); err == nil {
		t.Fatal("empty bootstrap accepted")
	}
}

func TestWrongStates(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1"}, nil, p, t0))
	late := t0.Add(1000 * time.Hour)
	for name, err := range map[string]error{
		"promote active":   second(keys.Promote(s, "k1", p, late)),
		"promote unknown":  second(keys.Promote(s, "nope", p, late)),
		"retire active":    second(keys.Retire(s, "k1", p, late)),
		"deletion active":  second(keys.DeletionScheduled(s, "k1", late, late)),
		"withdraw unknown": second(keys.Withdraw(s, "nope", late)),
	} {
		if !errors.Is(err, keys.ErrWrongState) {
			t.Errorf("%s: %v, want ErrWrongState", name, err)
		}
	}
	if _, err := keys.Publish(s, "k1", "", p, t0); err == nil {
		t.Error("published a key twice")
	}
	if _, err := keys.Publish(s, "", "", p, t0); err == nil {
		t.Error("published an empty key id")
	}
}

func second(_ keys.Set, err error) error { return err }

func TestValidate(t *testing.T) {
	e := func(id string, st keys.State) keys.Entry { return keys.Entry{KeyID: id, State: st} }
	for name, s := range map[string]keys.Set{
		"no active":     {Entries: []keys.Entry{e("a", keys.Upcoming)}},
		"two active":    {Entries: []keys.Entry{e("a", keys.Active), e("b", keys.Active)}},
		"two upcoming":  {Entries: []keys.Entry{e("a", keys.Active), e("b", keys.Upcoming), e("c", keys.Upcoming)}},
		"duplicate":     {Entries: []keys.Entry{e("a", keys.Active), e("a", keys.Retiring)}},
		"empty id":      {Entries: []keys.Entry{e("", keys.Active)}},
		"unknown state": {Entries: []keys.Entry{e("a", keys.Active), e("b", "lost")}},
	} {
		if s.Validate() == nil {
			t.Errorf("%s: want an error", name)
		}
	}
	ok := keys.Set{Entries: []keys.Entry{e("a", keys.Active), e("b", keys.Upcoming), e("c", keys.Retiring), e("d", keys.Retired)}}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestHistoryIsBounded: many rotations keep at most MaxRetired retired keys
// once their deletion is scheduled, so the item cannot outgrow DynamoDB.
func TestHistoryIsBounded(t *testing.T) {
	p := policy()
	must := mustT(t)
	now := t0
	s := must(keys.Bootstrap([]string{"k0"}, nil, p, now))
	for i := 1; i <= keys.MaxRetired+5; i++ {
		id := fmt.Sprintf("k%d", i)
		s = must(keys.Publish(s, id, "", p, now))
		now = now.Add(p.PromoteDelay())
		s = must(keys.Promote(s, id, p, now))
		now = now.Add(p.RetireDelay())
		old := fmt.Sprintf("k%d", i-1)
		s = must(keys.Retire(s, old, p, now))
		s = must(keys.DeletionScheduled(s, old, now.Add(7*24*time.Hour), now))
	}
	if n := len(s.Entries); n != keys.MaxRetired+1 {
		t.Fatalf("%d entries, want %d", n, keys.MaxRetired+1)
	}
	if s.Entries[1].KeyID != fmt.Sprintf("k%d", keys.MaxRetired+4) {
		t.Fatalf("newest retired first: %v", ids(s.Entries))
	}
}

// TestTransitionsDoNotAlias: a transition returns a new set and leaves its
// input alone.
func TestTransitionsDoNotAlias(t *testing.T) {
	p := policy()
	must := mustT(t)
	s := must(keys.Bootstrap([]string{"k1"}, nil, p, t0))
	s = must(keys.Publish(s, "k2", "", p, t0))
	before := ids(s.Entries)
	_ = must(keys.Promote(s, "k2", p, t0.Add(time.Hour)))
	if got := ids(s.Entries); !slices.Equal(got, before) {
		t.Fatalf("input changed: %v, was %v", got, before)
	}
}
