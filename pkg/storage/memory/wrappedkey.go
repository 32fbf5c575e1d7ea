package memory

import (
	"bytes"
	"context"
	"fmt"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

func (s *Store) GetWrappedKey(_ context.Context, name string) (domain.WrappedKey, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k, ok := s.wrappedKeys[name]
	if !ok {
		return domain.WrappedKey{}, fmt.Errorf("memory: wrapped key %q: %w", name, domain.ErrNotFound)
	}
	k.Ciphertext = bytes.Clone(k.Ciphertext)
	return k, nil
}

// CreateWrappedKey stores k once per name.
func (s *Store) CreateWrappedKey(_ context.Context, k domain.WrappedKey) error {
	if err := storage.CheckWrappedKey(k); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.wrappedKeys[k.Name]; ok {
		return fmt.Errorf("memory: wrapped key %q: %w", k.Name, domain.ErrAlreadyExists)
	}
	k.Ciphertext = bytes.Clone(k.Ciphertext)
	s.wrappedKeys[k.Name] = k
	return nil
}
