// Package secretbox encrypts small secrets, organizations' upstream client
// secrets, with a symmetric KMS key. Each ciphertext is bound to its
// organization through the encryption context, so a ciphertext copied to
// another organization's item does not decrypt there, and CloudTrail names
// the organization of every decryption.
//
// It must never log or return a plaintext it did not decrypt for the
// caller's organization, nor cache plaintexts.
package secretbox
