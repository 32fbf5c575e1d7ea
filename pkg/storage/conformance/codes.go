package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

func newCode(value string) domain.AuthorizationCode {
	return domain.AuthorizationCode{
		Hash:           domain.HashSecret(value),
		ClientID:       "spa-1",
		UserID:         "user-1",
		OrganizationID: "org-1",
		RedirectURI:    "https://app.example/cb",
		CodeChallenge:  "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
		Nonce:          "n-0S6_WzA2Mj",
		Scopes:         []string{"openid", "email", "offline_access"},
		Audience:       "https://api.example.com",
		AuthTime:       base.Add(-time.Minute),
		SessionID:      "sess-1",
		ExpiresAt:      base.Add(time.Minute),
	}
}

func newFamily(id string) domain.RefreshFamily {
	return domain.RefreshFamily{
		ID: id, ClientID: "spa-1", UserID: "user-1", OrganizationID: "org-1", SessionID: "session-of-" + id,
		CreatedAt: base, ExpiresAt: base.Add(30 * 24 * time.Hour),
	}
}

func newRefresh(value, familyID string, n int) domain.RefreshToken {
	at := base.Add(time.Duration(n) * time.Minute)
	return domain.RefreshToken{
		Hash: domain.HashSecret(value), FamilyID: familyID, ClientID: "spa-1", UserID: "user-1", OrganizationID: "org-1",
		Scopes: []string{"openid", "offline_access"}, Audience: "https://api.example.com", AuthTime: base.Add(-time.Minute),
		IssuedAt: at, IdleExpiresAt: at.Add(7 * 24 * time.Hour), AbsoluteExpiresAt: base.Add(30 * 24 * time.Hour),
		AccessTokenID: "jti-" + value, AccessTokenExpiresAt: at.Add(time.Hour),
	}
}

