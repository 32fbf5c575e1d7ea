package keys

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"
)

// State is where a key is in its life.
type State string

// The states of a key, in the order a key goes through them.
const (
	Upcoming State = "upcoming"
	Active   State = "active"
	Retiring State = "retiring"
	Retired  State = "retired"
)

// Published reports whether keys in this state are in the JWKS.
func (s State) Published() bool { return s == Upcoming || s == Active || s == Retiring }

func (s State) valid() bool { return s == Upcoming || s == Active || s == Retiring || s == Retired }

// Entry is one KMS key of the set. Times are zero until they happen.
type Entry struct {
	KeyID string // the KMS key ARN
	Spec  string // RSA_2048 or ECC_NIST_P256, for operators
	State State

	PublishedAt   time.Time // entered the JWKS
	PromoteAfter  time.Time // upcoming: earliest promotion, as computed when published
	ActivatedAt   time.Time // became active
	RetiringSince time.Time // stopped being active
	NotAfter      time.Time // retiring: earliest time it may leave the JWKS, as computed when demoted
	RetiredAt     time.Time // left the JWKS
	DeletionDate  time.Time // when KMS deletes the key; zero until deletion is scheduled

	// StackKey: the key the stack was deployed with (SIGNING_KEY_IDS, the
	// CloudFormation-managed key behind its alias, output and fallback).
	// A rotation retires it from the JWKS but never schedules its deletion:
	// that would leave the stack pointing at a dead key.
	StackKey bool
	// Compromised: the key was revoked as compromised (Revoke), not
	// retired in turn.
	Compromised bool
}

// Set is the ordered key set: active first, then upcoming, then retiring
// keys (most recent first), then retired ones. Version is the store's
// compare-and-swap counter.
type Set struct {
	Entries   []Entry
	Version   int64
	UpdatedAt time.Time
}

// MaxRetired is how many retired keys a set keeps as history; older ones
// are dropped once their deletion is scheduled.
const MaxRetired = 10

// Clone returns a deep copy of s.
func (s Set) Clone() Set {
	s.Entries = slices.Clone(s.Entries)
	return s
}

// Active returns the active key.
func (s Set) Active() (Entry, bool) {
	for _, e := range s.Entries {
		if e.State == Active {
			return e, true
		}
	}
	return Entry{}, false
}

// Published returns the keys to serve in the JWKS, active first.
func (s Set) Published() []Entry {
	var out []Entry
	for _, e := range s.Entries {
		if e.State.Published() {
			out = append(out, e)
		}
	}
	slices.SortStableFunc(out, func(a, b Entry) int { return cmp.Compare(rank(a.State), rank(b.State)) })
	return out
}

// Find returns the entry of keyID.
func (s Set) Find(keyID string) (Entry, bool) {
	i := s.index(keyID)
	if i < 0 {
		return Entry{}, false
	}
	return s.Entries[i], true
}

func (s Set) index(keyID string) int {
	return slices.IndexFunc(s.Entries, func(e Entry) bool { return e.KeyID == keyID })
}

// Validate checks the invariants every stored set keeps: exactly one
// active key, at most one upcoming key, unique non-empty key ids, known
// states.
func (s Set) Validate() error {
	var active, upcoming int
	seen := map[string]bool{}
	for i, e := range s.Entries {
		switch {
		case e.KeyID == "":
			return fmt.Errorf("keyring: entry %d has no key id", i)
		case seen[e.KeyID]:
			return fmt.Errorf("keyring: key %s listed twice", e.KeyID)
		case !e.State.valid():
			return fmt.Errorf("keyring: key %s has unknown state %q", e.KeyID, e.State)
		}
		seen[e.KeyID] = true
		switch e.State {
		case Active:
			active++
		case Upcoming:
			upcoming++
		}
	}
	if active != 1 {
		return fmt.Errorf("keyring: %d active keys, want exactly one", active)
	}
	if upcoming > 1 {
		return fmt.Errorf("keyring: %d upcoming keys, want at most one", upcoming)
	}
	return nil
}

func rank(s State) int {
	switch s {
	case Active:
		return 0
	case Upcoming:
		return 1
	case Retiring:
		return 2
	default:
		return 3
	}
}

