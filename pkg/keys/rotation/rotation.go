package rotation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/keys"
)

// Store is the key-set item: read, first write, compare-and-swap. It fails
// with domain.ErrNotFound when no set is stored yet, and CreateKeySet with
// domain.ErrAlreadyExists when one is; UpdateKeySet with domain.ErrConflict
// when it loses against another writer.
type Store interface {
	GetKeySet(ctx context.Context) (keys.Set, error)
	CreateKeySet(ctx context.Context, set keys.Set) error
	UpdateKeySet(ctx context.Context, fn func(keys.Set) (keys.Set, error)) (keys.Set, error)
}

// KMS is the key store's administration of signing keys.
type KMS interface {
	// CreateSigningKey creates a signing key of spec, tagged for stage so
	// that the stack's functions may use it, and returns its ARN.
	CreateSigningKey(ctx context.Context, spec, stage string) (keyID string, err error)
	// DescribeSigningKey resolves id (an id, ARN or alias); Kid is set when
	// the key store still serves its public key.
	DescribeSigningKey(ctx context.Context, id string) (keys.KeyInfo, error)
	// CheckSigningKey is DescribeSigningKey that fails unless the key can
	// sign.
	CheckSigningKey(ctx context.Context, id string) (keys.KeyInfo, error)
	// ScheduleDeletion schedules the deletion of id after pendingDays and
	// returns the date; a key already pending deletion keeps its date.
	ScheduleDeletion(ctx context.Context, id string, pendingDays int32) (time.Time, error)
	// DisableSigningKey disables id: the key store refuses to sign with it.
	DisableSigningKey(ctx context.Context, id string) error
}

// Canary signs a short-lived canary access token with one key, through the
// key store, exactly as the token function signs (pkg/keys/kmskeys.Admin
// implements it).
type Canary interface {
	// SignCanary signs an access token naming issuer and audience with
	// keyID, and returns it with the key's public JWK as the key store
	// serves it.
	SignCanary(ctx context.Context, keyID, issuer, audience string) (string, jose.JSONWebKey, error)
}

// The issuer and audience of a canary token: nothing accepts them.
const (
	CanaryIssuer   = "urn:orgauth:key-canary"
	CanaryAudience = "urn:orgauth:key-canary"
)

// JWKS fetches the JWKS that a stack serves, as a verifier sees it.
type JWKS interface {
	Fetch(ctx context.Context, url string) (jose.JSONWebKeySet, error)
}

// The pending windows of key deletion, in days. KMS allows 7 to 30.
const (
	MinDeletionWindowDays = 7
	MaxDeletionWindowDays = 30
	// DefaultRetireWindowDays is the usual window for a retired key: it
	// signed tokens, so keep it recoverable for long.
	DefaultRetireWindowDays = 30
	// DefaultWithdrawWindowDays is the usual window for a withdrawn key,
	// which never signed.
	DefaultWithdrawWindowDays = 7
	// unusedKeyWindowDays is the window for a key a failed publish created.
	unusedKeyWindowDays = 7
)

// ValidSpec reports whether a new key may have spec.
func ValidSpec(spec string) bool { return spec == keys.SpecRSA2048 || spec == keys.SpecECCNistP256 }

// ValidDeletionWindow reports whether days is a pending window KMS accepts.
func ValidDeletionWindow(days int) bool {
	return days >= MinDeletionWindowDays && days <= MaxDeletionWindowDays
}

// checkSpec is ValidSpec as the services' *InputError.
func checkSpec(spec string) error {
	if !ValidSpec(spec) {
		return &InputError{Field: "Spec", Msg: fmt.Sprintf("a new key's spec must be %s or %s, not %q", keys.SpecRSA2048, keys.SpecECCNistP256, spec)}
	}
	return nil
}

// checkDeletionWindow is ValidDeletionWindow as the services' *InputError.
func checkDeletionWindow(days int32) error {
	if !ValidDeletionWindow(int(days)) {
		return &InputError{Field: "DeletionWindowDays", Msg: fmt.Sprintf("the deletion window must be %d to %d days", MinDeletionWindowDays, MaxDeletionWindowDays)}
	}
	return nil
}

