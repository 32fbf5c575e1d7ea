package memory

import (
	"context"
	"errors"
	"fmt"

	"orgauth/pkg/domain"
)

// ssoState is the organization SSO part of the store. Guarded by Store.mu.
type ssoState struct {
	links map[string]domain.UpstreamLink // key: issuer NUL subject
}

func (s *Store) LinkUpstream(_ context.Context, l domain.UpstreamLink) error {
	if l.Issuer == "" || l.Subject == "" || l.UserID == "" {
		return errors.New("memory: upstream link without issuer, subject or user")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := l.Issuer + "\x00" + l.Subject
	if _, ok := s.sso.links[k]; ok {
		return fmt.Errorf("memory: upstream link: %w", domain.ErrAlreadyExists)
	}
	l.CreatedAt = l.CreatedAt.UTC()
	s.sso.links[k] = l
	return nil
}

func (s *Store) GetUpstreamLink(_ context.Context, issuer, subject string) (domain.UpstreamLink, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, ok := s.sso.links[issuer+"\x00"+subject]
	if !ok {
		return domain.UpstreamLink{}, fmt.Errorf("memory: upstream link: %w", domain.ErrNotFound)
	}
	return l, nil
}
