package memory

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys"
	"orgauth/pkg/storage"
)

var _ storage.Store = (*Store)(nil)

// casAttempts bounds the read-modify-write rounds of an Update, as in
// pkg/storage/dynamo.
const casAttempts = 5

// Store keeps every item of storage.Store in memory, behind one lock. It is
// safe for concurrent use. The zero value is not; use New.
type Store struct {
	mu          sync.Mutex
	orgs        map[string]domain.Organization
	apps        map[string]domain.Application
	users       map[string]domain.User
	emails      map[string]string // lower-cased email -> user id
	flows       flowState         // codes, refresh tokens, revoked jtis (codes.go)
	sessions    sessionState      // login transactions, sessions, counters (session.go)
	sso         ssoState          // SSO transactions, upstream links (sso.go)
	keySets     map[string]keys.Set
	apis        map[string]domain.API // by audience (authz.go)
	consents    map[consentKey]domain.Consent
	usage       map[string]map[int]usageShard // usage counters (usage.go)
	wrappedKeys map[string]domain.WrappedKey  // by name (wrappedkey.go)
}

// New returns an empty store.
func New() *Store {
	return &Store{
		orgs:        map[string]domain.Organization{},
		apps:        map[string]domain.Application{},
		users:       map[string]domain.User{},
		emails:      map[string]string{},
		keySets:     map[string]keys.Set{},
		apis:        map[string]domain.API{},
		consents:    map[consentKey]domain.Consent{},
		usage:       map[string]map[int]usageShard{},
		wrappedKeys: map[string]domain.WrappedKey{},
		sessions: sessionState{
			txs:      map[string]domain.LoginTransaction{},
			sessions: map[string]domain.Session{},
			counters: map[string]counter{},
		},
		sso: ssoState{
			links: map[string]domain.UpstreamLink{},
		},
	}
}

// ---------------------------------------------------------------- organizations

