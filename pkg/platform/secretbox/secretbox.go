package secretbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// API is the part of the KMS client the box needs.
type API interface {
	Encrypt(ctx context.Context, params *kms.EncryptInput, optFns ...func(*kms.Options)) (*kms.EncryptOutput, error)
	Decrypt(ctx context.Context, params *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

var _ API = (*kms.Client)(nil)

// ContextKey is the encryption context's key; its value is the
// organization's id.
const ContextKey = "organization_id"

// Box encrypts and decrypts with one key.
type Box struct {
	client API
	keyID  string
}

// New returns a box on keyID (id, ARN or alias).
func New(client API, keyID string) *Box { return &Box{client: client, keyID: keyID} }

// ErrNoKey is returned when no key is configured.
var ErrNoKey = errors.New("kmsbox: no SSO secret key is configured (SSO_KEY_ID)")

// Encrypt encrypts plaintext for organization orgID.
func (b *Box) Encrypt(ctx context.Context, orgID string, plaintext []byte) ([]byte, error) {
	if b == nil || b.keyID == "" {
		return nil, ErrNoKey
	}
	out, err := b.client.Encrypt(ctx, &kms.EncryptInput{
		KeyId: aws.String(b.keyID), Plaintext: plaintext,
		EncryptionContext: map[string]string{ContextKey: orgID},
	})
	if err != nil {
		return nil, fmt.Errorf("kmsbox: encrypt: %w", err)
	}
	return out.CiphertextBlob, nil
}

// Decrypt decrypts a ciphertext of organization orgID. The key is named, so
// a ciphertext of another key is refused rather than decrypted with it.
func (b *Box) Decrypt(ctx context.Context, orgID string, ciphertext []byte) ([]byte, error) {
	if b == nil || b.keyID == "" {
		return nil, ErrNoKey
	}
	out, err := b.client.Decrypt(ctx, &kms.DecryptInput{
		KeyId: aws.String(b.keyID), CiphertextBlob: ciphertext,
		EncryptionContext: map[string]string{ContextKey: orgID},
	})
	if err != nil {
		return nil, fmt.Errorf("kmsbox: decrypt: %w", err)
	}
	return out.Plaintext, nil
}
