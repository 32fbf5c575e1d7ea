package dynamo

// Stage-wide keys kept as KMS ciphertexts (domain.WrappedKey): one item per
// name, written once by a conditional put, never updated. The plaintext is
// never stored.
//
//	entity       pk                  sk           attributes
//	wrappedkey   WRAPPEDKEY#<name>   WRAPPEDKEY   kms_key_id, ciphertext (B), created_at

import (
	"context"
	"fmt"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

func wrappedKeyKey(name string) (pk, sk string) { return "WRAPPEDKEY#" + name, "WRAPPEDKEY" }

// GetWrappedKey reads a wrapped key (consistent), or fails with
// domain.ErrNotFound.
func (s *Store) GetWrappedKey(ctx context.Context, name string) (domain.WrappedKey, error) {
	return get(ctx, s, "wrapped key", name, wrappedKeyKey, wrappedKeyFromItem)
}

// CreateWrappedKey stores k, on condition that its name is free.
func (s *Store) CreateWrappedKey(ctx context.Context, k domain.WrappedKey) error {
	if err := storage.CheckWrappedKey(k); err != nil {
		return err
	}
	if err := s.putNew(ctx, wrappedKeyItem(k)); err != nil {
		return fmt.Errorf("dynamo: create wrapped key %q: %w", k.Name, err)
	}
	return nil
}

func wrappedKeyItem(k domain.WrappedKey) itemMap {
	e := encoder{}
	pk, sk := wrappedKeyKey(k.Name)
	e.keys(pk, sk, "", "", "wrappedkey")
	e.str("name", k.Name)
	e.str("kms_key_id", k.KMSKeyID)
	e.bytes("ciphertext", k.Ciphertext)
	e.time("created_at", k.CreatedAt)
	return e
}

func wrappedKeyFromItem(item itemMap) (domain.WrappedKey, error) {
	d := decoder{item: item}
	k := domain.WrappedKey{Name: d.str("name"), KMSKeyID: d.str("kms_key_id"), Ciphertext: d.bytes("ciphertext"), CreatedAt: d.time("created_at")}
	return k, d.err
}
