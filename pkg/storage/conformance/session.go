package conformance

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// sessionCases check storage.Sessions: login transactions, sessions and failure counters.
var sessionCases = []testCase[storage.Sessions]{
	{"LoginTransactionRoundTrip", loginTransactionRoundTrip},
	{"LoginTransactionExpiry", loginTransactionExpiry},
	{"LoginTransactionSingleUse", loginTransactionSingleUse},
	{"LoginTransactionConcurrentConsume", loginTransactionConcurrentConsume},
	{"LoginTransactionConcurrentCreate", loginTransactionConcurrentCreate},
	{"SessionRoundTrip", sessionRoundTrip},
	{"SessionExpiry", sessionExpiry},
	{"FailureCounter", failureCounter},
	{"IncompleteRefused", sessionsIncompleteRefused},
}

func sampleTransaction() domain.LoginTransaction {
	_, csrf := domain.NewSecret()
	return domain.LoginTransaction{
		ID: domain.NewID(), ClientID: "client-1", RedirectURI: "https://app.example.com/callback?x=1",
		State: "st&=ate", Nonce: "n-0S6", CodeChallenge: "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Scopes: []string{"openid", "profile", "read"}, Audience: "https://api.example.com", Prompt: "login",
		LoginHint: "ada@example.com", ResponseMode: "web_message", MaxAge: 300, CSRFHash: csrf, OrganizationID: "org-1", UserID: "user-1",
		CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute),
	}
}

func equalTransactions(t *testing.T, got, want domain.LoginTransaction) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("times: got %v %v, want %v %v", got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt)
	}
	got.CreatedAt, got.ExpiresAt = want.CreatedAt, want.ExpiresAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("transaction:\n got %+v\nwant %+v", got, want)
	}
}