// codeCases check storage.Codes: authorization codes, refresh families and revoked jtis.
var codeCases = []testCase[storage.Codes]{
	{"CodeRedeemOnce", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		c := newCode("code-1")
		must(t, s.CreateCode(ctx, c))
		wantErr(t, s.CreateCode(ctx, c), domain.ErrAlreadyExists)
		now := base.Add(10*time.Second + 123)
		got, err := s.RedeemCode(ctx, c.Hash, now)
		must(t, err)
		want := c
		want.RedeemedAt = now
		same(t, got, want)

		wantErr(t, s.RecordCodeIssue(ctx, domain.HashSecret("nope"), "fam", nil), domain.ErrNotFound)
		must(t, s.RecordCodeIssue(ctx, c.Hash, "fam-1", []string{"jti-a", "jti-b"}))
		again, err := s.RedeemCode(ctx, c.Hash, now.Add(time.Second))
		wantErr(t, err, domain.ErrAlreadyUsed)
		want.IssuedFamilyID, want.IssuedAccessJTIs = "fam-1", []string{"jti-a", "jti-b"}
		want.ReplayedAt = now.Add(time.Second)
		same(t, again, want)
		// A replay long after expiry is still recognized.
		_, err = s.RedeemCode(ctx, c.Hash, base.Add(time.Hour))
		wantErr(t, err, domain.ErrAlreadyUsed)
	}},
	{"CodeReplayBeforeRecord", func(t *testing.T, s storage.Codes) {
		// A replay between the redemption and its record marks the code:
		// the record then fails, so nothing is issued that the replay
		// could not revoke.
		ctx := context.Background()
		c := newCode("code-replay")
		must(t, s.CreateCode(ctx, c))
		_, err := s.RedeemCode(ctx, c.Hash, base)
		must(t, err)
		replay, err := s.RedeemCode(ctx, c.Hash, base.Add(time.Second))
		wantErr(t, err, domain.ErrAlreadyUsed)
		if !replay.ReplayedAt.Equal(base.Add(time.Second)) || replay.IssuedFamilyID != "" {
			t.Fatalf("replay returned %+v", replay)
		}
		wantErr(t, s.RecordCodeIssue(ctx, c.Hash, "fam-x", []string{"jti-x"}), domain.ErrAlreadyUsed)
		again, err := s.RedeemCode(ctx, c.Hash, base.Add(2*time.Second))
		wantErr(t, err, domain.ErrAlreadyUsed)
		if again.IssuedFamilyID != "" || len(again.IssuedAccessJTIs) != 0 || !again.ReplayedAt.Equal(base.Add(time.Second)) {
			t.Fatalf("a refused record was noted: %+v", again)
		}
	}},
	{"CodeConcurrentReplayAndRecord", func(t *testing.T, s storage.Codes) {
		// Under real concurrency: either the record fails, or every replay
		// that ran returned it.
		ctx := context.Background()
		refused := 0
		for round := range 10 {
			c := newCode(fmt.Sprintf("code-race-%d", round))
			must(t, s.CreateCode(ctx, c))
			_, err := s.RedeemCode(ctx, c.Hash, base)
			must(t, err)
			const n = 4
			var wg sync.WaitGroup
			replays := make([]domain.AuthorizationCode, n)
			errs := make([]error, n)
			var recordErr error
			start := make(chan struct{})
			wg.Add(n + 1)
			go func() {
				defer wg.Done()
				<-start
				recordErr = s.RecordCodeIssue(ctx, c.Hash, "fam-race", []string{"jti-race"})
			}()
			for i := range n {
				go func() {
					defer wg.Done()
					<-start
					replays[i], errs[i] = s.RedeemCode(ctx, c.Hash, base.Add(time.Second))
				}()
			}
			close(start)
			wg.Wait()
			for i, err := range errs {
				wantErr(t, err, domain.ErrAlreadyUsed)
				if recordErr == nil && replays[i].IssuedFamilyID != "fam-race" {
					// This replay did not see the record, so it came first
					// and marked the code: the record had to fail.
					t.Fatalf("round %d: the record succeeded after a replay that saw none of it: %+v", round, replays[i])
				}
			}
			if recordErr != nil {
				wantErr(t, recordErr, domain.ErrAlreadyUsed)
				refused++
			}
		}
		t.Logf("%d of 10 records refused by a racing replay", refused)
	}},
	{"CodeUnknownOrExpired", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		_, err := s.RedeemCode(ctx, domain.HashSecret("ghost"), base)
		wantErr(t, err, domain.ErrNotFound)
		c := newCode("code-2")
		must(t, s.CreateCode(ctx, c))
		_, err = s.RedeemCode(ctx, c.Hash, c.ExpiresAt)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.RecordCodeIssue(ctx, c.Hash, "fam", nil), domain.ErrNotFound)
		// Still unusable: expiry does not turn into "already used".
		_, err = s.RedeemCode(ctx, c.Hash, c.ExpiresAt.Add(-time.Nanosecond))
		if err != nil {
			t.Fatalf("redeem just before expiry: %v", err)
		}
	}},
	{"CodeConcurrentRedeem", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		c := newCode("code-3")
		must(t, s.CreateCode(ctx, c))
		oneWins(t, 8, domain.ErrAlreadyUsed, func() error {
			_, err := s.RedeemCode(ctx, c.Hash, base)
			return err
		})
	}},
	{"RefreshFamily", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		f := newFamily("fam-1")
		must(t, s.CreateRefreshFamily(ctx, f))
		wantErr(t, s.CreateRefreshFamily(ctx, f), domain.ErrAlreadyExists)
		got, err := s.GetRefreshFamily(ctx, f.ID, base)
		must(t, err)
		same(t, got, f)
		_, err = s.GetRefreshFamily(ctx, f.ID, f.ExpiresAt)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetRefreshFamily(ctx, "ghost", base)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.RevokeRefreshFamily(ctx, "ghost", base), domain.ErrNotFound)

		at := base.Add(time.Hour + 5)
		must(t, s.RevokeRefreshFamily(ctx, f.ID, at))
		must(t, s.RevokeRefreshFamily(ctx, f.ID, at.Add(time.Hour)))
		got, err = s.GetRefreshFamily(ctx, f.ID, base)
		must(t, err)
		f.Revoked, f.RevokedAt = true, at
		same(t, got, f)
	}},
	{"RefreshRotateOnce", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		must(t, s.CreateRefreshFamily(ctx, newFamily("fam-2")))
		r := newRefresh("rt-1", "fam-2", 0)
		must(t, s.CreateRefreshToken(ctx, r))
		wantErr(t, s.CreateRefreshToken(ctx, r), domain.ErrAlreadyExists)
		got, err := s.GetRefreshToken(ctx, r.Hash, base)
		must(t, err)
		same(t, got, r)

		now := base.Add(time.Minute + 7)
		got, err = s.RotateRefreshToken(ctx, r.Hash, now)
		must(t, err)
		r.RotatedAt = now
		same(t, got, r)
		got, err = s.RotateRefreshToken(ctx, r.Hash, now.Add(time.Second))
		wantErr(t, err, domain.ErrAlreadyUsed)
		same(t, got, r)

		_, err = s.RotateRefreshToken(ctx, domain.HashSecret("ghost"), now)
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetRefreshToken(ctx, r.Hash, r.AbsoluteExpiresAt)
		wantErr(t, err, domain.ErrNotFound)
		r2 := newRefresh("rt-2", "fam-2", 1)
		must(t, s.CreateRefreshToken(ctx, r2))
		_, err = s.RotateRefreshToken(ctx, r2.Hash, r2.AbsoluteExpiresAt)
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"RefreshConcurrentRotate", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		r := newRefresh("rt-c", "fam-c", 0)
		must(t, s.CreateRefreshToken(ctx, r))
		oneWins(t, 8, domain.ErrAlreadyUsed, func() error {
			_, err := s.RotateRefreshToken(ctx, r.Hash, base)
			return err
		})
	}},
	{"RefreshListFamily", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		var want []domain.RefreshToken
		for i, v := range []string{"a", "b", "c"} {
			r := newRefresh("list-"+v, "fam-l", 2-i) // created out of order
			must(t, s.CreateRefreshToken(ctx, r))
			want = append([]domain.RefreshToken{r}, want...)
		}
		must(t, s.CreateRefreshToken(ctx, newRefresh("other", "fam-other", 0)))
		got, err := s.ListRefreshTokens(ctx, "fam-l")
		must(t, err)
		sameList(t, got, want)
		got, err = s.ListRefreshTokens(ctx, "fam-none")
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("empty family listed %d tokens", len(got))
		}
	}},
	{"RevokedJTI", func(t *testing.T, s storage.Codes) {
		ctx := context.Background()
		exp := base.Add(time.Hour).Truncate(time.Second)
		if ok, err := s.IsJTIRevoked(ctx, "jti-1", base); err != nil || ok {
			t.Fatalf("unrevoked jti: %v %v", ok, err)
		}
		must(t, s.RevokeJTI(ctx, "jti-1", exp))
		must(t, s.RevokeJTI(ctx, "jti-1", exp))
		if ok, err := s.IsJTIRevoked(ctx, "jti-1", base); err != nil || !ok {
			t.Fatalf("revoked jti: %v %v", ok, err)
		}
		if ok, err := s.IsJTIRevoked(ctx, "jti-1", exp); err != nil || ok {
			t.Fatalf("revocation outlived the token: %v %v", ok, err)
		}
		if ok, _ := s.IsJTIRevoked(ctx, "jti-2", base); ok {
			t.Fatal("another jti is revoked")
		}
	}},
}
