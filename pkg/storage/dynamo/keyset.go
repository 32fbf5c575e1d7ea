package dynamo

// The signing key set (pkg/keys): one item per stack, read by every
// function at most once per refresh interval and written by orgauthctl.
//
//	entity   pk       sk       attributes
//	keyset   KEYSET   KEYSET   entries (L of M), updated_at, version
//
// Each entry is a map: key_id, spec, state, and the times of keyring.Entry
// (published_at, promote_after, activated_at, retiring_since, not_after,
// retired_at, deletion_date) in the store's time layout, zero ones omitted.
// The list keeps the set's order.

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/keys"
)

const attrEntries = "entries"

func keySetKey(string) (pk, sk string) { return "KEYSET", "KEYSET" }

// GetKeySet reads the key set (consistent), or fails with
// domain.ErrNotFound when there is none yet.
func (s *Store) GetKeySet(ctx context.Context) (keys.Set, error) {
	return get(ctx, s, "key set", "KEYSET", keySetKey, keySetFromItem)
}

// CreateKeySet stores the first key set, at version 1.
func (s *Store) CreateKeySet(ctx context.Context, ks keys.Set) error {
	if err := ks.Validate(); err != nil {
		return fmt.Errorf("dynamo: create key set: %w", err)
	}
	ks.Version = 1
	if err := s.putNew(ctx, keySetItem(ks)); err != nil {
		return fmt.Errorf("dynamo: create key set: %w", err)
	}
	return nil
}

// UpdateKeySet is compare-and-swap on the key set's version; fn's result
// must be a valid set.
func (s *Store) UpdateKeySet(ctx context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error) {
	return update(ctx, s, "key set", "KEYSET", keySetKey, keySetFromItem, keySetItem, fn,
		func(_, next keys.Set) error { return next.Validate() },
		func(ks *keys.Set) *int64 { return &ks.Version })
}

func keySetItem(ks keys.Set) itemMap {
	e := encoder{}
	pk, sk := keySetKey("")
	e.keys(pk, sk, "", "", "keyset")
	entries := make([]types.AttributeValue, len(ks.Entries))
	for i, k := range ks.Entries {
		m := encoder{}
		m.str("key_id", k.KeyID)
		m.str("spec", k.Spec)
		m.str("state", string(k.State))
		m.time("published_at", k.PublishedAt)
		m.time("promote_after", k.PromoteAfter)
		m.time("activated_at", k.ActivatedAt)
		m.time("retiring_since", k.RetiringSince)
		m.time("not_after", k.NotAfter)
		m.time("retired_at", k.RetiredAt)
		m.time("deletion_date", k.DeletionDate)
		m.bool("stack_key", k.StackKey)
		m.bool("compromised", k.Compromised)
		entries[i] = &types.AttributeValueMemberM{Value: m}
	}
	e[attrEntries] = &types.AttributeValueMemberL{Value: entries}
	e.time("updated_at", ks.UpdatedAt)
	e.int(attrVersion, ks.Version)
	return e
}

func keySetFromItem(item itemMap) (keys.Set, error) {
	d := decoder{item: item}
	ks := keys.Set{UpdatedAt: d.time("updated_at"), Version: d.int(attrVersion)}
	if d.err != nil {
		return keys.Set{}, d.err
	}
	list, ok := item[attrEntries].(*types.AttributeValueMemberL)
	if !ok {
		return keys.Set{}, fmt.Errorf("dynamo: attribute %q has unexpected value %T", attrEntries, item[attrEntries])
	}
	for i, v := range list.Value {
		m, ok := v.(*types.AttributeValueMemberM)
		if !ok {
			return keys.Set{}, fmt.Errorf("dynamo: key set entry %d has unexpected value %T", i, v)
		}
		d := decoder{item: m.Value}
		ks.Entries = append(ks.Entries, keys.Entry{
			KeyID:         d.str("key_id"),
			Spec:          d.str("spec"),
			State:         keys.State(d.str("state")),
			PublishedAt:   d.time("published_at"),
			PromoteAfter:  d.time("promote_after"),
			ActivatedAt:   d.time("activated_at"),
			RetiringSince: d.time("retiring_since"),
			NotAfter:      d.time("not_after"),
			RetiredAt:     d.time("retired_at"),
			DeletionDate:  d.time("deletion_date"),
			StackKey:      d.bool("stack_key"),
			Compromised:   d.bool("compromised"),
		})
		if d.err != nil {
			return keys.Set{}, fmt.Errorf("dynamo: key set entry %d: %w", i, d.err)
		}
	}
	return ks, nil
}
