package memory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"orgauth/pkg/domain"
)

// ssoState is the organization SSO part of the store. Guarded by Store.mu.
type ssoState struct {
	txs   map[string]domain.SSOTransaction
	links map[string]domain.UpstreamLink // key: issuer NUL subject
}

func (s *Store) CreateSSOTransaction(_ context.Context, tx domain.SSOTransaction) error {
	if tx.State == "" || tx.ExpiresAt.IsZero() {
		return errors.New("memory: SSO transaction without state or expiry")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.sso.txs[tx.State]; ok {
		return fmt.Errorf("memory: SSO transaction: %w", domain.ErrAlreadyExists)
	}
	tx.BindingHash = bytes.Clone(tx.BindingHash)
	tx.CreatedAt, tx.ExpiresAt = tx.CreatedAt.UTC(), tx.ExpiresAt.UTC()
	s.sso.txs[tx.State] = tx
	return nil
}

// GetSSOTransaction returns the transaction without consuming it.
func (s *Store) GetSSOTransaction(_ context.Context, state string, now time.Time) (domain.SSOTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.sso.txs[state]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.SSOTransaction{}, fmt.Errorf("memory: get SSO transaction: %w", domain.ErrNotFound)
	}
	tx.BindingHash = bytes.Clone(tx.BindingHash)
	return tx, nil
}

// ConsumeSSOTransaction deletes and returns the transaction under the lock,
// as DynamoDB's conditional DeleteItem does: one caller gets it.
func (s *Store) ConsumeSSOTransaction(_ context.Context, state string, now time.Time) (domain.SSOTransaction, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx, ok := s.sso.txs[state]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.SSOTransaction{}, fmt.Errorf("memory: consume SSO transaction: %w", domain.ErrNotFound)
	}
	delete(s.sso.txs, state)
	tx.BindingHash = bytes.Clone(tx.BindingHash)
	return tx, nil
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
