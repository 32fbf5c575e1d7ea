package rotation

import (
	"context"
	"errors"
	"strings"

	"orgauth/pkg/keys"
)

// ActionRevoke is an emergency revocation of a compromised key (Revoke).
const ActionRevoke keys.Action = "revoke"

// RevokeInput names the compromised key, and how to replace it if needed.
type RevokeInput struct {
	// Key is the compromised key: its ARN, KMS key id, or kid.
	Key string
	// CurrentKeys are the stack's SIGNING_KEY_IDS, while no set is stored.
	CurrentKeys []string
	// Spec and Stage make the replacement key, when no published key can
	// take over.
	Spec, Stage string
	// DeletionWindowDays is the pending window of the compromised key's
	// deletion.
	DeletionWindowDays int32
}

// Revoke withdraws a compromised key from the key set, and so from the
// JWKS, at once (keys.Revoke): no wait, no rotation bound. If it was the
// active key, the published key that has been in the JWKS longest signs
// from now on; with none, a new key is created and made active in the same
// write (verifiers that cached the JWKS reject its tokens until they
// re-read it: in an emergency, that is the price). Then the compromised
// key is scheduled for deletion, which stops KMS signing with it at once;
// the stack's own key (keys.Entry.StackKey) is disabled instead, since the
// stack still names it. A failure after the write is a
// *DeletionNotScheduledError: the key is already out of the JWKS.
func (s *Service) Revoke(ctx context.Context, in RevokeInput) (Outcome, error) {
	if err := checkDeletionWindow(in.DeletionWindowDays); err != nil {
		return Outcome{}, err
	}
	now := s.now()
	set, stored, err := s.load(ctx, in.CurrentKeys, now)
	if err != nil {
		return Outcome{}, err
	}
	keyID, err := s.resolve(ctx, set, in.Key)
	if err != nil {
		return Outcome{}, err
	}
	// Does a published key take over, or is a new one needed?
	created := ""
	if _, _, err := keys.Revoke(set, keyID, now); errors.Is(err, keys.ErrNoReplacement) {
		if err := checkSpec(in.Spec); err != nil {
			return Outcome{}, err
		}
		if in.Stage == "" {
			return Outcome{}, ErrNoStage
		}
		if created, err = s.kms.CreateSigningKey(ctx, in.Spec, in.Stage); err != nil {
			return Outcome{}, kmsErr(err)
		}
		if _, err := s.kms.CheckSigningKey(ctx, created); err != nil {
			return Outcome{}, s.dropUnused(ctx, created, kmsErr(err))
		}
	} else if err != nil {
		return Outcome{}, err
	}
	var promoted string
	apply := func(cur keys.Set) (keys.Set, error) {
		if created != "" {
			var err error
			if cur, err = keys.Publish(cur, created, in.Spec, s.policy, now); err != nil {
				return keys.Set{}, err
			}
		}
		next, p, err := keys.Revoke(cur, keyID, now)
		promoted = p
		return next, err
	}
	if stored {
		_, err = s.store.UpdateKeySet(ctx, apply)
	} else {
		var first keys.Set
		if first, err = apply(set); err == nil {
			err = s.store.CreateKeySet(ctx, first)
		}
	}
	if err != nil {
		if created != "" {
			return Outcome{}, s.dropUnused(ctx, created, err)
		}
		return Outcome{}, err
	}
	out := Outcome{Action: ActionRevoke, KeyID: keyID, Promoted: promoted, Created: created != "", StoredSet: !stored}
	if e, ok := set.Find(keyID); ok && e.StackKey {
		out.StackKey = true
		if err := s.kms.DisableSigningKey(ctx, keyID); err != nil {
			return Outcome{}, &DeletionNotScheduledError{Step: ActionRevoke, KeyID: keyID, Err: kmsErr(err)}
		}
		return s.done(ctx, out, now)
	}
	if e, ok := set.Find(keyID); ok && !e.DeletionDate.IsZero() {
		out.DeletionDate = e.DeletionDate
		return s.done(ctx, out, now)
	}
	if out.DeletionDate, err = s.scheduleDeletion(ctx, keyID, in.DeletionWindowDays, now); err != nil {
		return Outcome{}, &DeletionNotScheduledError{Step: ActionRevoke, KeyID: keyID, Err: err}
	}
	return s.done(ctx, out, now)
}

// dropUnused schedules the deletion of a key a failed step created, and
// returns err (with the failure to delete it, if any).
func (s *Service) dropUnused(ctx context.Context, keyID string, err error) error {
	if _, derr := s.kms.ScheduleDeletion(context.WithoutCancel(ctx), keyID, unusedKeyWindowDays); derr != nil {
		return &UnusedKeyError{KeyID: keyID, Err: err, DeleteErr: derr}
	}
	return err
}

// resolve finds the key of the set that key names: its ARN, its KMS key id
// (the ARN's last part), or the kid it is published under.
func (s *Service) resolve(ctx context.Context, set keys.Set, key string) (string, error) {
	key = strings.TrimSpace(key)
	if key == "" {
		return "", &InputError{Field: "Key", Msg: "name the compromised key (its ARN, key id or kid)"}
	}
	for _, e := range set.Entries {
		if e.KeyID == key || strings.HasSuffix(e.KeyID, ":key/"+key) {
			return e.KeyID, nil
		}
	}
	for _, e := range set.Entries {
		if !e.State.Published() {
			continue
		}
		info, err := s.kms.DescribeSigningKey(ctx, e.KeyID)
		if err != nil {
			return "", kmsErr(err)
		}
		if info.Kid == key {
			return e.KeyID, nil
		}
	}
	return "", &NotInSetError{Key: key}
}
