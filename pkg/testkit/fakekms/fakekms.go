package fakekms

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// KMS holds AES-256-GCM keys: KeyID, and any others New was given.
type KMS struct {
	KeyID string
	keys  map[string]cipher.AEAD
	calls atomic.Int64
}

// New makes a fresh key named keyID, and one for each of more.
func New(keyID string, more ...string) *KMS {
	k := &KMS{KeyID: keyID, keys: map[string]cipher.AEAD{}}
	for _, id := range append([]string{keyID}, more...) {
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
		k.keys[id] = aead
	}
	return k
}

// Calls is how many calls the fake has answered, for tests that check a
// path makes none.
func (k *KMS) Calls() int64 { return k.calls.Load() }

// ErrInvalidCiphertext stands for KMS's InvalidCiphertextException.
var ErrInvalidCiphertext = errors.New("fakekms: invalid ciphertext")

// Encrypt seals the plaintext, authenticating the encryption context.
func (k *KMS) Encrypt(_ context.Context, in *kms.EncryptInput, _ ...func(*kms.Options)) (*kms.EncryptOutput, error) {
	k.calls.Add(1)
	aead, ok := k.keys[aws.ToString(in.KeyId)]
	if !ok {
		return nil, errors.New("fakekms: unknown key")
	}
	return &kms.EncryptOutput{CiphertextBlob: seal(aead, in.Plaintext, in.EncryptionContext), KeyId: in.KeyId}, nil
}

// GenerateDataKey makes a random data key (32 bytes; the fake knows no
// other size) and returns it with its ciphertext under KeyId and the
// encryption context.
func (k *KMS) GenerateDataKey(_ context.Context, in *kms.GenerateDataKeyInput, _ ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	k.calls.Add(1)
	aead, ok := k.keys[aws.ToString(in.KeyId)]
	if !ok {
		return nil, errors.New("fakekms: unknown key")
	}
	if in.KeySpec != types.DataKeySpecAes256 && aws.ToInt32(in.NumberOfBytes) != 32 {
		return nil, errors.New("fakekms: only 32-byte data keys")
	}
	pt := make([]byte, 32)
	_, _ = rand.Read(pt)
	return &kms.GenerateDataKeyOutput{Plaintext: pt, CiphertextBlob: seal(aead, pt, in.EncryptionContext), KeyId: in.KeyId}, nil
}

// Decrypt opens a ciphertext of one of its keys (KeyId's, when given) with
// the same encryption context.
func (k *KMS) Decrypt(_ context.Context, in *kms.DecryptInput, _ ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	k.calls.Add(1)
	for id, aead := range k.keys {
		if in.KeyId != nil && aws.ToString(in.KeyId) != id {
			continue
		}
		n := aead.NonceSize()
		if len(in.CiphertextBlob) < n {
			return nil, ErrInvalidCiphertext
		}
		ad, _ := json.Marshal(in.EncryptionContext)
		if pt, err := aead.Open(nil, in.CiphertextBlob[:n], in.CiphertextBlob[n:], ad); err == nil {
			return &kms.DecryptOutput{Plaintext: pt, KeyId: aws.String(id)}, nil
		}
	}
	return nil, ErrInvalidCiphertext
}

func seal(aead cipher.AEAD, plaintext []byte, ec map[string]string) []byte {
	nonce := make([]byte, aead.NonceSize())
	_, _ = rand.Read(nonce)
	ad, _ := json.Marshal(ec) // map keys marshal sorted
	return aead.Seal(nonce, nonce, plaintext, ad)
}
