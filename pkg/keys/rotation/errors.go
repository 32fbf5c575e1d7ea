package rotation

import (
	"errors"
	"fmt"

	"orgauth/pkg/keys"
)

// Refusals without details.
var (
	// ErrNoCurrentKeys: no key set is stored yet, and no current keys (the
	// stack's static SIGNING_KEY_IDS) were given to start it from.
	ErrNoCurrentKeys = errors.New("rotation: no key set is stored yet, and no current keys to start it from")
	// ErrNoStage: a publish is due, but no stage was given to tag the new key.
	ErrNoStage = errors.New("rotation: a stage is required to tag the new key")
	// ErrNothingToWithdraw: there is no upcoming key.
	ErrNothingToWithdraw = errors.New("rotation: there is no upcoming key to withdraw")
)

// KMSError is a failure of the key store (KMS) itself, as opposed to the
// key-set store or a refusal.
type KMSError struct{ Err error }

func (e *KMSError) Error() string { return e.Err.Error() }
func (e *KMSError) Unwrap() error { return e.Err }

func kmsErr(err error) error {
	if err == nil {
		return nil
	}
	return &KMSError{err}
}

// InputError is an input a step cannot run with.
type InputError struct {
	Field string // Spec or DeletionWindowDays
	Msg   string
}

func (e *InputError) Error() string { return "rotation: " + e.Msg }

// UnusableKeyError refuses to promote an upcoming key that the key store
// cannot sign with. Err is a *KMSError.
type UnusableKeyError struct {
	KeyID string
	Err   error
}

func (e *UnusableKeyError) Error() string {
	return fmt.Sprintf("rotation: upcoming key %s cannot sign, not promoting it: %v", e.KeyID, e.Err)
}
func (e *UnusableKeyError) Unwrap() error { return e.Err }

// KidNotServedError refuses to promote a key that the stack's live JWKS
// does not serve yet.
type KidNotServedError struct{ URL, Kid string }

func (e *KidNotServedError) Error() string {
	return fmt.Sprintf("the JWKS at %s does not serve kid %s yet: not promoting (are the functions reading the key set? check their logs and KEYSET_REFRESH)", e.URL, e.Kid)
}

// BadJWKSURLError is a JWKS URL that cannot be requested at all.
type BadJWKSURLError struct{ Err error }

func (e *BadJWKSURLError) Error() string { return e.Err.Error() }
func (e *BadJWKSURLError) Unwrap() error { return e.Err }

// ConcurrentChangeError: a publish lost against another writer of the key
// set. The key it created (KeyID) is unused and scheduled for deletion. Err
// is the store's ErrConflict or ErrAlreadyExists, or keys.ErrWrongState.
type ConcurrentChangeError struct {
	KeyID string
	Err   error
}

func (e *ConcurrentChangeError) Error() string {
	return fmt.Sprintf("rotation: another rotation changed the key set meanwhile; the unused key %s is scheduled for deletion", e.KeyID)
}
func (e *ConcurrentChangeError) Unwrap() error { return e.Err }

// UnusedKeyError: a publish failed with Err after creating KeyID, and
// scheduling the deletion of that unused key failed too (DeleteErr).
type UnusedKeyError struct {
	KeyID          string
	Err, DeleteErr error
}

func (e *UnusedKeyError) Error() string {
	return fmt.Sprintf("%v (and scheduling the deletion of the unused key %s failed: %v)", e.Err, e.KeyID, e.DeleteErr)
}
func (e *UnusedKeyError) Unwrap() error { return e.Err }

// DeletionNotScheduledError: KeyID left the JWKS (Step is ActionRetire or
// ActionWithdraw) but scheduling its deletion failed. The next Rotate
// schedules it first.
type DeletionNotScheduledError struct {
	Step  keys.Action
	KeyID string
	Err   error
}

func (e *DeletionNotScheduledError) Error() string {
	return fmt.Sprintf("rotation: %s left the JWKS, but scheduling its deletion failed: %v", e.KeyID, e.Err)
}
func (e *DeletionNotScheduledError) Unwrap() error { return e.Err }

// CanaryError refuses a promotion: a canary token signed with KeyID did not
// sign (Err is a *KMSError) or did not verify against the published JWKS
// (Verify).
type CanaryError struct {
	KeyID  string
	Verify bool
	Err    error
}

func (e *CanaryError) Error() string {
	if e.Verify {
		return fmt.Sprintf("rotation: a canary token signed with %s does not verify against the published JWKS, not promoting it: %v", e.KeyID, e.Err)
	}
	return fmt.Sprintf("rotation: a canary token could not be signed with %s, not promoting it: %v", e.KeyID, e.Err)
}
func (e *CanaryError) Unwrap() error { return e.Err }

// NotInSetError: the key to revoke is not in the key set.
type NotInSetError struct{ Key string }

func (e *NotInSetError) Error() string {
	return fmt.Sprintf("rotation: %s is not a key of the key set (give its ARN, key id or kid)", e.Key)
}
