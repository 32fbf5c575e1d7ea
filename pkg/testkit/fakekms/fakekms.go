package fakekms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// KMS holds one AES-256-GCM key, named KeyID.
type KMS struct {
	KeyID string
	aead  cipher.AEAD
}

// New makes a fresh key named keyID.
func New(keyID string) *KMS {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &KMS{KeyID: keyID, aead: aead}
}

// ErrInvalidCiphertext stands for KMS's InvalidCiphertextException.
var ErrInvalidCiphertext = errors.New("fakekms: invalid ciphertext")

// Encrypt seals the plaintext, authenticating the encryption context.
func (k *KMS) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	if aws.ToString(in.KeyId) != k.KeyID {
		return nil, errors.New("fakekms: unknown key")
	}
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	ad, _ := json.Marshal(in.EncryptionContext) // map keys marshal sorted
	return &kms.EncryptOutput{CiphertextBlob: k.aead.Seal(nonce, nonce, in.Plaintext, ad), KeyId: in.KeyId}, nil
}

// Decrypt opens a ciphertext of this key with the same encryption context.
func (k *KMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	if in.KeyId != nil && aws.ToString(in.KeyId) != k.KeyID {
		return nil, ErrInvalidCiphertext
	}
	n := k.aead.NonceSize()
	if len(in.CiphertextBlob) < n {
		return nil, ErrInvalidCiphertext
	}
	ad, _ := json.Marshal(in.EncryptionContext)
	pt, err := k.aead.Open(nil, in.CiphertextBlob[:n], in.CiphertextBlob[n:], ad)
	if err != nil {
		return nil, ErrInvalidCiphertext
	}
	return &kms.DecryptOutput{Plaintext: pt, KeyId: in.KeyId}, nil
}
