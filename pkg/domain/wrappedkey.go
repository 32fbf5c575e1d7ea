package domain

import "time"

// WrappedKey is a stage-wide secret key kept in the table only as a KMS
// ciphertext (a data key of KMSKeyID): the plaintext exists in the memory
// of the functions allowed to decrypt it, never in the table or in any
// function's configuration. Name says what it is for, such as
// DeviceCookieKeyName.
type WrappedKey struct {
	Name       string
	KMSKeyID   string // the KMS key that made it (informational: the ciphertext names its key)
	Ciphertext []byte
	CreatedAt  time.Time
}

// DeviceCookieKeyName is the wrapped key that signs the login's device
// cookies.
const DeviceCookieKeyName = "device-cookie"