// Config is what a Service needs; every field is required.
type Config struct {
	Store  Store
	KMS    KMS
	JWKS   JWKS
	Canary Canary
	Policy keys.Policy // must match the deployed stack's bounds
	Now    func() time.Time
}

// Service performs rotation steps on one stack's key set.
type Service struct {
	store  Store
	kms    KMS
	jwks   JWKS
	canary Canary
	policy keys.Policy
	now    func() time.Time
}

// New returns a Service, or an error if c lacks a dependency or its policy
// is invalid.
func New(c Config) (*Service, error) {
	switch {
	case c.Store == nil:
		return nil, errors.New("rotation: no key-set store")
	case c.KMS == nil:
		return nil, errors.New("rotation: no KMS")
	case c.JWKS == nil:
		return nil, errors.New("rotation: no JWKS fetcher")
	case c.Canary == nil:
		return nil, errors.New("rotation: no canary signer")
	case c.Now == nil:
		return nil, errors.New("rotation: no clock")
	}
	if err := c.Policy.Validate(); err != nil {
		return nil, err
	}
	return &Service{store: c.Store, kms: c.KMS, jwks: c.JWKS, canary: c.Canary, policy: c.Policy, now: c.Now}, nil
}

// Policy is the policy the service applies.
func (s *Service) Policy() keys.Policy { return s.policy }

// ---------------------------------------------------------------- inputs and outcomes

// RotateInput says how to take the next step.
type RotateInput struct {
	// CurrentKeys are the keys the stack signs with while no set is stored
	// (its SIGNING_KEY_IDS; ids, ARNs or aliases, the active one first).
	// Needed only until the first publish stores the set.
	CurrentKeys []string
	// Spec is the new key's spec, for a publish (keys.SpecRSA2048 or
	// keys.SpecECCNistP256).
	Spec string
	// Stage tags the new key, for a publish; the functions may use keys
	// tagged with their stage.
	Stage string
	// DeletionWindowDays is the pending window of a retired key's deletion.
	DeletionWindowDays int32
	// JWKSURL, if set, is the stack's live JWKS: a promotion is refused
	// unless it serves the upcoming key.
	JWKSURL string
}

// Outcome is what a step did, and what comes next.
type Outcome struct {
	// Action is what was done: keys.ActionPublish, ActionPromote,
	// ActionRetire, ActionScheduleDeletion, ActionWithdraw; or
	// keys.ActionWait when nothing was due.
	Action keys.Action
	// KeyID is the key acted on; for a wait, the key whose step is next.
	KeyID string
	// Kid and Alg describe KeyID after a publish or a promotion.
	Kid, Alg string
	// StoredSet: the publish also stored the first key set, built from the
	// current keys.
	StoredSet bool
	// Demoted is the key that a promotion made retiring.
	Demoted string
	// DeletionDate is when the key store deletes KeyID (retire, withdraw,
	// schedule-deletion, revoke).
	DeletionDate time.Time
	// StackKey: KeyID is the stack's own key (see keys.Entry.StackKey),
	// retired or revoked but not scheduled for deletion; a revoked one is
	// disabled instead.
	StackKey bool
	// Canary is how a promotion's canary token was verified: CanaryJWKS
	// (against the stack's live JWKS) or CanaryKeyStore (against the public
	// key the key store serves, without a JWKS URL).
	Canary string
	// Promoted is, for a revoke, the key that signs from now on; Created
	// says the revoke created and published it (no other key could
	// replace the compromised one).
	Promoted string
	Created  bool
	// Awaits is, for a wait, the step that comes when Next.DueAt is reached
	// (keys.ActionPromote or keys.ActionRetire). A promotion cannot be
	// forced.
	Awaits keys.Action
	// Next is the step due after this one (for a wait: that wait).
	Next keys.Step
	// At is the time the step was decided and taken at.
	At time.Time
	// Set is the key set after the step.
	Set keys.Set
}

// How a canary token was verified (Outcome.Canary).
const (
	CanaryJWKS     = "jwks"
	CanaryKeyStore = "key-store"
)

