package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"orgauth/pkg/domain"
)

// codeRetention matches pkg/storage/dynamo.CodeRetention: how long a redeemed code
// is remembered past its expiry, to recognize replays.
const codeRetention = 24 * time.Hour

// flowState is the sign-in flow part of the store; its zero value is ready
// (maps are made on first write). Guarded by Store.mu.
type flowState struct {
	codes    map[string]domain.AuthorizationCode
	families map[string]domain.RefreshFamily
	refresh  map[string]domain.RefreshToken
	jtis     map[string]time.Time
}

func hkey(hash []byte) string { return string(hash) }

func cleanCode(c domain.AuthorizationCode) domain.AuthorizationCode {
	c.Hash = clone(c.Hash)
	c.Scopes = clone(c.Scopes)
	c.IssuedAccessJTIs = clone(c.IssuedAccessJTIs)
	c.AuthTime, c.ExpiresAt, c.RedeemedAt, c.ReplayedAt = c.AuthTime.UTC(), c.ExpiresAt.UTC(), c.RedeemedAt.UTC(), c.ReplayedAt.UTC()
	return c
}

func cleanFamily(f domain.RefreshFamily) domain.RefreshFamily {
	f.CreatedAt, f.ExpiresAt, f.RevokedAt = f.CreatedAt.UTC(), f.ExpiresAt.UTC(), f.RevokedAt.UTC()
	return f
}

func cleanRefresh(r domain.RefreshToken) domain.RefreshToken {
	r.Hash = clone(r.Hash)
	r.Scopes = clone(r.Scopes)
	r.AuthTime, r.IssuedAt, r.IdleExpiresAt = r.AuthTime.UTC(), r.IssuedAt.UTC(), r.IdleExpiresAt.UTC()
	r.AbsoluteExpiresAt, r.RotatedAt, r.AccessTokenExpiresAt = r.AbsoluteExpiresAt.UTC(), r.RotatedAt.UTC(), r.AccessTokenExpiresAt.UTC()
	return r
}

func (s *Store) CreateCode(_ context.Context, c domain.AuthorizationCode) error {
	if len(c.Hash) == 0 || c.ClientID == "" {
		return errors.New("memory: code hash or client id is empty")
	}
	c.RedeemedAt, c.ReplayedAt, c.IssuedFamilyID, c.IssuedAccessJTIs = time.Time{}, time.Time{}, "", nil
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flows.codes == nil {
		s.flows.codes = map[string]domain.AuthorizationCode{}
	}
	if _, ok := s.flows.codes[hkey(c.Hash)]; ok {
		return fmt.Errorf("memory: code: %w", domain.ErrAlreadyExists)
	}
	s.flows.codes[hkey(c.Hash)] = cleanCode(c)
	return nil
}

func (s *Store) RedeemCode(_ context.Context, hash []byte, now time.Time) (domain.AuthorizationCode, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.flows.codes[hkey(hash)]
	if !ok || !now.Before(c.ExpiresAt.Add(codeRetention)) {
		return domain.AuthorizationCode{}, fmt.Errorf("memory: code: %w", domain.ErrNotFound)
	}
	if !c.RedeemedAt.IsZero() {
		if c.ReplayedAt.IsZero() {
			c.ReplayedAt = now.UTC()
			s.flows.codes[hkey(hash)] = c
		}
		return cleanCode(c), fmt.Errorf("memory: code: %w", domain.ErrAlreadyUsed)
	}
	if !now.Before(c.ExpiresAt) {
		return domain.AuthorizationCode{}, fmt.Errorf("memory: code expired: %w", domain.ErrNotFound)
	}
	c.RedeemedAt = now.UTC()
	s.flows.codes[hkey(hash)] = c
	return cleanCode(c), nil
}

func (s *Store) RecordCodeIssue(_ context.Context, hash []byte, familyID string, jtis []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.flows.codes[hkey(hash)]
	if !ok || c.RedeemedAt.IsZero() {
		return fmt.Errorf("memory: code: %w", domain.ErrNotFound)
	}
	if !c.ReplayedAt.IsZero() {
		return fmt.Errorf("memory: code: replayed: %w", domain.ErrAlreadyUsed)
	}
	c.IssuedFamilyID, c.IssuedAccessJTIs = familyID, clone(jtis)
	s.flows.codes[hkey(hash)] = c
	return nil
}