func loginTransactionRoundTrip(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	tx := sampleTransaction()
	if err := s.CreateLoginTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateLoginTransaction(ctx, tx); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetLoginTransaction(ctx, tx.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	equalTransactions(t, got, tx)
	// Absent optional fields read back as absent; MaxAge -1 survives.
	min := domain.LoginTransaction{ID: domain.NewID(), ClientID: "c", RedirectURI: "http://127.0.0.1/cb",
		CodeChallenge: "x", CSRFHash: []byte{1}, OrganizationID: "o", MaxAge: -1, CreatedAt: base, ExpiresAt: base.Add(time.Minute)}
	if err := s.CreateLoginTransaction(ctx, min); err != nil {
		t.Fatal(err)
	}
	got, err = s.GetLoginTransaction(ctx, min.ID, base)
	if err != nil {
		t.Fatal(err)
	}
	// A transaction id from a form may be anything; a malformed one is a
	// miss, not an error.
	long := strings.Repeat("x", 3000)
	if _, err := s.GetLoginTransaction(ctx, long, base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get with a 3000-character id: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeLoginTransaction(ctx, long, base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("consume with a 3000-character id: %v, want ErrNotFound", err)
	}
	equalTransactions(t, got, min)
	if _, err := s.GetLoginTransaction(ctx, "no-such-transaction", base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get missing: %v, want ErrNotFound", err)
	}
}

func loginTransactionExpiry(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	tx := sampleTransaction()
	if err := s.CreateLoginTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetLoginTransaction(ctx, tx.ID, tx.ExpiresAt.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	if _, err := s.GetLoginTransaction(ctx, tx.ID, tx.ExpiresAt); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get at expiry: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeLoginTransaction(ctx, tx.ID, tx.ExpiresAt.Add(time.Second)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("consume after expiry: %v, want ErrNotFound", err)
	}
}

func loginTransactionSingleUse(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	tx := sampleTransaction()
	if err := s.CreateLoginTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	got, err := s.ConsumeLoginTransaction(ctx, tx.ID, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	equalTransactions(t, got, tx)
	if _, err := s.ConsumeLoginTransaction(ctx, tx.ID, base.Add(time.Minute)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second consume: %v, want ErrNotFound", err)
	}
	if _, err := s.GetLoginTransaction(ctx, tx.ID, base.Add(time.Minute)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get after consume: %v, want ErrNotFound", err)
	}
	if _, err := s.ConsumeLoginTransaction(ctx, "no-such-transaction", base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("consume missing: %v, want ErrNotFound", err)
	}
}

func loginTransactionConcurrentConsume(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	tx := sampleTransaction()
	if err := s.CreateLoginTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	oneWins(t, 8, domain.ErrNotFound, func() error {
		_, err := s.ConsumeLoginTransaction(ctx, tx.ID, base)
		return err
	})
}

// loginTransactionConcurrentCreate: creating a transaction is a put if
// absent, also under a race. Sign-in relies on it for its used-markers
// (a pending login transaction's, a sealed SSO state's): a minimal item
// with an id and an expiry, of which exactly one of concurrent writers
// gets to write it, and which a read finds until it expires.
func loginTransactionConcurrentCreate(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	marker := domain.LoginTransaction{ID: "used-" + domain.NewID(), ClientID: "client-1", OrganizationID: "org-1",
		CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute)}
	oneWins(t, 8, domain.ErrAlreadyExists, func() error { return s.CreateLoginTransaction(ctx, marker) })
	if _, err := s.GetLoginTransaction(ctx, marker.ID, marker.ExpiresAt.Add(-time.Second)); err != nil {
		t.Fatalf("read the marker: %v", err)
	}
	if _, err := s.GetLoginTransaction(ctx, marker.ID, marker.ExpiresAt); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("read the marker at its expiry: %v, want ErrNotFound", err)
	}
}

func sampleSession() (domain.Session, []byte) {
	_, hash := domain.NewSecret()
	return domain.Session{
		Hash: hash, ID: domain.NewID(), UserID: "user-1", OrganizationID: "org-1",
		AuthTime: base.Add(-time.Minute), CreatedAt: base, ExpiresAt: base.Add(12 * time.Hour),
		AuthMethod: domain.AuthSSO, AuthIssuer: "https://idp.example.com/tenant",
	}, hash
}

func sessionRoundTrip(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	sess, hash := sampleSession()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, sess); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetSession(ctx, bytes.Clone(hash), base)
	if err != nil {
		t.Fatal(err)
	}
	if !got.AuthTime.Equal(sess.AuthTime) || !got.CreatedAt.Equal(sess.CreatedAt) || !got.ExpiresAt.Equal(sess.ExpiresAt) {
		t.Fatalf("times: got %+v, want %+v", got, sess)
	}
	got.AuthTime, got.CreatedAt, got.ExpiresAt = sess.AuthTime, sess.CreatedAt, sess.ExpiresAt
	if !reflect.DeepEqual(got, sess) {
		t.Fatalf("session:\n got %+v\nwant %+v", got, sess)
	}
	_, other := domain.NewSecret()
	if _, err := s.GetSession(ctx, other, base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get other hash: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, hash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, hash, base); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get after delete: %v, want ErrNotFound", err)
	}
	if err := s.DeleteSession(ctx, hash); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
}

func sessionExpiry(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	sess, hash := sampleSession()
	if err := s.CreateSession(ctx, sess); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, hash, sess.ExpiresAt.Add(-time.Nanosecond)); err != nil {
		t.Fatalf("just before expiry: %v", err)
	}
	if _, err := s.GetSession(ctx, hash, sess.ExpiresAt); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get at expiry: %v, want ErrNotFound", err)
	}
}