// KeyStatus is one key of a Listing.
type KeyStatus struct {
	keys.Entry
	Kid, Alg  string    // published keys only
	PromoteAt time.Time // upcoming: the earliest promotion under the policy
	RetireAt  time.Time // retiring: the earliest retirement under the policy
}

// Listing is the key set as it stands.
type Listing struct {
	Keys []KeyStatus
	// Stored is false while no set is stored: Keys then are the current
	// keys, which the functions sign with meanwhile.
	Stored  bool
	Version int64
	Next    keys.Step
	At      time.Time // the time Next was decided at
}

// ---------------------------------------------------------------- steps

// List describes the key set, and the next step. Published keys get their
// kid from the key store.
func (s *Service) List(ctx context.Context, currentKeys []string) (Listing, error) {
	now := s.now()
	set, stored, err := s.load(ctx, currentKeys, now)
	if err != nil {
		return Listing{}, err
	}
	out := Listing{Stored: stored, Version: set.Version, Next: keys.NextStep(set, s.policy, now), At: now}
	for _, e := range set.Entries {
		st := KeyStatus{Entry: e}
		switch e.State {
		case keys.Upcoming:
			st.PromoteAt = s.policy.PromoteAt(e)
		case keys.Retiring:
			st.RetireAt = s.policy.RetireAt(e)
		}
		if e.State.Published() {
			info, err := s.kms.DescribeSigningKey(ctx, e.KeyID)
			if err != nil {
				return Listing{}, kmsErr(err)
			}
			st.Kid, st.Alg = info.Kid, info.Alg
		}
		out.Keys = append(out.Keys, st)
	}
	return out, nil
}

// Rotate takes whichever step of a rotation is due (see keys.NextStep), or
// none: finish a retirement whose deletion was not scheduled, retire,
// promote, or publish a new key.
func (s *Service) Rotate(ctx context.Context, in RotateInput) (Outcome, error) {
	if err := checkSpec(in.Spec); err != nil {
		return Outcome{}, err
	}
	if err := checkDeletionWindow(in.DeletionWindowDays); err != nil {
		return Outcome{}, err
	}
	now := s.now()
	set, stored, err := s.load(ctx, in.CurrentKeys, now)
	if err != nil {
		return Outcome{}, err
	}
	next := keys.NextStep(set, s.policy, now)
	switch next.Action {
	case keys.ActionWait:
		out := Outcome{Action: keys.ActionWait, KeyID: next.KeyID, Next: next, Set: set, Awaits: keys.ActionRetire, At: now}
		if e, ok := set.Find(next.KeyID); ok && e.State == keys.Upcoming {
			out.Awaits = keys.ActionPromote
		}
		return out, nil
	case keys.ActionPublish:
		return s.publish(ctx, in, set, stored, now)
	case keys.ActionPromote:
		return s.promote(ctx, in, next.KeyID, now)
	case keys.ActionRetire:
		return s.retire(ctx, in, next.KeyID, now)
	case keys.ActionScheduleDeletion:
		date, err := s.scheduleDeletion(ctx, next.KeyID, in.DeletionWindowDays, now)
		if err != nil {
			return Outcome{}, err
		}
		return s.done(ctx, Outcome{Action: keys.ActionScheduleDeletion, KeyID: next.KeyID, DeletionDate: date}, now)
	}
	return Outcome{}, fmt.Errorf("rotation: unknown step %q", next.Action)
}

// Withdraw rolls back a publish: the upcoming key leaves the JWKS at once
// (it never signed) and its deletion is scheduled after windowDays.
func (s *Service) Withdraw(ctx context.Context, windowDays int32) (Outcome, error) {
	if err := checkDeletionWindow(windowDays); err != nil {
		return Outcome{}, err
	}
	now := s.now()
	set, err := s.store.GetKeySet(ctx)
	if errors.Is(err, domain.ErrNotFound) {
		return Outcome{}, ErrNothingToWithdraw
	}
	if err != nil {
		return Outcome{}, err
	}
	var upcoming string
	for _, e := range set.Entries {
		if e.State == keys.Upcoming {
			upcoming = e.KeyID
		}
	}
	if upcoming == "" {
		return Outcome{}, ErrNothingToWithdraw
	}
	if _, err := s.store.UpdateKeySet(ctx, func(cur keys.Set) (keys.Set, error) {
		return keys.Withdraw(cur, upcoming, now)
	}); err != nil {
		return Outcome{}, err
	}
	date, err := s.scheduleDeletion(ctx, upcoming, windowDays, now)
	if err != nil {
		return Outcome{}, &DeletionNotScheduledError{Step: keys.ActionWithdraw, KeyID: upcoming, Err: err}
	}
	return s.done(ctx, Outcome{Action: keys.ActionWithdraw, KeyID: upcoming, DeletionDate: date}, now)
}