// normalize orders the entries (active, upcoming, retiring newest first,
// retired newest first) and drops the oldest retired keys beyond
// MaxRetired whose deletion is scheduled.
func (s *Set) normalize() {
	slices.SortStableFunc(s.Entries, func(a, b Entry) int {
		if c := cmp.Compare(rank(a.State), rank(b.State)); c != 0 {
			return c
		}
		switch a.State {
		case Retiring:
			return b.RetiringSince.Compare(a.RetiringSince)
		case Retired:
			return b.RetiredAt.Compare(a.RetiredAt)
		}
		return 0
	})
	retired := 0
	s.Entries = slices.DeleteFunc(s.Entries, func(e Entry) bool {
		if e.State != Retired {
			return false
		}
		retired++
		return retired > MaxRetired && (!e.DeletionDate.IsZero() || e.StackKey)
	})
}

// ---------------------------------------------------------------- timing

// Policy holds the bounds that rotation timing derives from. They must match
// the deployed stack: JWKSMaxAge is its JWKS_MAX_AGE, Refresh its
// KEYSET_REFRESH, MaxTokenLifetime the longest lifetime of any JWT it signs.
type Policy struct {
	// JWKSMaxAge is the JWKS Cache-Control max-age: how long a verifier may
	// keep serving itself a JWKS it fetched.
	JWKSMaxAge time.Duration
	// Refresh is how long a warm function may keep a key set it read.
	Refresh time.Duration
	// MaxTokenLifetime is the longest exp − iat of any token signed.
	MaxTokenLifetime time.Duration
	// ClockSkew is the leeway verifiers allow on exp, and the margin
	// between the operator's clock and the functions'.
	ClockSkew time.Duration
	// KeyAccess is how long a new key may take to become usable by the
	// functions: their IAM policies grant it through its tag, and KMS
	// applies tag-based authorization eventually (AWS documents up to five
	// minutes). Until then their refresh fails and they serve the old set.
	KeyAccess time.Duration
}

// DefaultPolicy matches the stack's defaults: JWKS_MAX_AGE 5m, KEYSET_REFRESH
// 60s, and 24h, the longest access-token lifetime an application may have
// (appsapi.MaxM2MAccessTokenLifetime), with 5 minutes of clock skew and 5
// minutes for KMS to authorize a new key by its tag.
func DefaultPolicy() Policy {
	return Policy{JWKSMaxAge: 5 * time.Minute, Refresh: time.Minute, MaxTokenLifetime: 24 * time.Hour,
		ClockSkew: 5 * time.Minute, KeyAccess: 5 * time.Minute}
}

// LongestApplicationTokenLifetime is the longest access-token lifetime an
// application may be given (applications.MaxM2MAccessTokenLifetime): a
// rotation must wait for such a token to expire, whatever the stage's
// default lifetime.
const LongestApplicationTokenLifetime = 24 * time.Hour

// MinKeyAccess is how long AWS KMS may take to authorize a new key by its
// tag (AWS documents up to five minutes).
const MinKeyAccess = 5 * time.Minute

// Stage is what a deployed stack's functions read that a rotation's waits
// must cover.
type Stage struct {
	JWKSMaxAge          time.Duration // JWKS_MAX_AGE
	Refresh             time.Duration // KEYSET_REFRESH
	AccessTokenLifetime time.Duration // ACCESS_TOKEN_LIFETIME
	// KMSEmulator: the keys live in a local emulator, which authorizes a
	// new key at once.
	KMSEmulator bool
}

// SafeMinimum is the least policy that keeps the stage's tokens and caches
// valid through a rotation: verifiers keep the JWKS for its max-age,
// functions keep the key set for its refresh, a token lives up to the
// longest lifetime the stage or an application gives it, and AWS KMS takes
// up to five minutes to authorize a key. Clock skew has no floor beyond
// zero.
func (s Stage) SafeMinimum() Policy {
	p := Policy{JWKSMaxAge: s.JWKSMaxAge, Refresh: s.Refresh,
		MaxTokenLifetime: max(s.AccessTokenLifetime, LongestApplicationTokenLifetime), KeyAccess: MinKeyAccess}
	if s.KMSEmulator {
		p.KeyAccess = 0
	}
	return p
}

