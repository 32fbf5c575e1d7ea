// Package fakekms is an in-process stand-in for KMS Encrypt, Decrypt and GenerateDataKey
// with symmetric keys, for handler tests that run on memory storage
// without local-kms. Like KMS, a ciphertext only decrypts under the key
// and the exact encryption context it was made with. The tests of the
// secret box itself run on local-kms; this must never be used outside
// tests.
package fakekms
