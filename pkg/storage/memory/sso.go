package memory

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage/conformance"
)

var _ conformance.SSOStore = (*SessionStore)(nil)

func (m *SessionStore) CreateSSOTransaction(_ context.Context, tx domain.SSOTransaction) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.ssoTxs[tx.State]; ok {
		return fmt.Errorf("memstore: SSO transaction: %w", domain.ErrAlreadyExists)
	}
	tx.BindingHash = bytes.Clone(tx.BindingHash)
	tx.CreatedAt, tx.ExpiresAt = tx.CreatedAt.UTC(), tx.ExpiresAt.UTC()
	m.ssoTxs[tx.State] = tx
	return nil
}

func (m *SessionStore) ConsumeSSOTransaction(_ context.Context, state string, now time.Time) (domain.SSOTransaction, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tx, ok := m.ssoTxs[state]
	if !ok || !now.Before(tx.ExpiresAt) {
		return domain.SSOTransaction{}, fmt.Errorf("memstore: consume SSO transaction: %w", domain.ErrNotFound)
	}
	delete(m.ssoTxs, state)
	return tx, nil
}

func (m *SessionStore) LinkUpstream(_ context.Context, l domain.UpstreamLink) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := l.Issuer + "\x00" + l.Subject
	if _, ok := m.links[k]; ok {
		return fmt.Errorf("memstore: upstream link: %w", domain.ErrAlreadyExists)
	}
	l.CreatedAt = l.CreatedAt.UTC()
	m.links[k] = l
	return nil
}

func (m *SessionStore) GetUpstreamLink(_ context.Context, issuer, subject string) (domain.UpstreamLink, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l, ok := m.links[issuer+"\x00"+subject]
	if !ok {
		return domain.UpstreamLink{}, fmt.Errorf("memstore: upstream link: %w", domain.ErrNotFound)
	}
	return l, nil
}