// BelowMinimum lists each bound of p below min's, such as
// "jwks-max-age 0s < 5m0s"; none when p is safe.
func (p Policy) BelowMinimum(min Policy) []string {
	var out []string
	for _, b := range []struct {
		name     string
		got, min time.Duration
	}{
		{"jwks-max-age", p.JWKSMaxAge, min.JWKSMaxAge}, {"refresh", p.Refresh, min.Refresh},
		{"max-token-lifetime", p.MaxTokenLifetime, min.MaxTokenLifetime}, {"clock-skew", p.ClockSkew, min.ClockSkew},
		{"key-access", p.KeyAccess, min.KeyAccess},
	} {
		if b.got < b.min {
			out = append(out, fmt.Sprintf("%s %s < %s", b.name, b.got, b.min))
		}
	}
	return out
}

// Validate rejects a policy whose bounds cannot be right.
func (p Policy) Validate() error {
	switch {
	case p.JWKSMaxAge < 0:
		return errors.New("keyring: JWKS max-age must not be negative")
	case p.Refresh <= 0:
		return errors.New("keyring: the key-set refresh interval must be positive")
	case p.MaxTokenLifetime <= 0:
		return errors.New("keyring: the longest token lifetime must be positive")
	case p.ClockSkew < 0:
		return errors.New("keyring: clock skew must not be negative")
	case p.KeyAccess < 0:
		return errors.New("keyring: the key access delay must not be negative")
	}
	return nil
}

// PromoteDelay is how long a key must be published before it may sign: the
// functions may read it once KMS authorizes them (KeyAccess), every warm
// function re-reads the set within Refresh, and a verifier that fetched the
// JWKS just before that keeps it for JWKSMaxAge.
func (p Policy) PromoteDelay() time.Duration {
	return p.KeyAccess + p.Refresh + p.JWKSMaxAge + p.ClockSkew
}

// RetireDelay is how long a key stays published after it stopped being
// active: a warm function may sign with it for Refresh more, and that token
// is valid for MaxTokenLifetime, plus ClockSkew of verifier leeway.
func (p Policy) RetireDelay() time.Duration { return p.Refresh + p.MaxTokenLifetime + p.ClockSkew }

// PromoteAt is the earliest time the upcoming key e may become active: the
// later of what was computed when it was published and what p requires now.
func (p Policy) PromoteAt(e Entry) time.Time {
	return later(e.PromoteAfter, e.PublishedAt.Add(p.PromoteDelay()))
}

