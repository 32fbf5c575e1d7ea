package conformance

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// wrappedKeyCases check storage.WrappedKeys.
var wrappedKeyCases = []testCase[storage.WrappedKeys]{
	{"WrappedKeyRoundTrip", wrappedKeyRoundTrip},
	{"WrappedKeyCreateOnce", wrappedKeyCreateOnce},
	{"WrappedKeyConcurrentCreates", wrappedKeyConcurrentCreates},
	{"WrappedKeyInvalidRefused", wrappedKeyInvalidRefused},
}

func sampleWrappedKey(name string, fill byte) domain.WrappedKey {
	return domain.WrappedKey{Name: name, KMSKeyID: "arn:aws:kms:us-east-1:111122223333:key/0000000d-1111-2222-3333-444444444444",
		Ciphertext: bytes.Repeat([]byte{fill, 0, 0xff}, 60), CreatedAt: base}
}

func sameWrappedKey(t *testing.T, got, want domain.WrappedKey) {
	t.Helper()
	if got.Name != want.Name || got.KMSKeyID != want.KMSKeyID || !bytes.Equal(got.Ciphertext, want.Ciphertext) || !got.CreatedAt.Equal(want.CreatedAt) {
		t.Fatalf("got %+v\nwant %+v", got, want)
	}
}

func wrappedKeyRoundTrip(t *testing.T, s storage.WrappedKeys) {
	for _, name := range []string{domain.DeviceCookieKeyName, "", strings.Repeat("x", domain.MaxIDLength+1), "bad\nname"} {
		if _, err := s.GetWrappedKey(t.Context(), name); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("GetWrappedKey(%q) on an empty store: %v, want ErrNotFound", name, err)
		}
	}
	in := sampleWrappedKey(domain.DeviceCookieKeyName, 1)
	must(t, s.CreateWrappedKey(t.Context(), in))
	in.Ciphertext[0] = 99 // the caller's slice is not the stored one
	got, err := s.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName)
	if err != nil {
		t.Fatal(err)
	}
	sameWrappedKey(t, got, sampleWrappedKey(domain.DeviceCookieKeyName, 1))
	got.Ciphertext[0] = 98
	again, err := s.GetWrappedKey(t.Context(), domain.DeviceCookieKeyName)
	if err != nil {
		t.Fatal(err)
	}
	sameWrappedKey(t, again, sampleWrappedKey(domain.DeviceCookieKeyName, 1))
	if _, err := s.GetWrappedKey(t.Context(), "other"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("GetWrappedKey of another name: %v, want ErrNotFound", err)
	}
}

func wrappedKeyCreateOnce(t *testing.T, s storage.WrappedKeys) {
	must(t, s.CreateWrappedKey(t.Context(), sampleWrappedKey("k", 1)))
	second := sampleWrappedKey("k", 2)
	second.CreatedAt = base.Add(time.Hour)
	if err := s.CreateWrappedKey(t.Context(), second); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second CreateWrappedKey: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetWrappedKey(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	sameWrappedKey(t, got, sampleWrappedKey("k", 1))
}

// wrappedKeyConcurrentCreates: cold starts racing to create the key; one
// wins, the others get ErrAlreadyExists and read the winner's.
func wrappedKeyConcurrentCreates(t *testing.T, s storage.WrappedKeys) {
	const writers = 6
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Go(func() { errs[i] = s.CreateWrappedKey(t.Context(), sampleWrappedKey("race", byte(i+1))) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Fatalf("creates %d and %d both succeeded", winner, i)
		case !errors.Is(err, domain.ErrAlreadyExists):
			t.Fatalf("create %d: %v, want ErrAlreadyExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no create succeeded")
	}
	got, err := s.GetWrappedKey(t.Context(), "race")
	if err != nil {
		t.Fatal(err)
	}
	sameWrappedKey(t, got, sampleWrappedKey("race", byte(winner+1)))
}

func wrappedKeyInvalidRefused(t *testing.T, s storage.WrappedKeys) {
	for i, k := range []domain.WrappedKey{
		{KMSKeyID: "k", Ciphertext: []byte{1}},
		{Name: strings.Repeat("x", domain.MaxIDLength+1), KMSKeyID: "k", Ciphertext: []byte{1}},
		{Name: "no-key-id", Ciphertext: []byte{1}},
		{Name: "no-ciphertext", KMSKeyID: "k"},
	} {
		if err := s.CreateWrappedKey(t.Context(), k); err == nil || errors.Is(err, domain.ErrAlreadyExists) {
			t.Fatalf("case %d: CreateWrappedKey(%+v) = %v, want a refusal", i, k, err)
		}
		if k.Name != "" && domain.ValidID(k.Name) {
			if _, err := s.GetWrappedKey(t.Context(), k.Name); !errors.Is(err, domain.ErrNotFound) {
				t.Fatal(fmt.Errorf("case %d: a refused key was stored: %v", i, err))
			}
		}
	}
}