func (s *Store) CreateRefreshFamily(_ context.Context, f domain.RefreshFamily) error {
	if f.ID == "" {
		return errors.New("memory: refresh family id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flows.families == nil {
		s.flows.families = map[string]domain.RefreshFamily{}
	}
	if _, ok := s.flows.families[f.ID]; ok {
		return fmt.Errorf("memory: refresh family: %w", domain.ErrAlreadyExists)
	}
	s.flows.families[f.ID] = cleanFamily(f)
	return nil
}

func (s *Store) GetRefreshFamily(_ context.Context, id string, now time.Time) (domain.RefreshFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flows.families[id]
	if !ok || !now.Before(f.ExpiresAt) {
		return domain.RefreshFamily{}, fmt.Errorf("memory: refresh family: %w", domain.ErrNotFound)
	}
	return f, nil
}

func (s *Store) RevokeRefreshFamily(_ context.Context, id string, now time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.flows.families[id]
	if !ok {
		return fmt.Errorf("memory: refresh family: %w", domain.ErrNotFound)
	}
	if !f.Revoked {
		f.Revoked, f.RevokedAt = true, now.UTC()
		s.flows.families[id] = f
	}
	return nil
}

func (s *Store) CreateRefreshToken(_ context.Context, r domain.RefreshToken) error {
	if len(r.Hash) == 0 || r.FamilyID == "" {
		return errors.New("memory: refresh token hash or family id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flows.refresh == nil {
		s.flows.refresh = map[string]domain.RefreshToken{}
	}
	if _, ok := s.flows.refresh[hkey(r.Hash)]; ok {
		return fmt.Errorf("memory: refresh token: %w", domain.ErrAlreadyExists)
	}
	s.flows.refresh[hkey(r.Hash)] = cleanRefresh(r)
	return nil
}

func (s *Store) GetRefreshToken(_ context.Context, hash []byte, now time.Time) (domain.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.flows.refresh[hkey(hash)]
	if !ok || !now.Before(r.AbsoluteExpiresAt) {
		return domain.RefreshToken{}, fmt.Errorf("memory: refresh token: %w", domain.ErrNotFound)
	}
	return cleanRefresh(r), nil
}

func (s *Store) RotateRefreshToken(_ context.Context, hash []byte, now time.Time) (domain.RefreshToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.flows.refresh[hkey(hash)]
	if !ok || !now.Before(r.AbsoluteExpiresAt) {
		return domain.RefreshToken{}, fmt.Errorf("memory: refresh token: %w", domain.ErrNotFound)
	}
	if !r.RotatedAt.IsZero() {
		return cleanRefresh(r), fmt.Errorf("memory: refresh token: %w", domain.ErrAlreadyUsed)
	}
	r.RotatedAt = now.UTC()
	s.flows.refresh[hkey(hash)] = r
	return cleanRefresh(r), nil
}

func (s *Store) ListRefreshTokens(_ context.Context, familyID string) ([]domain.RefreshToken, error) {
	s.mu.Lock()
	var out []domain.RefreshToken
	for _, r := range s.flows.refresh {
		if r.FamilyID == familyID {
			out = append(out, cleanRefresh(r))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b domain.RefreshToken) int {
		if c := a.IssuedAt.Compare(b.IssuedAt); c != 0 {
			return c
		}
		return cmp.Compare(string(a.Hash), string(b.Hash))
	})
	return out, nil
}

func (s *Store) RevokeJTI(_ context.Context, jti string, expiresAt time.Time) error {
	if jti == "" {
		return errors.New("memory: jti is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.flows.jtis == nil {
		s.flows.jtis = map[string]time.Time{}
	}
	if _, ok := s.flows.jtis[jti]; !ok {
		s.flows.jtis[jti] = expiresAt
	}
	return nil
}

func (s *Store) IsJTIRevoked(_ context.Context, jti string, now time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.flows.jtis[jti]
	return ok && now.Before(exp), nil
}
