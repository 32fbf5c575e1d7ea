package conformance

import (
	"context"
	"errors"
	"strings"
	"testing"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// ssoCases check storage.SSO.
var ssoCases = []testCase[storage.SSO]{
	{"UpstreamLinks", upstreamLinks},
	{"IncompleteRefused", ssoIncompleteRefused},
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

// ssoIncompleteRefused: a link without issuer, subject or user is
// refused, and nothing is stored.
func ssoIncompleteRefused(t *testing.T, s storage.SSO) {
	ctx := context.Background()
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
