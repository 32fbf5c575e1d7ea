package memory

import (
	"context"
	"fmt"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
)

// keySetID is the one key of Store.keySets: one set per stack, as the one
// KEYSET item of pkg/storage/dynamo.
const keySetID = "KEYSET"

func (s *Store) GetKeySet(context.Context) (keys.Set, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ks, ok := s.keySets[keySetID]
	if !ok {
		return keys.Set{}, fmt.Errorf("memory: key set: %w", domain.ErrNotFound)
	}
	return ks.Clone(), nil
}

// CreateKeySet stores the first key set, at version 1.
func (s *Store) CreateKeySet(_ context.Context, ks keys.Set) error {
	if err := ks.Validate(); err != nil {
		return fmt.Errorf("memory: create key set: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.keySets[keySetID]; ok {
		return fmt.Errorf("memory: key set: %w", domain.ErrAlreadyExists)
	}
	ks = ks.Clone()
	ks.Version = 1
	s.keySets[keySetID] = ks
	return nil
}

// UpdateKeySet is compare-and-swap on the key set's version, through the
// same loop as every Update*: fn runs outside the lock and may run more
// than once; its result must be a valid set.
func (s *Store) UpdateKeySet(_ context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error) {
	return update(s, s.keySets, "key set", keySetID, fn,
		func(_, next keys.Set) error { return next.Validate() },
		keys.Set.Clone,
		func(ks *keys.Set) *int64 { return &ks.Version })
}