func failureCounter(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	const window = 15 * time.Minute
	// Windows count from the Unix epoch (time.Truncate counts from the zero time).
	start := time.Unix(base.Unix()-base.Unix()%int64(window/time.Second), 0)
	at := start.Add(time.Minute)
	if n, err := s.Failures(ctx, "account:a", window, at); err != nil || n != 0 {
		t.Fatalf("fresh counter = %d, %v; want 0", n, err)
	}
	for want := int64(1); want <= 3; want++ {
		n, err := s.CountFailure(ctx, "account:a", window, at.Add(time.Duration(want)*time.Second))
		if err != nil || n != want {
			t.Fatalf("CountFailure = %d, %v; want %d", n, err, want)
		}
	}
	if n, err := s.Failures(ctx, "account:a", window, start.Add(window-time.Nanosecond)); err != nil || n != 3 {
		t.Fatalf("Failures at the end of the window = %d, %v; want 3", n, err)
	}
	// An attempt counted before it was checked, then taken back.
	if err := s.ForgetFailure(ctx, "account:a", window, at.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Failures(ctx, "account:a", window, at.Add(5*time.Second)); err != nil || n != 2 {
		t.Fatalf("after ForgetFailure = %d, %v; want 2", n, err)
	}
	if n, err := s.CountFailure(ctx, "account:a", window, at.Add(6*time.Second)); err != nil || n != 3 {
		t.Fatalf("CountFailure after ForgetFailure = %d, %v; want 3", n, err)
	}
	// Never below zero, and a key without a counter stays without one.
	for range 2 {
		if err := s.ForgetFailure(ctx, "account:never", window, at); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := s.CountFailure(ctx, "account:never", window, at); err != nil || n != 1 {
		t.Fatalf("CountFailure after forgetting nothing = %d, %v; want 1", n, err)
	}
	if n, err := s.Failures(ctx, "ip:203.0.113.10", window, at); err != nil || n != 0 {
		t.Fatalf("another key = %d, %v; want 0", n, err)
	}
	// The next window starts from zero.
	next := start.Add(window)
	if n, err := s.Failures(ctx, "account:a", window, next); err != nil || n != 0 {
		t.Fatalf("next window = %d, %v; want 0", n, err)
	}
	if n, err := s.CountFailure(ctx, "account:a", window, next); err != nil || n != 1 {
		t.Fatalf("CountFailure in the next window = %d, %v; want 1", n, err)
	}
	// Concurrent failures are all counted.
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := s.CountFailure(ctx, "ip:198.51.100.7", window, at); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if n, err := s.Failures(ctx, "ip:198.51.100.7", window, at); err != nil || n != 10 {
		t.Fatalf("after 10 concurrent failures = %d, %v", n, err)
	}
}

// sessionsIncompleteRefused: an item without its key or its expiry could
// never be found or would never expire, and a window under a second has no
// start; each is refused, and nothing is stored.
func sessionsIncompleteRefused(t *testing.T, s storage.Sessions) {
	ctx := context.Background()
	noID := sampleTransaction()
	noID.ID = ""
	noExpiry := sampleTransaction()
	noExpiry.ExpiresAt = time.Time{}
	for name, tx := range map[string]domain.LoginTransaction{"without id": noID, "without expiry": noExpiry} {
		if err := s.CreateLoginTransaction(ctx, tx); err == nil {
			t.Errorf("login transaction %s was stored", name)
		}
	}
	if _, err := s.GetLoginTransaction(ctx, noExpiry.ID, base); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("refused transaction: get gave %v, want ErrNotFound", err)
	}
	noHash, _ := sampleSession()
	noHash.Hash = nil
	sess, hash := sampleSession()
	sess.ExpiresAt = time.Time{}
	for name, ss := range map[string]domain.Session{"without hash": noHash, "without expiry": sess} {
		if err := s.CreateSession(ctx, ss); err == nil {
			t.Errorf("session %s was stored", name)
		}
	}
	if _, err := s.GetSession(ctx, hash, base); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("refused session: get gave %v, want ErrNotFound", err)
	}
	for _, window := range []time.Duration{0, 999 * time.Millisecond} {
		if _, err := s.CountFailure(ctx, "account:a", window, base); err == nil {
			t.Errorf("CountFailure with a %v window was accepted", window)
		}
		if _, err := s.Failures(ctx, "account:a", window, base); err == nil {
			t.Errorf("Failures with a %v window was accepted", window)
		}
		if err := s.ForgetFailure(ctx, "account:a", window, base); err == nil {
			t.Errorf("ForgetFailure with a %v window was accepted", window)
		}
	}
}
