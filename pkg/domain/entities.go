package domain

import (
	"fmt"
	"slices"
	"time"
)

// Plan is an organization's subscription plan. Plans are ordered: a feature
// sold from one plan up is available on every later plan in Plans.
type Plan string

const (
	PlanFree                Plan = "free"
	PlanTeam                Plan = "team"
	PlanEnterprise          Plan = "enterprise"
	PlanEnterpriseLarge     Plan = "enterprise_large"
	PlanEnterpriseUnlimited Plan = "enterprise_unlimited"
)

// Plans lists every plan from the smallest to the largest.
var Plans = []Plan{PlanFree, PlanTeam, PlanEnterprise, PlanEnterpriseLarge, PlanEnterpriseUnlimited}

// MinimumPlanForM2M is the smallest plan that may use M2M applications.
const MinimumPlanForM2M = PlanEnterpriseLarge

// ParsePlan validates a plan name.
func ParsePlan(s string) (Plan, error) {
	p := Plan(s)
	if !slices.Contains(Plans, p) {
		return "", fmt.Errorf("unknown plan %q (one of %v)", s, Plans)
	}
	return p, nil
}

// AtLeast reports whether p is min or a larger plan. An unknown plan is
// never at least anything.
func (p Plan) AtLeast(min Plan) bool {
	i, j := slices.Index(Plans, p), slices.Index(Plans, min)
	return i >= 0 && j >= 0 && i >= j
}

// AllowsM2M reports whether organizations on this plan may use M2M clients.
func (p Plan) AllowsM2M() bool { return p.AtLeast(MinimumPlanForM2M) }

// Organization owns users and applications.
type Organization struct {
	ID   string
	Name string
	Plan Plan
	// SSO is the organization's own OpenID provider; nil when it has none.
	SSO *SSO
	// TokenQuota, when positive, overrides the plan's monthly M2M token
	// quota (set by an operator: orgauthctl orgs set-quota).
	TokenQuota int64
	// DomainClaims are the email domains it claims, pending or verified.
	DomainClaims []DomainClaim
	CreatedAt    time.Time
	UpdatedAt    time.Time
	// Version is incremented by every successful update; stores use it for
	// compare-and-swap.
	Version int64
}

// Role is a user's role inside an organization.
type Role string

const (
	RoleAdmin  Role = "admin"
	RoleMember Role = "member"
)

// User is a member of exactly one organization.
type User struct {
	ID             string
	OrganizationID string
	Email          string // stored lower-cased
	Name           string
	Role           Role
	PasswordHash   string // PHC-encoded argon2id; empty for SSO-only users
	Disabled       bool
	// EmailVerified: the address is known to be the user's, because an
	// operator said so or the organization's provider asserted it
	// (email_verified in ID tokens and /userinfo).
	EmailVerified bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Version       int64
}

// ClientType is the kind of OAuth client an application is.
type ClientType string

const (
	// ClientSPA is a public client: a browser application whose users sign
	// in and which gets per-user tokens through authorization code + PKCE.
	ClientSPA ClientType = "spa"
	// ClientM2M is a confidential client that gets tokens for itself with
	// the client_credentials grant.
	ClientM2M ClientType = "m2m"
)

// Application is an OAuth client of an organization.
type Application struct {
	ClientID       string
	OrganizationID string
	Name           string
	Description    string
	Type           ClientType
	CallbackURLs   []string
	AllowedOrigins []string
	LogoutURLs     []string
	// Scopes lists the scopes this client may request (beyond the OpenID
	// ones for SPA clients). Empty means none.
	Scopes []string
	// AccessTokenLifetime is the lifetime of the access tokens it gets; zero
	// means the stage default.
	AccessTokenLifetime time.Duration
	// TokenReuseOff opts an M2M application out of server-side token reuse:
	// every request is answered with a freshly signed token.
	TokenReuseOff bool

	// SecretHash is SHA-256 of the current client secret (M2M only).
	SecretHash []byte
	// PreviousSecretHash keeps working until PreviousSecretExpiresAt, so a
	// fleet can roll over to a rotated secret without downtime.
	PreviousSecretHash      []byte
	PreviousSecretExpiresAt time.Time
	// ThrottledUntil is set when some source address reaches its limit of
	// failed authentications as this client, to that window's end: until
	// then the token endpoint reads the failure count of every source
	// that presents this client's secret, and before then it needs no
	// read (pkg/endpoints/token/throttle.go). Only
	// storage's ThrottleApplication changes it.
	ThrottledUntil time.Time

	CreatedBy string // user id of the creator, the only one who may change it
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}