func (s *Store) CreateOrganization(_ context.Context, o domain.Organization) error {
	if o.ID == "" {
		return errors.New("memory: organization id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.orgs[o.ID]; ok {
		return fmt.Errorf("memory: organization %q: %w", o.ID, domain.ErrAlreadyExists)
	}
	o.Version = 1
	s.orgs[o.ID] = cleanOrg(o)
	return nil
}

func (s *Store) GetOrganization(_ context.Context, id string) (domain.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[id]
	if !ok {
		return domain.Organization{}, fmt.Errorf("memory: organization %q: %w", id, domain.ErrNotFound)
	}
	return cleanOrg(o), nil
}

func (s *Store) UpdateOrganization(_ context.Context, id string, fn func(domain.Organization) (domain.Organization, error)) (domain.Organization, error) {
	return update(s, s.orgs, "organization", id, fn, checkOrgKeys, cleanOrg,
		func(o *domain.Organization) *int64 { return &o.Version })
}

func (s *Store) ListOrganizations(_ context.Context) ([]domain.Organization, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]domain.Organization, 0, len(s.orgs))
	for _, o := range s.orgs {
		out = append(out, cleanOrg(o))
	}
	slices.SortFunc(out, func(a, b domain.Organization) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

func checkOrgKeys(old, new domain.Organization) error {
	switch {
	case new.ID != old.ID:
		return keyChanged("organization", "ID")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("organization", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- applications

func (s *Store) CreateApplication(_ context.Context, a domain.Application) error {
	if a.ClientID == "" || a.OrganizationID == "" {
		return errors.New("memory: application client id or organization id is empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[a.ClientID]; ok {
		return fmt.Errorf("memory: application %q: %w", a.ClientID, domain.ErrAlreadyExists)
	}
	a.Version = 1
	s.apps[a.ClientID] = cleanApp(a)
	return nil
}

func (s *Store) GetApplication(_ context.Context, clientID string) (domain.Application, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[clientID]
	if !ok {
		return domain.Application{}, fmt.Errorf("memory: application %q: %w", clientID, domain.ErrNotFound)
	}
	return cleanApp(a), nil
}

func (s *Store) UpdateApplication(_ context.Context, clientID string, fn func(domain.Application) (domain.Application, error)) (domain.Application, error) {
	return update(s, s.apps, "application", clientID, storage.KeepThrottled(fn), checkAppKeys, cleanApp,
		func(a *domain.Application) *int64 { return &a.Version })
}

// ThrottleApplication raises the application's ThrottledUntil; an unknown
// client is no error.
func (s *Store) ThrottleApplication(_ context.Context, clientID string, until time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.apps[clientID]
	if !ok || !a.ThrottledUntil.Before(time.Unix(until.Unix(), 0)) {
		return nil
	}
	a.ThrottledUntil = until
	s.apps[clientID] = cleanApp(a)
	return nil
}

func (s *Store) DeleteApplication(_ context.Context, clientID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.apps[clientID]; !ok {
		return fmt.Errorf("memory: application %q: %w", clientID, domain.ErrNotFound)
	}
	delete(s.apps, clientID)
	return nil
}

// OriginAllowed reports whether some application lists origin.
func (s *Store) OriginAllowed(_ context.Context, origin string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, a := range s.apps {
		if slices.Contains(a.AllowedOrigins, origin) {
			return true, nil
		}
	}
	return false, nil
}

// ListApplications pages through an organization's applications in creation
// order, the order of storage.CreationKey.
func (s *Store) ListApplications(_ context.Context, orgID string, limit int, cursor string) ([]domain.Application, string, error) {
	var after string
	if cursor != "" {
		at, id, err := storage.DecodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		after = storage.CreationKey(at, id)
	}
	limit = pageSize(limit)
	s.mu.Lock()
	var apps []domain.Application
	for _, a := range s.apps {
		if a.OrganizationID == orgID && (after == "" || storage.CreationKey(a.CreatedAt, a.ClientID) > after) {
			apps = append(apps, cleanApp(a))
		}
	}
	s.mu.Unlock()
	slices.SortFunc(apps, func(a, b domain.Application) int {
		return cmp.Compare(storage.CreationKey(a.CreatedAt, a.ClientID), storage.CreationKey(b.CreatedAt, b.ClientID))
	})
	if len(apps) <= limit {
		return apps, "", nil
	}
	last := apps[limit-1]
	return apps[:limit], storage.EncodeCursor(last.CreatedAt, last.ClientID), nil
}

// pageSize applies ListApplications' default and maximum page size.
func pageSize(limit int) int {
	if limit <= 0 {
		return 50
	}
	return min(limit, 100)
}

func checkAppKeys(old, new domain.Application) error {
	switch {
	case new.ClientID != old.ClientID:
		return keyChanged("application", "ClientID")
	case new.OrganizationID != old.OrganizationID:
		return keyChanged("application", "OrganizationID")
	case new.Type != old.Type:
		return keyChanged("application", "Type")
	case new.CreatedBy != old.CreatedBy:
		return keyChanged("application", "CreatedBy")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("application", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- users

func (s *Store) CreateUser(_ context.Context, u domain.User) error {
	if u.ID == "" || u.OrganizationID == "" || u.Email == "" {
		return errors.New("memory: user id, organization id or email is empty")
	}
	u = cleanUser(u)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[u.ID]; ok {
		return fmt.Errorf("memory: user %q: %w", u.ID, domain.ErrAlreadyExists)
	}
	if _, ok := s.emails[u.Email]; ok {
		return fmt.Errorf("memory: user email: %w", domain.ErrAlreadyExists)
	}
	u.Version = 1
	s.users[u.ID] = u
	s.emails[u.Email] = u.ID
	return nil
}

func (s *Store) GetUser(_ context.Context, id string) (domain.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[id]
	if !ok {
		return domain.User{}, fmt.Errorf("memory: user %q: %w", id, domain.ErrNotFound)
	}
	return u, nil
}

func (s *Store) GetUserByEmail(ctx context.Context, email string) (domain.User, error) {
	s.mu.Lock()
	id, ok := s.emails[domain.LowerASCII(email)]
	s.mu.Unlock()
	if !ok {
		return domain.User{}, fmt.Errorf("memory: user email: %w", domain.ErrNotFound)
	}
	return s.GetUser(ctx, id)
}

func (s *Store) UpdateUser(_ context.Context, id string, fn func(domain.User) (domain.User, error)) (domain.User, error) {
	return update(s, s.users, "user", id, fn, checkUserKeys, cleanUser,
		func(u *domain.User) *int64 { return &u.Version })
}

func (s *Store) ListUsers(_ context.Context, orgID string) ([]domain.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []domain.User
	for _, u := range s.users {
		if u.OrganizationID == orgID {
			out = append(out, u)
		}
	}
	slices.SortFunc(out, func(a, b domain.User) int { return strings.Compare(a.Email, b.Email) })
	return out, nil
}

// checkUserKeys also freezes the email: moving the unique email claim is not
// supported by an update.
func checkUserKeys(old, new domain.User) error {
	switch {
	case new.ID != old.ID:
		return keyChanged("user", "ID")
	case new.OrganizationID != old.OrganizationID:
		return keyChanged("user", "OrganizationID")
	case !strings.EqualFold(new.Email, old.Email):
		return keyChanged("user", "Email")
	case !new.CreatedAt.Equal(old.CreatedAt):
		return keyChanged("user", "CreatedAt")
	}
	return nil
}

// ---------------------------------------------------------------- shared

// update is the compare-and-swap loop every Update* runs, the same as
// pkg/storage/dynamo's: read a copy, apply fn outside the lock, and write only if
// the version is still the one read. fn may therefore run more than once.
// version points at the entity's Version field.
func update[T any](s *Store, m map[string]T, kind, id string,
	fn func(T) (T, error),
	checkKeys func(old, new T) error,
	clean func(T) T,
	version func(*T) *int64,
) (T, error) {
	var zero T
	notFound := fmt.Errorf("memory: %s %q: %w", kind, id, domain.ErrNotFound)
	for range casAttempts {
		s.mu.Lock()
		old, ok := m[id]
		s.mu.Unlock()
		if !ok {
			return zero, notFound
		}
		old = clean(old) // fn gets its own copy to mutate
		v := *version(&old)
		next, err := fn(old)
		if err != nil {
			return zero, err
		}
		if err := checkKeys(old, next); err != nil {
			return zero, err
		}
		next = clean(next)
		*version(&next) = v + 1
		s.mu.Lock()
		cur, ok := m[id]
		won := ok && *version(&cur) == v
		if won {
			m[id] = next
		}
		s.mu.Unlock()
		switch {
		case !ok:
			return zero, notFound
		case won:
			return clean(next), nil
		}
	}
	return zero, fmt.Errorf("memory: %s %q: %d attempts lost: %w", kind, id, casAttempts, domain.ErrConflict)
}

func keyChanged(kind, field string) error {
	return fmt.Errorf("memory: update must not change the %s's %s", kind, field)
}

// The clean* functions give a stored value the shape pkg/storage/dynamo returns:
// times in UTC without a monotonic reading, durations in whole seconds,
// empty slices as nil, and no memory shared with the argument.

func cleanOrg(o domain.Organization) domain.Organization {
	o.CreatedAt, o.UpdatedAt = o.CreatedAt.UTC(), o.UpdatedAt.UTC()
	if o.SSO != nil {
		sso := *o.SSO
		sso.ClientSecretCiphertext = nilIfEmpty(bytes.Clone(sso.ClientSecretCiphertext))
		sso.Scopes = nilIfEmptyList(slices.Clone(sso.Scopes))
		sso.Domains = nilIfEmptyList(slices.Clone(sso.Domains))
		sso.Applications = nilIfEmptyList(slices.Clone(sso.Applications))
		o.SSO = &sso
	}
	return o
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

func nilIfEmptyList(l []string) []string {
	if len(l) == 0 {
		return nil
	}
	return l
}

func cleanApp(a domain.Application) domain.Application {
	a.CallbackURLs = clone(a.CallbackURLs)
	a.AllowedOrigins = clone(a.AllowedOrigins)
	a.LogoutURLs = clone(a.LogoutURLs)
	a.Scopes = clone(a.Scopes)
	a.SecretHash = clone(a.SecretHash)
	a.PreviousSecretHash = clone(a.PreviousSecretHash)
	a.AccessTokenLifetime = a.AccessTokenLifetime.Truncate(time.Second)
	a.PreviousSecretExpiresAt = a.PreviousSecretExpiresAt.UTC()
	if !a.ThrottledUntil.IsZero() { // whole seconds, as DynamoDB keeps it
		a.ThrottledUntil = time.Unix(a.ThrottledUntil.Unix(), 0).UTC()
	}
	a.CreatedAt, a.UpdatedAt = a.CreatedAt.UTC(), a.UpdatedAt.UTC()
	return a
}

func cleanUser(u domain.User) domain.User {
	u.Email = domain.LowerASCII(u.Email)
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return u
}

func clone[S ~[]E, E any](s S) S {
	if len(s) == 0 {
		return nil
	}
	return slices.Clone(s)
}