// load reads the key set; while none is stored, it is the one the stack
// serves from currentKeys, with aliases resolved to ARNs.
func (s *Service) load(ctx context.Context, currentKeys []string, now time.Time) (set keys.Set, stored bool, err error) {
	set, err = s.store.GetKeySet(ctx)
	if err == nil {
		return set, true, nil
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return keys.Set{}, false, err
	}
	if len(currentKeys) == 0 {
		return keys.Set{}, false, ErrNoCurrentKeys
	}
	arns := make([]string, len(currentKeys))
	specs := make([]string, len(currentKeys))
	for i, id := range currentKeys {
		info, err := s.kms.CheckSigningKey(ctx, id)
		if err != nil {
			return keys.Set{}, false, kmsErr(err)
		}
		arns[i], specs[i] = info.ARN, info.Spec
	}
	set, err = keys.Bootstrap(arns, specs, s.policy, now)
	return set, false, err
}

// done completes out with the stored set and the step due after it.
func (s *Service) done(ctx context.Context, out Outcome, now time.Time) (Outcome, error) {
	set, err := s.store.GetKeySet(ctx)
	if err != nil {
		return Outcome{}, err
	}
	out.Set, out.Next, out.At = set, keys.NextStep(set, s.policy, now), now
	return out, nil
}

// publish creates a key and adds it as upcoming (storing the first set if
// there is none). A key that cannot be added is scheduled for deletion.
func (s *Service) publish(ctx context.Context, in RotateInput, set keys.Set, stored bool, now time.Time) (Outcome, error) {
	if in.Stage == "" {
		return Outcome{}, ErrNoStage
	}
	arn, err := s.kms.CreateSigningKey(ctx, in.Spec, in.Stage)
	if err != nil {
		return Outcome{}, kmsErr(err)
	}
	info, err := s.kms.CheckSigningKey(ctx, arn)
	if err == nil {
		if stored {
			_, err = s.store.UpdateKeySet(ctx, func(cur keys.Set) (keys.Set, error) {
				return keys.Publish(cur, arn, in.Spec, s.policy, now)
			})
		} else {
			var first keys.Set
			if first, err = keys.Publish(set, arn, in.Spec, s.policy, now); err == nil {
				err = s.store.CreateKeySet(ctx, first)
			}
		}
	}
	if err != nil {
		// Nothing references the new key: do not leave it behind.
		if _, derr := s.kms.ScheduleDeletion(context.WithoutCancel(ctx), arn, unusedKeyWindowDays); derr != nil {
			return Outcome{}, &UnusedKeyError{KeyID: arn, Err: err, DeleteErr: derr}
		}
		if errors.Is(err, domain.ErrAlreadyExists) || errors.Is(err, domain.ErrConflict) || errors.Is(err, keys.ErrWrongState) {
			return Outcome{}, &ConcurrentChangeError{KeyID: arn, Err: err}
		}
		return Outcome{}, err
	}
	return s.done(ctx, Outcome{Action: keys.ActionPublish, KeyID: arn, Kid: info.Kid, Alg: info.Alg, StoredSet: !stored}, now)
}

