package domain

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// SSO is an organization's own OpenID provider: its users sign in there
// instead of with an orgauth password.
type SSO struct {
	// Issuer is the provider's issuer URL; its discovery document and keys
	// are read from there.
	Issuer   string
	ClientID string
	// ClientSecretCiphertext is the client secret encrypted with the
	// stack's symmetric KMS key, with the encryption context
	// {"organization_id": <the organization's id>}. The plaintext is never
	// stored.
	ClientSecretCiphertext []byte
	// Scopes are asked for besides openid (which is always asked for).
	Scopes []string
	// Domains are the email domains (NormalizeDomain's form) that belong to the
	// provider: home-realm discovery sends them upstream, and an upstream
	// email outside them is refused.
	Domains []string
	// Enforced: no password sign-in for the organization's users of the
	// applications SSO applies to; the login page never shows a password
	// field.
	Enforced bool
	// Provision creates an unknown user on first sign-in, with
	// ProvisionRole; otherwise only existing users may sign in.
	Provision     bool
	ProvisionRole Role
	// Applications are the client ids SSO applies to; empty means every
	// application of the organization.
	Applications []string
}

// AppliesTo reports whether the provider signs users in to the application.
func (s *SSO) AppliesTo(clientID string) bool {
	return s != nil && (len(s.Applications) == 0 || slices.Contains(s.Applications, clientID))
}

// HasDomain reports whether email, in address.NormalizeEmail's form, has a
// domain of the provider. An address not in that form must be normalized
// first (or refused): its domain part is not a domain until it is.
func (s *SSO) HasDomain(email string) bool {
	return s != nil && slices.Contains(s.Domains, EmailDomain(email))
}

// DomainClaim is an organization's claim on an email domain. Until it is
// verified (by a DNS TXT record, or an operator's audited override) the
// domain is not the organization's: its SSO does not sign in addresses
// there. Once verified, no other organization may create or provision
// users in it.
type DomainClaim struct {
	Domain     string // NormalizeDomain's form
	Token      string // the TXT record's value is DomainVerificationPrefix + Token
	VerifiedAt time.Time
	// Method is how it was verified: "dns" or "override"; "" while pending.
	Method string
}

// Verified reports whether the claim was proven.
func (c DomainClaim) Verified() bool { return !c.VerifiedAt.IsZero() }

// DomainVerificationPrefix starts the TXT record that proves a claim, found
// at DomainVerificationName(domain).
const DomainVerificationPrefix = "orgauth-domain-verification="

// DomainVerificationName is where the TXT record of domain's claim lives.
func DomainVerificationName(d string) string { return "_orgauth." + d }

// VerifiedDomain reports whether the organization proved it holds d.
func (o Organization) VerifiedDomain(d string) bool {
	for _, c := range o.DomainClaims {
		if c.Domain == d && c.Verified() {
			return true
		}
	}
	return false
}

// SSODomain reports whether email, in address.NormalizeEmail's form, is
// an address the organization's SSO may sign in: in one of the SSO's
// domains, and that domain verified by the organization. The sign-in code
// normalizes first (signin's orgSSO.HasDomain).
func (o Organization) SSODomain(email string) bool {
	return o.SSO.HasDomain(email) && o.VerifiedDomain(EmailDomain(email))
}

// ErrDomainClaimed: the email's domain was verified by another
// organization, which alone may create or provision users in it.
var ErrDomainClaimed = errors.New("the email domain belongs to another organization")

// CheckUserDomain refuses to let organization orgID create or provision a
// user with email (in normal form) when another organization among orgs
// verified its domain.
func CheckUserDomain(orgs []Organization, orgID, email string) error {
	d := EmailDomain(email)
	for _, o := range orgs {
		if o.ID != orgID && o.VerifiedDomain(d) {
			return fmt.Errorf("%w: %s is verified by organization %s", ErrDomainClaimed, d, o.ID)
		}
	}
	return nil
}

// SSOTransaction is one sign-in sent upstream: what GET /callback needs to
// check the provider's answer and to finish the login transaction it
// belongs to. It is stored nowhere: the state sent upstream is the
// transaction itself with its login transaction, sealed (encrypted and
// authenticated by the stage, pkg/signin/ssostate.go). It lives a few
// minutes and is used at most once (a used-marker of State, written once
// the provider's answer verified).
//
// It is bound to the browser that started it: the browser holds a random
// secret in a cookie, the transaction its hash (BindingHash). The PKCE code
// verifier is derived from that secret, so it is kept nowhere, and a state
// replayed from another browser cannot be finished.
type SSOTransaction struct {
	State          string // random (NewID): the id of the sealed state
	OrganizationID string
	ClientID       string // the application signing in
	Nonce          string
	BindingHash    []byte // HashSecret of the browser's binding secret
	CreatedAt      time.Time
	ExpiresAt      time.Time
	// Issuer is the provider the request went to: only its answer (RFC
	// 9207 iss) is accepted.
	Issuer string
	// RedirectURI is the redirect_uri sent upstream (SSORedirectURI): the
	// answer is accepted only there.
	RedirectURI string
}

// SSORedirectURI is where organization orgID's provider returns its users:
// the redirect URI to register at the provider. Each organization has its
// own, so that an answer is only ever accepted for the organization whose
// provider was asked (RFC 9700 §4.4.2, mix-up defence). An issuer with
// Auth0's trailing slash gives the same URI as without it.
func SSORedirectURI(issuer, orgID string) string {
	return IssuerURL(issuer, "/callback/"+url.PathEscape(orgID))
}

// LegacySSORedirectURI is the redirect URI every organization's provider
// shared before SSORedirectURI; an answer arriving there completes nothing.
func LegacySSORedirectURI(issuer string) string { return IssuerURL(issuer, "/callback") }

// UpstreamLink ties an upstream identity (issuer and subject) to one
// orgauth user, once, on first sign-in.
type UpstreamLink struct {
	Issuer         string
	Subject        string
	UserID         string
	OrganizationID string
	CreatedAt      time.Time
}

// UpstreamIdentity is who the upstream provider's verified ID token says
// signed in.
type UpstreamIdentity struct {
	Issuer        string
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	// AuthTime is the ID token's auth_time: when the provider last
	// authenticated the user; zero when the token has none.
	AuthTime time.Time
}

// Upstream failures, for the pages the callback shows.
var (
	// ErrUpstreamUnavailable: the provider could not be reached, did not
	// answer in time, or answered with a server error.
	ErrUpstreamUnavailable = errors.New("the organization's identity provider is unavailable")
	// ErrUpstreamRejected: the provider refused the code, or its ID token
	// did not verify (signature, issuer, audience, expiry, nonce).
	ErrUpstreamRejected = errors.New("the organization's identity provider's answer was refused")
)
