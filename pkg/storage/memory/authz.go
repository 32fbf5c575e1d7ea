package memory

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"orgauth/pkg/domain"
)

// Registered APIs, consents, and the listings of what a user or an
// application holds. Guarded by Store.mu; the maps are made on first write.

func cleanAPI(api domain.API) domain.API {
	scopes := make([]domain.APIScope, len(api.Scopes))
	for i, sc := range api.Scopes {
		sc.Roles = clone(sc.Roles)
		scopes[i] = sc
	}
	api.Scopes = clone(scopes)
	api.CreatedAt, api.UpdatedAt = api.CreatedAt.UTC(), api.UpdatedAt.UTC()
	return api
}

func (s *Store) CreateAPI(_ context.Context, api domain.API) error {
	if err := api.Validate(); err != nil {
		return fmt.Errorf("memory: create api: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apis[api.Audience]; ok {
		return fmt.Errorf("memory: api %q: %w", api.Audience, domain.ErrAlreadyExists)
	}
	api.Version = 1
	s.apis[api.Audience] = cleanAPI(api)
	return nil
}

func (s *Store) GetAPI(_ context.Context, audience string) (domain.API, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	api, ok := s.apis[audience]
	if !ok {
		return domain.API{}, fmt.Errorf("memory: api %q: %w", audience, domain.ErrNotFound)
	}
	return cleanAPI(api), nil
}

func (s *Store) UpdateAPI(_ context.Context, audience string, fn func(domain.API) (domain.API, error)) (domain.API, error) {
	valid := func(old domain.API) (domain.API, error) {
		next, err := fn(old)
		if err != nil {
			return next, err
		}
		if err := next.Validate(); err != nil {
			return next, fmt.Errorf("memory: update api: %w", err)
		}
		return next, nil
	}
	return update(s, s.apis, "api", audience, valid, checkAPIKeys, cleanAPI,
		func(a *domain.API) *int64 { return &a.Version })
}

func checkAPIKeys(old, new domain.API) error {
	switch {
	case new.Audience != old.Audience:
		return keyChanged("api", "Audience")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("api", "CreatedAt")
	}
	return nil
}

func (s *Store) DeleteAPI(_ context.Context, audience string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apis[audience]; !ok {
		return fmt.Errorf("memory: api %q: %w", audience, domain.ErrNotFound)
	}
	delete(s.apis, audience)
	return nil
}

func (s *Store) ListAPIs(_ context.Context) ([]domain.API, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.API, 0, len(s.apis))
	for _, api := range s.apis {
		out = append(out, cleanAPI(api))
	}
	slices.SortFunc(out, func(a, b domain.API) int { return strings.Compare(a.Audience, b.Audience) })
	return out, nil
}

// ---------------------------------------------------------------- consents

type consentKey struct{ user, client string }

func cleanConsent(c domain.Consent) domain.Consent {
	c.Scopes = domain.MergeScopes(c.Scopes)
	c.GrantedAt, c.UpdatedAt = c.GrantedAt.UTC(), c.UpdatedAt.UTC()
	return c
}

func (s *Store) PutConsent(_ context.Context, c domain.Consent) (domain.Consent, error) {
	if !domain.ValidID(c.UserID) || !domain.ValidID(c.ClientID) || c.OrganizationID == "" ||
		len(domain.MergeScopes(c.Scopes)) == 0 || c.GrantedAt.IsZero() {
		return domain.Consent{}, errors.New("memory: consent without user, client, organization, scopes or time")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := consentKey{c.UserID, c.ClientID}
	next := cleanConsent(c)
	next.UpdatedAt = next.GrantedAt
	if old, ok := s.consents[k]; ok {
		next.GrantedAt = old.GrantedAt
		next.Scopes = domain.MergeScopes(old.Scopes, next.Scopes)
	}
	s.consents[k] = next
	return cleanConsent(next), nil
}

func (s *Store) GetConsent(_ context.Context, userID, clientID string) (domain.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.consents[consentKey{userID, clientID}]
	if !ok {
		return domain.Consent{}, fmt.Errorf("memory: consent: %w", domain.ErrNotFound)
	}
	return cleanConsent(c), nil
}

func (s *Store) ListConsents(_ context.Context, userID string) ([]domain.Consent, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.Consent
	for k, c := range s.consents {
		if k.user == userID {
			out = append(out, cleanConsent(c))
		}
	}
	slices.SortFunc(out, func(a, b domain.Consent) int { return strings.Compare(a.ClientID, b.ClientID) })
	return out, nil
}

func (s *Store) DeleteConsent(_ context.Context, userID, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := consentKey{userID, clientID}
	if _, ok := s.consents[k]; !ok {
		return fmt.Errorf("memory: consent: %w", domain.ErrNotFound)
	}
	delete(s.consents, k)
	return nil
}

// ---------------------------------------------------------------- holdings

func (s *Store) ListClientRefreshFamilies(_ context.Context, clientID string, now time.Time) ([]domain.RefreshFamily, error) {
	return s.liveFamilies(now, func(f domain.RefreshFamily) bool { return f.ClientID == clientID }), nil
}

func (s *Store) ListUserRefreshFamilies(_ context.Context, userID string, now time.Time) ([]domain.RefreshFamily, error) {
	return s.liveFamilies(now, func(f domain.RefreshFamily) bool { return userID != "" && f.UserID == userID }), nil
}

func (s *Store) liveFamilies(now time.Time, match func(domain.RefreshFamily) bool) []domain.RefreshFamily {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.RefreshFamily
	for _, f := range s.flows.families {
		if match(f) && !f.Revoked && now.Before(f.ExpiresAt) {
			out = append(out, cleanFamily(f))
		}
	}
	slices.SortFunc(out, func(a, b domain.RefreshFamily) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out
}

func (s *Store) ListUserSessions(_ context.Context, userID string, now time.Time) ([]domain.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.Session
	for _, ss := range s.sessions.sessions {
		if userID != "" && ss.UserID == userID && now.Before(ss.ExpiresAt) {
			ss.Hash = bytes.Clone(ss.Hash)
			out = append(out, ss)
		}
	}
	slices.SortFunc(out, func(a, b domain.Session) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// TransferApplication gives an application to another creator.
func (s *Store) TransferApplication(_ context.Context, clientID, from, to string, at time.Time) (domain.Application, error) {
	if to == "" {
		return domain.Application{}, errors.New("memory: transfer to nobody")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[clientID]
	if !ok {
		return domain.Application{}, fmt.Errorf("memory: application %q: %w", clientID, domain.ErrNotFound)
	}
	if a.CreatedBy != from {
		return domain.Application{}, fmt.Errorf("memory: application %q is not %q's: %w", clientID, from, domain.ErrConflict)
	}
	a.CreatedBy, a.UpdatedAt, a.Version = to, at.UTC(), a.Version+1
	s.apps[clientID] = a
	return cleanApp(a), nil
}
