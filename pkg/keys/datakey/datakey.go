// Package datakey gives every instance of a stage the same secret key
// without storing its plaintext anywhere: the key is a KMS data key, kept
// in the table only as its ciphertext (domain.WrappedKey), and decrypted
// by each instance at cold start. The device cookies of the login form
// are signed with one (domain.DeviceCookieKeyName).
//
// The first instance to find no item generates the data key and stores
// its ciphertext with a conditional put; an instance that loses that race
// reads the winner's, so the stage agrees on one key. Every KMS call
// carries the encryption context {"purpose": <name>}, which the KMS key's
// policy requires: a ciphertext of one key cannot be decrypted as another.
package datakey

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"orgauth/pkg/domain"
)

// KMS is the part of KMS a data key needs.
type KMS interface {
	GenerateDataKey(ctx context.Context, params *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// Store keeps the ciphertexts (storage.WrappedKeys).
type Store interface {
	GetWrappedKey(ctx context.Context, name string) (domain.WrappedKey, error)
	CreateWrappedKey(ctx context.Context, k domain.WrappedKey) error
}

// Size is the length of a data key: 256 bits.
const Size = 32

// ContextKey is the encryption-context key of every call; its value is the
// data key's name.
const ContextKey = "purpose"

// Load returns the plaintext of the stage's data key name under the KMS
// key keyID, creating it (at now) when the table holds none. It fails,
// without falling back to any other key, when the table or KMS cannot be
// reached, or the stored ciphertext does not decrypt under keyID (the
// stage's KMS key was replaced: delete the item, which invalidates what
// the old key signed).
func Load(ctx context.Context, k KMS, st Store, keyID, name string, now time.Time) ([]byte, error) {
	if keyID == "" {
		return nil, errors.New("datakey: no KMS key id")
	}
	ec := map[string]string{ContextKey: name}
	w, err := st.GetWrappedKey(ctx, name)
	if errors.Is(err, domain.ErrNotFound) {
		out, gerr := k.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256, EncryptionContext: ec})
		if gerr != nil {
			return nil, fmt.Errorf("datakey %s: generate: %w", name, gerr)
		}
		cerr := st.CreateWrappedKey(ctx, domain.WrappedKey{Name: name, KMSKeyID: keyID, Ciphertext: out.CiphertextBlob, CreatedAt: now})
		switch {
		case cerr == nil:
			return check(name, out.Plaintext)
		case errors.Is(cerr, domain.ErrAlreadyExists):
			// Another instance stored one first: use that one.
			w, err = st.GetWrappedKey(ctx, name)
		default:
			return nil, fmt.Errorf("datakey %s: store: %w", name, cerr)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("datakey %s: read: %w", name, err)
	}
	out, err := k.Decrypt(ctx, &kms.DecryptInput{KeyId: aws.String(keyID), CiphertextBlob: w.Ciphertext, EncryptionContext: ec})
	if err != nil {
		hint := ""
		if w.KMSKeyID != keyID {
			hint = fmt.Sprintf(" (it was made with %s: if the stage's KMS key was replaced, delete the stored key %q and every instance makes a new one)", w.KMSKeyID, name)
		}
		return nil, fmt.Errorf("datakey %s: decrypt the stored ciphertext with %s%s: %w", name, keyID, hint, err)
	}
	return check(name, out.Plaintext)
}

func check(name string, key []byte) ([]byte, error) {
	if len(key) != Size {
		return nil, fmt.Errorf("datakey %s: a key of %d bytes, want %d", name, len(key), Size)
	}
	return key, nil
}
