package conformance

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// ssoCases check storage.SSO.
var ssoCases = []testCase[storage.SSO]{
	{"TransactionSingleUse", ssoTransactionSingleUse},
	{"TransactionReadWithoutConsuming", ssoTransactionRead},
	{"TransactionExpiry", ssoTransactionExpiry},
	{"TransactionConcurrentConsume", ssoTransactionConcurrentConsume},
	{"UpstreamLinks", upstreamLinks},
	{"IncompleteRefused", ssoIncompleteRefused},
}

func sampleSSOTransaction() domain.SSOTransaction {
	_, binding := domain.NewSecret()
	return domain.SSOTransaction{
		State: domain.NewID(), LoginTransactionID: domain.NewID(), OrganizationID: "org-1", ClientID: "client-1",
		Nonce: "n-" + domain.NewID(), BindingHash: binding, CreatedAt: base, ExpiresAt: base.Add(10 * time.Minute),
		Issuer: "https://idp.example.com", RedirectURI: "https://auth.example.com/callback/org-1",
	}
}

func sameSSOTransaction(t *testing.T, got, want domain.SSOTransaction) {
	t.Helper()
	if !got.CreatedAt.Equal(want.CreatedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) {
		t.Fatalf("times: got %v %v, want %v %v", got.CreatedAt, got.ExpiresAt, want.CreatedAt, want.ExpiresAt)
	}
	got.CreatedAt, got.ExpiresAt = want.CreatedAt, want.ExpiresAt
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("SSO transaction:\n got %+v\nwant %+v", got, want)
	}
}

func ssoTransactionSingleUse(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	tx := sampleSSOTransaction()
	if err := s.CreateSSOTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSSOTransaction(ctx, tx); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second create: %v, want ErrAlreadyExists", err)
	}
	got, err := s.ConsumeSSOTransaction(ctx, tx.State, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sameSSOTransaction(t, got, tx)
	if _, err := s.ConsumeSSOTransaction(ctx, tx.State, base.Add(time.Minute)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second consume: %v, want ErrNotFound", err)
	}
	for _, state := range []string{"unknown", strings.Repeat("s", 3000), ""} {
		if _, err := s.ConsumeSSOTransaction(ctx, state, base); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("consume %.20q: %v, want ErrNotFound", state, err)
		}
	}
}

// GetSSOTransaction reads without consuming: the transaction is still
// there to consume after, and gone at its expiry.
func ssoTransactionRead(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	tx := sampleSSOTransaction()
	if err := s.CreateSSOTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		got, err := s.GetSSOTransaction(ctx, tx.State, base.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		sameSSOTransaction(t, got, tx)
	}
	if _, err := s.GetSSOTransaction(ctx, tx.State, tx.ExpiresAt); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get at expiry: %v, want ErrNotFound", err)
	}
	for _, state := range []string{"unknown", strings.Repeat("s", 3000), ""} {
		if _, err := s.GetSSOTransaction(ctx, state, base); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("get %.20q: %v, want ErrNotFound", state, err)
		}
	}
	got, err := s.ConsumeSSOTransaction(ctx, tx.State, base.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	sameSSOTransaction(t, got, tx)
	if _, err := s.GetSSOTransaction(ctx, tx.State, base.Add(time.Minute)); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("get after consume: %v, want ErrNotFound", err)
	}
}

func ssoTransactionExpiry(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	tx := sampleSSOTransaction()
	if err := s.CreateSSOTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ConsumeSSOTransaction(ctx, tx.State, tx.ExpiresAt); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("consume at expiry: %v, want ErrNotFound", err)
	}
}

func ssoTransactionConcurrentConsume(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	tx := sampleSSOTransaction()
	if err := s.CreateSSOTransaction(ctx, tx); err != nil {
		t.Fatal(err)
	}
	var won atomic.Int32
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.ConsumeSSOTransaction(ctx, tx.State, base); err == nil {
				won.Add(1)
			} else if !errors.Is(err, domain.ErrNotFound) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d callbacks consumed one transaction", won.Load())
	}
}

func upstreamLinks(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	l := domain.UpstreamLink{Issuer: "https://idp.example.com", Subject: "248289761001", UserID: "user-1", OrganizationID: "org-1", CreatedAt: base}
	if _, err := s.GetUpstreamLink(ctx, l.Issuer, l.Subject); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("before linking: %v, want ErrNotFound", err)
	}
	if err := s.LinkUpstream(ctx, l); err != nil {
		t.Fatal(err)
	}
	again := l
	again.UserID = "user-2"
	if err := s.LinkUpstream(ctx, again); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second link: %v, want ErrAlreadyExists", err)
	}
	got, err := s.GetUpstreamLink(ctx, l.Issuer, l.Subject)
	if err != nil || !got.CreatedAt.Equal(l.CreatedAt) {
		t.Fatalf("link: %+v %v", got, err)
	}
	got.CreatedAt = l.CreatedAt
	if got != l {
		t.Fatalf("link:\n got %+v\nwant %+v", got, l)
	}
	// Issuer and subject are one identity: neither alone, nor their
	// concatenation split elsewhere, finds it. A subject as long as OIDC
	// allows (255) with a long issuer still makes a key.
	for _, id := range [][2]string{{l.Issuer, "other"}, {"https://idp.example.co", "m" + l.Subject}} {
		if _, err := s.GetUpstreamLink(ctx, id[0], id[1]); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("%v: %v, want ErrNotFound", id, err)
		}
	}
	long := domain.UpstreamLink{Issuer: "https://idp.example.com/" + strings.Repeat("t", 1500), Subject: strings.Repeat("s", 255), UserID: "user-3", CreatedAt: base}
	if err := s.LinkUpstream(ctx, long); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetUpstreamLink(ctx, long.Issuer, long.Subject); err != nil || got.UserID != "user-3" {
		t.Fatalf("long identity: %+v %v", got, err)
	}
}

// ssoIncompleteRefused: a transaction without state or expiry, and a link
// without issuer, subject or user, are refused, and nothing is stored.
func ssoIncompleteRefused(t *testing.T, s storage.SSO) {
	ctx := context.Background()
	noState := sampleSSOTransaction()
	noState.State = ""
	noExpiry := sampleSSOTransaction()
	noExpiry.ExpiresAt = time.Time{}
	for name, tx := range map[string]domain.SSOTransaction{"without state": noState, "without expiry": noExpiry} {
		if err := s.CreateSSOTransaction(ctx, tx); err == nil {
			t.Errorf("SSO transaction %s was stored", name)
		}
	}
	if _, err := s.ConsumeSSOTransaction(ctx, noExpiry.State, base); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("refused transaction: consume gave %v, want ErrNotFound", err)
	}
	link := domain.UpstreamLink{Issuer: "https://idp.example.com", Subject: "sub-1", UserID: "user-1", OrganizationID: "org-1", CreatedAt: base}
	for name, change := range map[string]func(*domain.UpstreamLink){
		"without issuer":  func(l *domain.UpstreamLink) { l.Issuer = "" },
		"without subject": func(l *domain.UpstreamLink) { l.Subject = "" },
		"without user":    func(l *domain.UpstreamLink) { l.UserID = "" },
	} {
		l := link
		change(&l)
		if err := s.LinkUpstream(ctx, l); err == nil {
			t.Errorf("upstream link %s was stored", name)
		}
	}
	if _, err := s.GetUpstreamLink(ctx, link.Issuer, link.Subject); !errors.Is(err, domain.ErrNotFound) {
		t.Errorf("refused link: get gave %v, want ErrNotFound", err)
	}
}
