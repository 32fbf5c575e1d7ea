package memory

import (
	"context"
	"fmt"
	"sync"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
	"orgauth/pkg/storage/conformance"
)

var _ conformance.KeySetStore = (*KeySets)(nil)

// KeySets keeps the signing key set in memory. It is separate from Store so
// that each can grow on its own; the zero value is ready to use.
type KeySets struct {
	mu  sync.Mutex
	set *keys.Set
}

// NewKeySets returns a store without a key set.
func NewKeySets() *KeySets { return &KeySets{} }

func (m *KeySets) GetKeySet(context.Context) (keys.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		return keys.Set{}, fmt.Errorf("memstore: key set: %w", domain.ErrNotFound)
	}
	return m.set.Clone(), nil
}

func (m *KeySets) CreateKeySet(_ context.Context, s keys.Set) error {
	if err := s.Validate(); err != nil {
		return fmt.Errorf("memstore: create key set: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set != nil {
		return fmt.Errorf("memstore: key set: %w", domain.ErrAlreadyExists)
	}
	s = s.Clone()
	s.Version = 1
	m.set = &s
	return nil
}

// UpdateKeySet runs fn under the lock, so it never loses a race; fn must not
// call back into m.
func (m *KeySets) UpdateKeySet(_ context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.set == nil {
		return keys.Set{}, fmt.Errorf("memstore: key set: %w", domain.ErrNotFound)
	}
	next, err := fn(m.set.Clone())
	if err != nil {
		return keys.Set{}, err
	}
	if err := next.Validate(); err != nil {
		return keys.Set{}, fmt.Errorf("memstore: update key set: %w", err)
	}
	next = next.Clone()
	next.Version = m.set.Version + 1
	m.set = &next
	return next.Clone(), nil
}