// promote makes the upcoming key active, once the key store says it can
// sign and, with a JWKS URL, the live JWKS serves it.
func (s *Service) promote(ctx context.Context, in RotateInput, keyID string, now time.Time) (Outcome, error) {
	info, err := s.kms.CheckSigningKey(ctx, keyID)
	if err != nil {
		return Outcome{}, &UnusableKeyError{KeyID: keyID, Err: kmsErr(err)}
	}
	var published *jose.JSONWebKeySet
	if in.JWKSURL != "" {
		set, err := s.jwks.Fetch(ctx, in.JWKSURL)
		if err != nil {
			return Outcome{}, err
		}
		if len(set.Key(info.Kid)) == 0 {
			return Outcome{}, &KidNotServedError{URL: in.JWKSURL, Kid: info.Kid}
		}
		published = &set
	}
	canary, err := s.checkCanary(ctx, keyID, info.Kid, published)
	if err != nil {
		return Outcome{}, err
	}
	var old string
	if _, err := s.store.UpdateKeySet(ctx, func(cur keys.Set) (keys.Set, error) {
		a, _ := cur.Active()
		old = a.KeyID
		return keys.Promote(cur, keyID, s.policy, now)
	}); err != nil {
		return Outcome{}, err
	}
	return s.done(ctx, Outcome{Action: keys.ActionPromote, KeyID: keyID, Kid: info.Kid, Alg: info.Alg, Demoted: old, Canary: canary}, now)
}

// checkCanary signs a canary token with keyID and verifies it against the
// published JWKS (or, without one, the key store's public key of keyID):
// the key must really sign, under the kid verifiers know it by.
func (s *Service) checkCanary(ctx context.Context, keyID, kid string, published *jose.JSONWebKeySet) (string, error) {
	raw, pub, err := s.canary.SignCanary(ctx, keyID, CanaryIssuer, CanaryAudience)
	if err != nil {
		return "", &CanaryError{KeyID: keyID, Err: kmsErr(err)}
	}
	how, set := CanaryJWKS, published
	if set == nil {
		how, set = CanaryKeyStore, &jose.JSONWebKeySet{Keys: []jose.JSONWebKey{pub}}
	}
	if pub.KeyID != kid {
		return "", &CanaryError{KeyID: keyID, Err: fmt.Errorf("the key store signs under kid %s, the key set knows it as %s", pub.KeyID, kid)}
	}
	v := jwt.NewVerifier(CanaryIssuer, staticKeys(*set), s.now)
	if _, err := v.VerifyAccessToken(ctx, raw, CanaryAudience); err != nil {
		return "", &CanaryError{KeyID: keyID, Verify: true, Err: err}
	}
	return how, nil
}

type staticKeys jose.JSONWebKeySet

func (k staticKeys) Published(context.Context) (jose.JSONWebKeySet, error) {
	return jose.JSONWebKeySet(k), nil
}

// retire takes the retiring key out of the JWKS, then schedules its
// deletion. If the second part fails, the next Rotate does it first.
func (s *Service) retire(ctx context.Context, in RotateInput, keyID string, now time.Time) (Outcome, error) {
	set, err := s.store.UpdateKeySet(ctx, func(cur keys.Set) (keys.Set, error) {
		return keys.Retire(cur, keyID, s.policy, now)
	})
	if err != nil {
		return Outcome{}, err
	}
	if e, ok := set.Find(keyID); ok && e.StackKey {
		// The stack's alias, SigningKeyArn output and SIGNING_KEY_IDS
		// fallback name it: out of the JWKS, but not deleted.
		return s.done(ctx, Outcome{Action: keys.ActionRetire, KeyID: keyID, StackKey: true}, now)
	}
	date, err := s.scheduleDeletion(ctx, keyID, in.DeletionWindowDays, now)
	if err != nil {
		return Outcome{}, &DeletionNotScheduledError{Step: keys.ActionRetire, KeyID: keyID, Err: err}
	}
	return s.done(ctx, Outcome{Action: keys.ActionRetire, KeyID: keyID, DeletionDate: date}, now)
}

// scheduleDeletion schedules a retired key's deletion and records its date.
func (s *Service) scheduleDeletion(ctx context.Context, keyID string, days int32, now time.Time) (time.Time, error) {
	date, err := s.kms.ScheduleDeletion(ctx, keyID, days)
	if err != nil {
		return time.Time{}, kmsErr(err)
	}
	if _, err := s.store.UpdateKeySet(ctx, func(cur keys.Set) (keys.Set, error) {
		return keys.DeletionScheduled(cur, keyID, date, now)
	}); err != nil {
		return time.Time{}, err
	}
	return date, nil
}
