package conformance

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
	"orgauth/pkg/storage"
)

// keySetCases check storage.KeySets.
var keySetCases = []testCase[storage.KeySets]{
	{"KeySetMissing", keySetMissing},
	{"KeySetRoundTrip", keySetRoundTrip},
	{"KeySetCreateOnce", keySetCreateOnce},
	{"KeySetInvalidRefused", keySetInvalidRefused},
	{"KeySetUpdate", keySetUpdate},
	{"KeySetConcurrentUpdates", keySetConcurrentUpdates},
}

// sampleKeySet has every state and every time field set.
func sampleKeySet() keys.Set {
	arn := func(n int) string {
		return fmt.Sprintf("arn:aws:kms:us-east-1:111122223333:key/0000000%d-1111-2222-3333-444444444444", n)
	}
	return keys.Set{UpdatedAt: base.Add(time.Hour), Entries: []keys.Entry{
		{KeyID: arn(3), Spec: "RSA_2048", State: keys.Active, PublishedAt: base, PromoteAfter: base.Add(7 * time.Minute),
			ActivatedAt: base.Add(10 * time.Minute)},
		{KeyID: arn(4), Spec: "ECC_NIST_P256", State: keys.Upcoming, PublishedAt: base.Add(time.Hour),
			PromoteAfter: base.Add(time.Hour + 7*time.Minute)},
		{KeyID: arn(2), Spec: "RSA_2048", State: keys.Retiring, PublishedAt: base.Add(-48 * time.Hour),
			ActivatedAt: base.Add(-47 * time.Hour), RetiringSince: base.Add(10 * time.Minute), NotAfter: base.Add(25 * time.Hour),
			StackKey: true},
		{KeyID: arn(1), State: keys.Retired, PublishedAt: base.Add(-96 * time.Hour), ActivatedAt: base.Add(-95 * time.Hour),
			RetiringSince: base.Add(-47 * time.Hour), NotAfter: base.Add(-22 * time.Hour), RetiredAt: base.Add(-21 * time.Hour),
			DeletionDate: base.Add(9 * 24 * time.Hour), Compromised: true},
	}}
}

// sameKeySet compares two sets field by field, times with Equal.
func sameKeySet(t *testing.T, got, want keys.Set) {
	t.Helper()
	if got.Version != want.Version || !got.UpdatedAt.Equal(want.UpdatedAt) || len(got.Entries) != len(want.Entries) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
	for i := range got.Entries {
		g, w := got.Entries[i], want.Entries[i]
		times := func(e keys.Entry) []time.Time {
			return []time.Time{e.PublishedAt, e.PromoteAfter, e.ActivatedAt, e.RetiringSince, e.NotAfter, e.RetiredAt, e.DeletionDate}
		}
		if g.KeyID != w.KeyID || g.Spec != w.Spec || g.State != w.State || g.StackKey != w.StackKey || g.Compromised != w.Compromised ||
			!slices.EqualFunc(times(g), times(w), time.Time.Equal) {
			t.Fatalf("entry %d:\ngot  %+v\nwant %+v", i, g, w)
		}
	}
}

func keySetMissing(t *testing.T, s storage.KeySets) {
	if _, err := s.GetKeySet(t.Context()); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetKeySet on an empty store: %v, want ErrNotFound", err)
	}
	_, err := s.UpdateKeySet(t.Context(), func(ks keys.Set) (keys.Set, error) { return ks, nil })
	if !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("UpdateKeySet on an empty store: %v, want ErrNotFound", err)
	}
}

func keySetRoundTrip(t *testing.T, s storage.KeySets) {
	in := sampleKeySet()
	in.Version = 42 // ignored: a new set starts at 1
	if err := s.CreateKeySet(t.Context(), in); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	want := sampleKeySet()
	want.Version = 1
	sameKeySet(t, got, want)
}

func keySetCreateOnce(t *testing.T, s storage.KeySets) {
	if err := s.CreateKeySet(t.Context(), sampleKeySet()); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKeySet(t.Context(), sampleKeySet()); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second CreateKeySet: %v, want ErrAlreadyExists", err)
	}
}

func keySetInvalidRefused(t *testing.T, s storage.KeySets) {
	bad := sampleKeySet()
	bad.Entries[1].State = keys.Active // two active keys
	if err := s.CreateKeySet(t.Context(), bad); err == nil {
		t.Fatal("CreateKeySet stored a set with two active keys")
	}
	if err := s.CreateKeySet(t.Context(), sampleKeySet()); err != nil {
		t.Fatal(err)
	}
	_, err := s.UpdateKeySet(t.Context(), func(ks keys.Set) (keys.Set, error) {
		ks.Entries = ks.Entries[1:] // no active key left
		return ks, nil
	})
	if err == nil {
		t.Fatal("UpdateKeySet stored a set without an active key")
	}
	got, err := s.GetKeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 1 {
		t.Fatalf("version %d after refused updates, want 1", got.Version)
	}
}

func keySetUpdate(t *testing.T, s storage.KeySets) {
	if err := s.CreateKeySet(t.Context(), sampleKeySet()); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if _, err := s.UpdateKeySet(t.Context(), func(keys.Set) (keys.Set, error) { return keys.Set{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("fn's error: got %v", err)
	}
	later := base.Add(2 * time.Hour)
	out, err := s.UpdateKeySet(t.Context(), func(ks keys.Set) (keys.Set, error) {
		if ks.Version != 1 {
			return ks, fmt.Errorf("fn saw version %d, want 1", ks.Version)
		}
		ks.Entries[1].State, ks.Entries[0].State = keys.Active, keys.Retiring
		ks.Entries[1].ActivatedAt, ks.Entries[0].RetiringSince = later, later
		ks.UpdatedAt = later
		ks.Version = 99 // the store owns the version
		return ks, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := sampleKeySet()
	want.Entries[1].State, want.Entries[0].State = keys.Active, keys.Retiring
	want.Entries[1].ActivatedAt, want.Entries[0].RetiringSince = later, later
	want.UpdatedAt, want.Version = later, 2
	sameKeySet(t, out, want)
	got, err := s.GetKeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sameKeySet(t, got, want)
}

// keySetConcurrentUpdates: each writer adds a key of its own; a lost update
// would drop one.
func keySetConcurrentUpdates(t *testing.T, s storage.KeySets) {
	if err := s.CreateKeySet(t.Context(), keys.Set{UpdatedAt: base, Entries: []keys.Entry{
		{KeyID: "k-active", State: keys.Active, PublishedAt: base},
	}}); err != nil {
		t.Fatal(err)
	}
	const writers = 4
	concurrently(t, writers, func(i int) error {
		_, err := s.UpdateKeySet(t.Context(), func(ks keys.Set) (keys.Set, error) {
			ks.Entries = append(ks.Entries, keys.Entry{KeyID: fmt.Sprintf("k-%d", i), State: keys.Retired, RetiredAt: base})
			return ks, nil
		})
		return err
	})
	got, err := s.GetKeySet(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Entries) != writers+1 || got.Version != writers+1 {
		t.Fatalf("%d entries at version %d, want %d at %d: an update was lost", len(got.Entries), got.Version, writers+1, writers+1)
	}
}
