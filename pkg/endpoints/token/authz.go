package token

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth"
)

// APIs reads the registered APIs: which scopes each role may hold.
type APIs interface {
	GetAPI(ctx context.Context, audience string) (domain.API, error)
}

// ttlCache keeps answers of the table for a warm function, each for at
// most ttl (ORG_CACHE_TTL): whether an application still exists, a user
// is still enabled, what a role may hold. Zero ttl caches nothing.
type ttlCache[V any] struct {
	ttl   time.Duration
	now   func() time.Time
	fetch func(ctx context.Context, key string) (V, error)

	mu sync.Mutex
	m  map[string]cacheEntry[V]
}

type cacheEntry[V any] struct {
	v       V
	err     error // ErrNotFound is an answer too
	fetched time.Time
}

func newTTLCache[V any](ttl time.Duration, now func() time.Time, fetch func(context.Context, string) (V, error)) *ttlCache[V] {
	return &ttlCache[V]{ttl: ttl, now: now, fetch: fetch, m: map[string]cacheEntry[V]{}}
}

func (c *ttlCache[V]) get(ctx context.Context, key string) (V, error) {
	now := c.now()
	if c.ttl > 0 {
		c.mu.Lock()
		e, ok := c.m[key]
		c.mu.Unlock()
		if ok && now.Sub(e.fetched) < c.ttl && now.Sub(e.fetched) >= 0 {
			return e.v, e.err
		}
	}
	v, err := c.fetch(ctx, key)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		return v, err
	}
	if c.ttl > 0 {
		c.mu.Lock()
		if len(c.m) > 10000 { // a bound, not an eviction policy
			clear(c.m)
		}
		c.m[key] = cacheEntry[V]{v: v, err: err, fetched: now}
		c.mu.Unlock()
	}
	return v, err
}

// lookups are the cached reads of the token checks. The organization (its
// plan) is among them, so that a warm function's client_credentials path
// costs one DynamoDB read (the client) plus one KMS Sign; a plan change
// takes effect within the TTL.
type lookups struct {
	orgs  *ttlCache[domain.Organization]
	apps  *ttlCache[domain.Application]
	users *ttlCache[domain.User]
	apis  *ttlCache[domain.API]
}

func newLookups(st Store, ttl time.Duration, now func() time.Time) lookups {
	return lookups{
		orgs:  newTTLCache(ttl, now, st.GetOrganization),
		apps:  newTTLCache(ttl, now, st.GetApplication),
		users: newTTLCache(ttl, now, st.GetUser),
		apis:  newTTLCache(ttl, now, st.GetAPI),
	}
}

// api is the registered API of audience, nil when it is not registered.
func (h *Handler) api(ctx context.Context, audience string) (*domain.API, error) {
	api, err := h.lookups.apis.get(ctx, audience)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load API: %w", err)
	}
	return &api, nil
}

// heldScopes narrows scopes to what the user's role may hold now on the
// audience's API, and the application names (domain.HeldScopes).
func (h *Handler) heldScopes(ctx context.Context, app domain.Application, role domain.Role, audience string, scopes []string) ([]string, error) {
	api, err := h.api(ctx, audience)
	if err != nil {
		return nil, err
	}
	return domain.HeldScopes(scopes, app.Scopes, role, api), nil
}

// m2mCreator is the member whose role bounds an M2M application's tokens:
// its creator, who must still be an enabled member of its organization. An
// application whose creator was disabled or deleted gets no token until
// an operator transfers it to another member (orgauthctl apps transfer).
func (h *Handler) m2mCreator(ctx context.Context, app domain.Application) (domain.User, error) {
	u, err := h.lookups.users.get(ctx, app.CreatedBy)
	u, err = domain.SignInUser(u, err, app.OrganizationID)
	switch {
	case domain.IsSignInRefusal(err):
		return u, oauth.UnauthorizedClient("the member who created this application is disabled or no longer in its organization; an operator must transfer it to another member")
	case err != nil:
		return u, fmt.Errorf("load the application's creator: %w", err)
	}
	return u, nil
}

// standsFor reports whether an access token's application still exists
// and, for a user's token, its user may still sign in to the token's
// organization: the tokens of a deleted application, or of a disabled or
// deleted user, are refused everywhere they are checked.
func (h *Handler) standsFor(ctx context.Context, c jwt.AccessClaims) (bool, error) {
	return h.holdersLive(ctx, c.ClientID, c.Subject, c.OrgID)
}

// holdersLive is standsFor on a client, subject (the client itself for an
// M2M token) and organization.
func (h *Handler) holdersLive(ctx context.Context, clientID, subject, orgID string) (bool, error) {
	app, err := h.lookups.apps.get(ctx, clientID)
	if errors.Is(err, domain.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load client: %w", err)
	}
	if !app.Admits(orgID) {
		return false, nil
	}
	if subject == clientID {
		return true, nil
	}
	u, err := h.lookups.users.get(ctx, subject)
	_, err = domain.SignInUser(u, err, orgID)
	switch {
	case domain.IsSignInRefusal(err):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("load user: %w", err)
	}
	return true, nil
}
