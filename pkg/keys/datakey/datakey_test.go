package datakey_test

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/kms"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys/datakey"
	"orgauth/pkg/storage/memory"
	"orgauth/pkg/testkit/fakekms"
)

var now = time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC)

// Every instance of a stage, however many start at once, gets the same
// key; the table holds only its ciphertext.
func TestOneKeyPerStage(t *testing.T) {
	k := fakekms.New("key-1")
	st := memory.New()
	const instances = 8
	got := make([][]byte, instances)
	errs := make([]error, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() { got[i], errs[i] = datakey.Load(t.Context(), k, st, "key-1", "device-cookie", now) })
	}
	wg.Wait()
	for i := range instances {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if len(got[i]) != datakey.Size || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("instance %d got another key", i)
		}
	}
	w, err := st.GetWrappedKey(t.Context(), "device-cookie")
	if err != nil {
		t.Fatal(err)
	}
	if w.KMSKeyID != "key-1" || !w.CreatedAt.Equal(now) || bytes.Contains(w.Ciphertext, got[0]) {
		t.Fatalf("stored %+v", w)
	}
	later, err := datakey.Load(t.Context(), k, st, "key-1", "device-cookie", now.Add(time.Hour))
	if err != nil || !bytes.Equal(later, got[0]) {
		t.Fatalf("a later cold start: %v", err)
	}
	// Another name is another key.
	other, err := datakey.Load(t.Context(), k, st, "key-1", "other", now)
	if err != nil || bytes.Equal(other, got[0]) {
		t.Fatalf("another name: %v", err)
	}
}

// The race lost between reading nothing and storing: the loser uses the
// winner's key, not the one it generated.
func TestLostRaceReadsTheWinner(t *testing.T) {
	k := fakekms.New("key-1")
	st := &raceStore{Store: memory.New(), k: k}
	key, err := datakey.Load(t.Context(), k, st, "key-1", "device-cookie", now)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(key, st.winner) {
		t.Fatal("the loser of the race kept its own key")
	}
}

// raceStore stores another instance's key between the caller's first read
// and its create.
type raceStore struct {
	*memory.Store
	k      *fakekms.KMS
	winner []byte
}

func (s *raceStore) CreateWrappedKey(ctx context.Context, w domain.WrappedKey) error {
	if s.winner == nil {
		key, err := datakey.Load(ctx, s.k, s.Store, "key-1", w.Name, now)
		if err != nil {
			return err
		}
		s.winner = key
	}
	return s.Store.CreateWrappedKey(ctx, w)
}

// Unavailable KMS or table, a replaced KMS key, a ciphertext of another
// purpose: an error, never another key, and nothing stored.
func TestFailuresAreErrors(t *testing.T) {
	k := fakekms.New("key-1", "key-2")
	down := errors.New("connection refused")

	st := memory.New()
	if _, err := datakey.Load(t.Context(), failingKMS{k, down}, st, "key-1", "device-cookie", now); !errors.Is(err, down) {
		t.Fatalf("KMS down: %v", err)
	}
	if _, err := st.GetWrappedKey(t.Context(), "device-cookie"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("KMS down stored an item: %v", err)
	}
	if _, err := datakey.Load(t.Context(), k, failingStore{st, down}, "key-1", "device-cookie", now); !errors.Is(err, down) {
		t.Fatalf("table down: %v", err)
	}

	if _, err := datakey.Load(t.Context(), k, st, "key-1", "device-cookie", now); err != nil {
		t.Fatal(err)
	}
	if _, err := datakey.Load(t.Context(), failingKMS{k, down}, st, "key-1", "device-cookie", now); !errors.Is(err, down) {
		t.Fatalf("KMS down at decrypt: %v", err)
	}
	if _, err := datakey.Load(t.Context(), k, st, "key-2", "device-cookie", now); err == nil {
		t.Fatal("a ciphertext of key-1 decrypted under key-2")
	}
	// The ciphertext of another purpose, copied into this item.
	w, _ := st.GetWrappedKey(t.Context(), "device-cookie")
	w.Name = "other"
	if err := st.CreateWrappedKey(t.Context(), w); err != nil {
		t.Fatal(err)
	}
	if _, err := datakey.Load(t.Context(), k, st, "key-1", "other", now); err == nil {
		t.Fatal("a ciphertext decrypted under another encryption context")
	}
	if _, err := datakey.Load(t.Context(), k, st, "", "device-cookie", now); err == nil {
		t.Fatal("no key id, no error")
	}
}

type failingKMS struct {
	*fakekms.KMS
	err error
}

func (f failingKMS) GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return nil, f.err
}

func (f failingKMS) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return nil, f.err
}

type failingStore struct {
	*memory.Store
	err error
}

func (f failingStore) GetWrappedKey(context.Context, string) (domain.WrappedKey, error) {
	return domain.WrappedKey{}, f.err
}
