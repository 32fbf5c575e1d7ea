package domain_test

import (
	"errors"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

func TestMaySignIn(t *testing.T) {
	boom := errors.New("table down")
	member := domain.User{ID: "u1", OrganizationID: "org1"}
	disabled := domain.User{ID: "u2", OrganizationID: "org1", Disabled: true}
	for _, tc := range []struct {
		name    string
		user    domain.User
		readErr error
		org     string
		want    error
		refusal bool
	}{
		{"member", member, nil, "org1", nil, false},
		{"other organization", member, nil, "org2", domain.ErrUserNotMember, true},
		{"disabled", disabled, nil, "org1", domain.ErrUserDisabled, true},
		{"disabled, other organization", disabled, nil, "org2", domain.ErrUserDisabled, true},
		{"gone", domain.User{}, domain.ErrNotFound, "org1", domain.ErrUserGone, true},
		{"read failure", domain.User{}, boom, "org1", boom, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u, err := domain.SignInUser(tc.user, tc.readErr, tc.org)
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Fatalf("SignInUser = %v, want %v", err, tc.want)
			}
			if got := domain.IsSignInRefusal(err); got != tc.refusal {
				t.Errorf("IsSignInRefusal(%v) = %v, want %v", err, got, tc.refusal)
			}
			if err == nil && u.ID != tc.user.ID {
				t.Errorf("SignInUser returned user %q, want %q", u.ID, tc.user.ID)
			}
			if err != nil && u.ID != "" {
				t.Errorf("a refused user was returned: %q", u.ID)
			}
			if tc.readErr == nil {
				if err := tc.user.MaySignIn(tc.org); !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
					t.Errorf("MaySignIn = %v, want %v", err, tc.want)
				}
			}
		})
	}
}

func TestRefreshTokenUsable(t *testing.T) {
	now := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	live := domain.RefreshToken{FamilyID: "f1", IdleExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(24 * time.Hour)}
	fam := domain.RefreshFamily{ID: "f1", ExpiresAt: now.Add(24 * time.Hour)}
	with := func(edit func(*domain.RefreshToken, *domain.RefreshFamily)) (domain.RefreshToken, domain.RefreshFamily) {
		t, f := live, fam
		edit(&t, &f)
		return t, f
	}
	for _, tc := range []struct {
		name string
		edit func(*domain.RefreshToken, *domain.RefreshFamily)
		want error
	}{
		{"live", func(*domain.RefreshToken, *domain.RefreshFamily) {}, nil},
		{"family revoked", func(_ *domain.RefreshToken, f *domain.RefreshFamily) { f.Revoked = true }, domain.ErrRefreshRevoked},
		{"another family", func(_ *domain.RefreshToken, f *domain.RefreshFamily) { f.ID = "f2" }, domain.ErrRefreshRevoked},
		{"revoked beats rotated", func(t *domain.RefreshToken, f *domain.RefreshFamily) { f.Revoked, t.RotatedAt = true, now }, domain.ErrRefreshRevoked},
		{"family ended", func(_ *domain.RefreshToken, f *domain.RefreshFamily) { f.ExpiresAt = now }, domain.ErrRefreshExpired},
		{"rotated", func(t *domain.RefreshToken, _ *domain.RefreshFamily) { t.RotatedAt = now.Add(-time.Second) }, domain.ErrRefreshRotated},
		{"idle at the instant", func(t *domain.RefreshToken, _ *domain.RefreshFamily) { t.IdleExpiresAt = now }, domain.ErrRefreshIdle},
		{"idle a second before", func(t *domain.RefreshToken, _ *domain.RefreshFamily) { t.IdleExpiresAt = now.Add(time.Second) }, nil},
		{"absolute end", func(t *domain.RefreshToken, _ *domain.RefreshFamily) { t.AbsoluteExpiresAt = now }, domain.ErrRefreshExpired},
		{"no absolute end recorded", func(t *domain.RefreshToken, f *domain.RefreshFamily) {
			t.AbsoluteExpiresAt, f.ExpiresAt = time.Time{}, time.Time{}
		}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rt, f := with(tc.edit)
			if err := rt.Usable(f, now); err != tc.want {
				t.Fatalf("Usable = %v, want %v", err, tc.want)
			}
		})
	}
}
