package keys

import "time"

// The key specs a signing key may have (Entry.Spec, KeyInfo.Spec): KMS's
// names for them.
const (
	SpecRSA2048     = "RSA_2048"      // RS256, the algorithm OIDC discovery requires
	SpecECCNistP256 = "ECC_NIST_P256" // ES256
)

// KeyInfo describes a signing key as its key store (KMS) reports it, for
// rotation and for operators.
type KeyInfo struct {
	ARN          string
	Spec         string
	State        string    // the key store's state: Enabled, Disabled, PendingDeletion, ...
	DeletionDate time.Time // when the key store deletes the key; zero unless scheduled
	Kid          string    // RFC 7638 thumbprint; empty if the public key is unavailable
	Alg          string    // the JWS algorithm it signs with: RS256 or ES256
}
