package secretbox_test

import (
	"bytes"
	"context"
	"testing"

	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/testkit/emulator"
)

// Against local-kms: a secret round-trips for its organization only, and
// only with its key.
func TestBoxOnLocalKMS(t *testing.T) {
	p := emulator.StartForTest(t, emulator.StartKMS)
	client := kmskeys.NewLocalClient(p.Endpoint)
	ctx := context.Background()
	keyID, err := kmskeys.EnsureKey(ctx, client, "alias/test-sso", kmskeys.SpecSymmetric)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := kmskeys.EnsureKey(ctx, client, "alias/test-sso", kmskeys.SpecSymmetric); err != nil || again != keyID {
		t.Fatalf("EnsureKey again: %s %v, want %s", again, err, keyID)
	}
	if _, err := kmskeys.EnsureKey(ctx, client, "alias/test-sso", kmskeys.SpecRSA2048); err == nil {
		t.Fatal("a symmetric key passed for a signing key")
	}
	box := secretbox.New(client, keyID)
	secret := []byte("upstream client secret")
	ct, err := box.Encrypt(ctx, "org-1", secret)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(ct, secret) {
		t.Fatal("the ciphertext contains the secret")
	}
	got, err := box.Decrypt(ctx, "org-1", ct)
	if err != nil || !bytes.Equal(got, secret) {
		t.Fatalf("decrypt: %q %v", got, err)
	}
	if _, err := box.Decrypt(ctx, "org-2", ct); err == nil {
		t.Fatal("another organization's context decrypted the secret")
	}
	otherKey, err := kmskeys.EnsureKey(ctx, client, "alias/test-other", kmskeys.SpecSymmetric)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := secretbox.New(client, otherKey).Decrypt(ctx, "org-1", ct); err == nil {
		t.Fatal("a ciphertext of one key decrypted under another key id")
	}
	if _, err := secretbox.New(client, "").Encrypt(ctx, "org-1", secret); err == nil {
		t.Fatal("encrypted without a key")
	}
}