// RetireAt is the earliest time the retiring key e may leave the JWKS.
func (p Policy) RetireAt(e Entry) time.Time {
	return later(e.NotAfter, e.RetiringSince.Add(p.RetireDelay()))
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// ---------------------------------------------------------------- steps

// Action is one rotation step.
type Action string

// The steps of a rotation, and waiting for one.
const (
	ActionPublish          Action = "publish"           // create and publish the next key
	ActionPromote          Action = "promote"           // make the upcoming key active
	ActionRetire           Action = "retire"            // drop a retiring key from the JWKS and schedule its deletion
	ActionScheduleDeletion Action = "schedule-deletion" // a retired key's deletion is still to schedule
	ActionWait             Action = "wait"              // nothing is due before DueAt
	ActionWithdraw         Action = "withdraw"          // roll back a publish; never a NextStep
)

// Step is what NextStep says to do.
type Step struct {
	Action Action
	KeyID  string    // the key the step acts on (none for publish)
	DueAt  time.Time // wait: when the next step is due
	Reason string    // for operators
}

// NextStep says which rotation step is due at now. Finishing an earlier
// rotation comes before starting a new one: a retired key whose deletion is
// not scheduled yet, then a retiring key that may leave the JWKS, then an
// upcoming key that may be promoted. If one of those is not due yet, the
// answer is to wait for the earliest; with none of them, to publish.
func NextStep(s Set, p Policy, now time.Time) Step {
	for _, e := range s.Entries {
		if e.State == Retired && e.DeletionDate.IsZero() && !e.StackKey {
			return Step{Action: ActionScheduleDeletion, KeyID: e.KeyID,
				Reason: "retired key " + e.KeyID + " is out of the JWKS but its deletion is not scheduled yet"}
		}
	}
	var wait Step
	// consider returns the step on e if it is due, and otherwise keeps the
	// earliest one as what to wait for.
	consider := func(e Entry, at time.Time, action Action, cond, since string) (Step, bool) {
		if !now.Before(at) {
			return Step{Action: action, KeyID: e.KeyID, Reason: string(action) + " " + e.KeyID + ": " + cond + " (" + since + ")"}, true
		}
		if wait.Action == "" || at.Before(wait.DueAt) {
			wait = Step{Action: ActionWait, KeyID: e.KeyID, DueAt: at,
				Reason: string(action) + " " + e.KeyID + " once " + cond + " (" + since + ")"}
		}
		return Step{}, false
	}
	for _, e := range s.Entries {
		if e.State == Retiring {
			if st, due := consider(e, p.RetireAt(e), ActionRetire, "its last token has expired",
				"retiring since "+e.RetiringSince.UTC().Format(time.RFC3339)); due {
				return st
			}
		}
	}
	for _, e := range s.Entries {
		if e.State == Upcoming {
			if st, due := consider(e, p.PromoteAt(e), ActionPromote, "every function and JWKS cache has seen it",
				"published at "+e.PublishedAt.UTC().Format(time.RFC3339)); due {
				return st
			}
		}
	}
	if wait.Action != "" {
		return wait
	}
	return Step{Action: ActionPublish, Reason: "no rotation in progress: the next key is to be created and published"}
}

// NotDueError is a step refused because its bound has not passed.
type NotDueError struct {
	Action Action
	KeyID  string
	DueAt  time.Time
}

func (e *NotDueError) Error() string {
	return fmt.Sprintf("keyring: %s %s is not due before %s", e.Action, e.KeyID, e.DueAt.UTC().Format(time.RFC3339))
}

// ErrWrongState is a step asked of a key that is not in the state it needs.
var ErrWrongState = errors.New("keyring: key is not in the state this step needs")

// Bootstrap is the set a stack already serves from a static key list
// (SIGNING_KEY_IDS): the first key active, any others retiring from now,
// so they stay published for a full RetireDelay. They are the stack's own
// keys (StackKey): never scheduled for deletion.
func Bootstrap(keyIDs []string, specs []string, p Policy, now time.Time) (Set, error) {
	if len(keyIDs) == 0 {
		return Set{}, errors.New("keyring: no key to start the set from")
	}
	s := Set{UpdatedAt: now}
	for i, id := range keyIDs {
		e := Entry{KeyID: id, PublishedAt: now, StackKey: true}
		if i < len(specs) {
			e.Spec = specs[i]
		}
		if i == 0 {
			e.State, e.ActivatedAt = Active, now
		} else {
			e.State, e.RetiringSince, e.NotAfter = Retiring, now, now.Add(p.RetireDelay())
		}
		s.Entries = append(s.Entries, e)
	}
	s.normalize()
	return s, s.Validate()
}

// Publish adds keyID as the upcoming key (step 1).
func Publish(s Set, keyID, spec string, p Policy, now time.Time) (Set, error) {
	if keyID == "" {
		return Set{}, errors.New("keyring: publish: empty key id")
	}
	if _, ok := s.Find(keyID); ok {
		return Set{}, fmt.Errorf("keyring: publish: key %s is already in the set", keyID)
	}
	for _, e := range s.Entries {
		if e.State == Upcoming {
			return Set{}, fmt.Errorf("keyring: publish: key %s is already upcoming: %w", e.KeyID, ErrWrongState)
		}
	}
	s = s.Clone()
	s.Entries = append(s.Entries, Entry{
		KeyID: keyID, Spec: spec, State: Upcoming,
		PublishedAt: now, PromoteAfter: now.Add(p.PromoteDelay()),
	})
	s.UpdatedAt = now
	s.normalize()
	return s, s.Validate()
}

// Promote makes the upcoming key keyID active and the active key retiring
// (step 2). It fails with *NotDueError before p.PromoteAt: there is no way
// around that bound.
func Promote(s Set, keyID string, p Policy, now time.Time) (Set, error) {
	i := s.index(keyID)
	if i < 0 || s.Entries[i].State != Upcoming {
		return Set{}, fmt.Errorf("keyring: promote %s: %w", keyID, ErrWrongState)
	}
	if at := p.PromoteAt(s.Entries[i]); now.Before(at) {
		return Set{}, &NotDueError{Action: ActionPromote, KeyID: keyID, DueAt: at}
	}
	s = s.Clone()
	for j := range s.Entries {
		if s.Entries[j].State == Active {
			e := &s.Entries[j]
			e.State, e.RetiringSince, e.NotAfter = Retiring, now, now.Add(p.RetireDelay())
		}
	}
	e := &s.Entries[i]
	e.State, e.ActivatedAt = Active, now
	s.UpdatedAt = now
	s.normalize()
	return s, s.Validate()
}

// Retire drops the retiring key keyID from the JWKS (step 3). It fails with
// *NotDueError before p.RetireAt. Its KMS key is to be scheduled for
// deletion next, and that recorded with DeletionScheduled.
func Retire(s Set, keyID string, p Policy, now time.Time) (Set, error) {
	i := s.index(keyID)
	if i < 0 || s.Entries[i].State != Retiring {
		return Set{}, fmt.Errorf("keyring: retire %s: %w", keyID, ErrWrongState)
	}
	if at := p.RetireAt(s.Entries[i]); now.Before(at) {
		return Set{}, &NotDueError{Action: ActionRetire, KeyID: keyID, DueAt: at}
	}
	s = s.Clone()
	s.Entries[i].State, s.Entries[i].RetiredAt = Retired, now
	s.UpdatedAt = now
	s.normalize()
	return s, s.Validate()
}

// Withdraw rolls back step 1: the upcoming key keyID leaves the JWKS at
// once, which is safe because nothing was ever signed with it.
func Withdraw(s Set, keyID string, now time.Time) (Set, error) {
	i := s.index(keyID)
	if i < 0 || s.Entries[i].State != Upcoming {
		return Set{}, fmt.Errorf("keyring: withdraw %s: %w", keyID, ErrWrongState)
	}
	s = s.Clone()
	s.Entries[i].State, s.Entries[i].RetiredAt = Retired, now
	s.UpdatedAt = now
	s.normalize()
	return s, s.Validate()
}

// DeletionScheduled records that KMS will delete the retired key keyID at
// date.
func DeletionScheduled(s Set, keyID string, date, now time.Time) (Set, error) {
	i := s.index(keyID)
	if i < 0 || s.Entries[i].State != Retired {
		return Set{}, fmt.Errorf("keyring: record deletion of %s: %w", keyID, ErrWrongState)
	}
	s = s.Clone()
	s.Entries[i].DeletionDate = date
	s.UpdatedAt = now
	s.normalize()
	return s, s.Validate()
}

// ErrNoReplacement: the compromised key is the active one, and no other
// published key can take over (publish one in the same change).
var ErrNoReplacement = errors.New("keyring: no other published key can replace the active key")

// Revoke takes the compromised key keyID out of the JWKS at once, without
// waiting for anything: tokens it signed stop verifying as soon as
// verifiers re-read the JWKS. If it is the active key, the published key
// that has been in the JWKS longest (an upcoming key, or a retiring one,
// which is still trusted) becomes active at once, and is returned as
// promoted; with none, it fails with ErrNoReplacement. Revoking a key that
// is already retired only marks it compromised.
func Revoke(s Set, keyID string, now time.Time) (next Set, promoted string, err error) {
	i := s.index(keyID)
	if i < 0 {
		return Set{}, "", fmt.Errorf("keyring: revoke %s: not in the key set: %w", keyID, ErrWrongState)
	}
	s = s.Clone()
	e := &s.Entries[i]
	if e.State == Active {
		r := -1
		for j, c := range s.Entries {
			if j != i && (c.State == Upcoming || c.State == Retiring) && (r < 0 || c.PublishedAt.Before(s.Entries[r].PublishedAt)) {
				r = j
			}
		}
		if r < 0 {
			return Set{}, "", ErrNoReplacement
		}
		n := &s.Entries[r]
		n.State, n.ActivatedAt, n.RetiringSince, n.NotAfter = Active, now, time.Time{}, time.Time{}
		promoted = n.KeyID
	}
	if e.State != Retired {
		e.State, e.RetiredAt = Retired, now
	}
	e.Compromised = true
	s.UpdatedAt = now
	s.normalize()
	return s, promoted, s.Validate()
}
