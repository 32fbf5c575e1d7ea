package ops

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"orgauth/pkg/domain"
	"orgauth/pkg/domain/address"
	"orgauth/pkg/platform/config"
)

// SecretEncrypter encrypts an organization's upstream client secret
// (kmsbox.Box implements it). The ciphertext must be bound to orgID.
type SecretEncrypter interface {
	Encrypt(ctx context.Context, orgID string, plaintext []byte) ([]byte, error)
}

// SSOInput is an organization's SSO settings as an operator gives them.
// Every setting is replaced, except the client secret, which may be kept.
type SSOInput struct {
	Issuer   string
	ClientID string
	// ClientSecret is the plaintext secret; "" keeps the secret already
	// configured for the same issuer and client id (an error if there is
	// none).
	ClientSecret string
	Scopes       []string // besides openid; default email and profile
	Domains      []string
	Applications []string // client ids of the organization's SPA applications; empty: all of them
	Enforced     bool
	Provision    bool
	// ProvisionRole is the role of provisioned users: member (the default)
	// or admin. Only kept with Provision.
	ProvisionRole domain.Role
}

// Limits on SSO settings.
const (
	MaxIssuerLength      = 1000
	MaxSSOClientIDLength = 255
	MaxSSOSecretLength   = 1024 // in characters
	MaxSSODomains        = 50
	MaxDomainLength      = 253 // RFC 1035 §2.3.4, without the trailing dot
	MaxSSOScopes         = 20
	MaxScopeLength       = 128
	MaxSSOApplications   = 100
	maxDomainLabelLength = 63
)

// DefaultSSOScopes are asked for besides openid when an operator names none.
var DefaultSSOScopes = []string{"email", "profile"}

// SetSSO configures the organization's own OpenID provider, replacing every
// setting. The client secret is encrypted with enc for the organization
// once every input has been checked; only its ciphertext is stored. An
// empty in.ClientSecret keeps the configured one, provided the issuer and
// client id stay the same: a secret is never sent to another client.
func (a *Admin) SetSSO(ctx context.Context, enc SecretEncrypter, orgID string, in SSOInput) (domain.Organization, error) {
	if err := checkOrgID(orgID); err != nil {
		return domain.Organization{}, err
	}
	sso, err := checkSSO(in)
	if err != nil {
		return domain.Organization{}, err
	}
	if u, _ := url.Parse(sso.Issuer); !a.loopbackStage && domain.IsLoopback(u.Hostname()) {
		// In Lambda, 127.0.0.1:9001 is the Runtime API: a provider on
		// this machine is for a stage that runs on this machine.
		return domain.Organization{}, invalid("issuer", "%q is a loopback address: allowed only when orgauth's own issuer is loopback (make run)", sso.Issuer)
	}
	org, err := a.store.GetOrganization(ctx, orgID)
	if err != nil {
		return domain.Organization{}, orgError(orgID, err)
	}
	replace := in.ClientSecret != ""
	if !replace {
		if err := canKeepSecret(org, sso); err != nil {
			return domain.Organization{}, err
		}
	}
	if err := a.checkDomainsFree(ctx, orgID, sso.Domains); err != nil {
		return domain.Organization{}, err
	}
	if err := a.checkSSOApplications(ctx, orgID, sso.Applications); err != nil {
		return domain.Organization{}, err
	}
	if replace {
		if enc == nil {
			return domain.Organization{}, errors.New("set SSO: no encrypter for the client secret")
		}
		ct, err := enc.Encrypt(ctx, orgID, []byte(in.ClientSecret))
		if err != nil {
			return domain.Organization{}, fmt.Errorf("encrypt the client secret: %w", err)
		}
		if len(ct) == 0 {
			return domain.Organization{}, errors.New("encrypt the client secret: empty ciphertext")
		}
		sso.ClientSecretCiphertext = ct
	}
	o, err := a.store.UpdateOrganization(ctx, orgID, func(o domain.Organization) (domain.Organization, error) {
		next := sso // fn may run more than once: start from the input each time
		if !replace {
			// The settings may have changed since they were read.
			if err := canKeepSecret(o, next); err != nil {
				return o, err
			}
			next.ClientSecretCiphertext = slices.Clone(o.SSO.ClientSecretCiphertext)
		}
		o.SSO, o.UpdatedAt = &next, a.timestamp()
		return o, nil
	})
	if err != nil {
		var inv *InvalidError
		if errors.As(err, &inv) {
			return domain.Organization{}, err
		}
		return domain.Organization{}, orgError(orgID, err)
	}
	a.audit.Event(ctx, "organization_sso_changed", "organization_id", o.ID, "issuer", sso.Issuer,
		"domains", sso.Domains, "enforced", sso.Enforced, "provision", sso.Provision, "secret_replaced", replace)
	if sso.Enforced {
		n, err := a.EndSessionsNotBy(ctx, o.ID, sso.Issuer)
		if n > 0 {
			a.audit.Event(ctx, "organization_sessions_ended", "organization_id", o.ID, "reason", "sso_enforced", "sessions", n)
		}
		if err != nil {
			return o, fmt.Errorf("SSO is enforced, but ending the sessions it no longer allows failed (run sso set again): %w", err)
		}
	}
	return o, nil
}

// EndSessionsNotBy ends the live sessions of organization orgID's users
// that the provider issuer did not authenticate: password sessions, and
// another provider's. Enforced SSO admits no others. It returns how many it
// ended.
func (a *Admin) EndSessionsNotBy(ctx context.Context, orgID, issuer string) (int, error) {
	users, err := a.store.ListUsers(ctx, orgID)
	if err != nil {
		return 0, fmt.Errorf("list the users of organization %s: %w", orgID, err)
	}
	now := a.now()
	n := 0
	var errs []error
	for _, u := range users {
		sessions, err := a.store.ListUserSessions(ctx, u.ID, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("list the sessions of user %s: %w", u.ID, err))
			continue
		}
		sessions = slices.DeleteFunc(sessions, func(ss domain.Session) bool {
			return ss.OrganizationID != orgID || ss.AuthenticatedBy(issuer)
		})
		m, err := endAll(ctx, a.store, sessions)
		n += m
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// RemoveSSO removes the organization's SSO settings, secret included: its
// users sign in with passwords again. Removing settings that are not there
// changes nothing.
func (a *Admin) RemoveSSO(ctx context.Context, orgID string) (domain.Organization, error) {
	if err := checkOrgID(orgID); err != nil {
		return domain.Organization{}, err
	}
	var had bool
	o, err := a.store.UpdateOrganization(ctx, orgID, func(o domain.Organization) (domain.Organization, error) {
		had = o.SSO != nil
		if had {
			o.SSO, o.UpdatedAt = nil, a.timestamp()
		}
		return o, nil
	})
	if err != nil {
		return domain.Organization{}, orgError(orgID, err)
	}
	if had {
		a.audit.Event(ctx, "organization_sso_removed", "organization_id", o.ID)
	}
	return o, nil
}

// SSO returns organization orgID, which must exist, with its SSO settings
// (nil when it has none).
func (a *Admin) SSO(ctx context.Context, orgID string) (domain.Organization, error) {
	return a.orgOf(ctx, orgID)
}

// canKeepSecret fails unless o has a client secret for the same issuer and
// client id as next.
func canKeepSecret(o domain.Organization, next domain.SSO) error {
	cur := o.SSO
	switch {
	case cur == nil || len(cur.ClientSecretCiphertext) == 0:
		return invalid("client_secret", "organization %s has no client secret configured: give one", o.ID)
	case cur.Issuer != next.Issuer || cur.ClientID != next.ClientID:
		return invalid("client_secret", "the issuer or client id changes: give the new client's secret too")
	}
	return nil
}

// checkSSO validates and normalizes the input, without the store. The
// result has no ciphertext yet.
func checkSSO(in SSOInput) (domain.SSO, error) {
	issuer, err := checkUpstreamIssuer(in.Issuer)
	if err != nil {
		return domain.SSO{}, err
	}
	clientID, err := checkUpstreamClientID(in.ClientID)
	if err != nil {
		return domain.SSO{}, err
	}
	if in.ClientSecret != "" {
		if err := checkUpstreamSecret(in.ClientSecret); err != nil {
			return domain.SSO{}, err
		}
	}
	scopes, err := checkUpstreamScopes(in.Scopes)
	if err != nil {
		return domain.SSO{}, err
	}
	domains, err := checkDomains(in.Domains)
	if err != nil {
		return domain.SSO{}, err
	}
	role := in.ProvisionRole
	if role != "" && role != domain.RoleMember && role != domain.RoleAdmin {
		return domain.SSO{}, invalid("role", "%q is not a role (admin or member)", role)
	}
	switch {
	case !in.Provision:
		role = ""
	case role == "":
		role = domain.RoleMember
	}
	apps, err := checkAppIDs(in.Applications)
	if err != nil {
		return domain.SSO{}, err
	}
	return domain.SSO{
		Issuer: issuer, ClientID: clientID, Scopes: scopes, Domains: domains,
		Enforced: in.Enforced, Provision: in.Provision, ProvisionRole: role, Applications: apps,
	}, nil
}

// checkUpstreamIssuer requires what OpenID Connect Discovery requires of an
// issuer (config.CheckIssuer): an absolute https URL without query,
// fragment or userinfo. Plain http is for a provider on this machine only:
// localhost or a loopback address, not a name that merely starts with 127.
// The issuer is kept as given, trailing slash included: the provider's
// discovery document and ID tokens must name exactly this issuer.
func checkUpstreamIssuer(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid("issuer", "the provider's issuer URL is required")
	case len(s) > MaxIssuerLength:
		return "", invalid("issuer", "longer than %d characters", MaxIssuerLength)
	case strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r == 0x7f }):
		return "", invalid("issuer", "must not contain spaces or control characters")
	}
	if err := config.CheckIssuer(s); err != nil {
		return "", invalid("issuer", "%v", err)
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", invalid("issuer", "%q is not an absolute URL", s)
	}
	if u.Scheme != "https" {
		if !domain.IsLoopback(u.Hostname()) {
			return "", invalid("issuer", "%q must be https (http only on localhost or a loopback address)", s)
		}
	}
	return s, nil
}

func checkUpstreamClientID(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", invalid("client_id", "the client id orgauth is registered as at the provider is required")
	case len(s) > MaxSSOClientIDLength:
		return "", invalid("client_id", "longer than %d characters", MaxSSOClientIDLength)
	case strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e }):
		return "", invalid("client_id", "must be visible ASCII characters, without spaces")
	}
	return s, nil
}

// checkUpstreamSecret never repeats the secret in its errors.
func checkUpstreamSecret(s string) error {
	switch {
	case !utf8.ValidString(s):
		return invalid("client_secret", "not valid UTF-8")
	case utf8.RuneCountInString(s) > MaxSSOSecretLength:
		return invalid("client_secret", "longer than %d characters", MaxSSOSecretLength)
	case strings.TrimSpace(s) == "":
		return invalid("client_secret", "must not be blank")
	case strings.TrimSpace(s) != s:
		return invalid("client_secret", "must not start or end with spaces")
	case strings.ContainsFunc(s, unicode.IsControl):
		return invalid("client_secret", "must not contain control characters")
	}
	return nil
}

// checkUpstreamScopes requires scope tokens (RFC 6749 §3.3), other than
// openid, which is always asked for.
func checkUpstreamScopes(in []string) ([]string, error) {
	var out []string
	for _, s := range in {
		s = strings.TrimSpace(s)
		switch {
		case s == "":
			return nil, invalid("scopes", "an empty scope")
		case s == "openid":
			return nil, invalid("scopes", "openid is always asked for: leave it out")
		case len(s) > MaxScopeLength:
			return nil, invalid("scopes", "a scope is longer than %d characters", MaxScopeLength)
		case strings.ContainsFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }):
			return nil, invalid("scopes", "%q is not a scope (printable ASCII without spaces, quotes or backslashes)", s)
		}
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > MaxSSOScopes {
		return nil, invalid("scopes", "at most %d scopes (got %d)", MaxSSOScopes, len(out))
	}
	if len(out) == 0 {
		return slices.Clone(DefaultSSOScopes), nil
	}
	return out, nil
}

// checkDomains requires at least one email domain, lower-cases and
// de-duplicates them.
func checkDomains(in []string) ([]string, error) {
	var out []string
	for _, d := range in {
		d, err := checkDomain(d)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	switch {
	case len(out) == 0:
		return nil, invalid("domains", "at least one email domain (such as example.com) is required")
	case len(out) > MaxSSODomains:
		return nil, invalid("domains", "at most %d domains (got %d)", MaxSSODomains, len(out))
	}
	return out, nil
}

// checkDomain requires a DNS name with at least one dot and returns it in
// address.NormalizeDomain's form: ASCII lower-cased, internationalized
// names converted to their xn-- form.
func checkDomain(d string) (string, error) {
	d = strings.TrimSpace(d)
	if d != "" && !strings.ContainsAny(d, "@*") && !strings.HasSuffix(d, ".") {
		n, err := address.NormalizeDomain(d)
		if err != nil {
			return "", invalid("domains", "%q: %v", d, err)
		}
		d = n
	}
	switch {
	case d == "":
		return "", invalid("domains", "an empty domain")
	case len(d) > MaxDomainLength:
		return "", invalid("domains", "a domain is longer than %d characters", MaxDomainLength)
	case strings.Contains(d, "@"):
		return "", invalid("domains", "%q: give the domain only, such as example.com, not an address", d)
	case strings.Contains(d, "*"):
		return "", invalid("domains", "%q: wildcards are not allowed; list each domain", d)
	case strings.HasSuffix(d, "."):
		return "", invalid("domains", "%q must not end with a dot", d)
	case !strings.Contains(d, "."):
		return "", invalid("domains", "%q has no dot (want a domain such as example.com)", d)
	}
	labels := strings.Split(d, ".")
	for _, l := range labels {
		switch {
		case l == "":
			return "", invalid("domains", "%q has an empty label", d)
		case len(l) > maxDomainLabelLength:
			return "", invalid("domains", "%q has a label longer than %d characters", d, maxDomainLabelLength)
		case strings.ContainsFunc(l, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') }):
			return "", invalid("domains", "%q is not a domain name (letters, digits, hyphens and dots; internationalized names in their xn-- form)", d)
		case l[0] == '-' || l[len(l)-1] == '-':
			return "", invalid("domains", "%q has a label that starts or ends with a hyphen", d)
		}
	}
	if tld := labels[len(labels)-1]; !strings.ContainsFunc(tld, unicode.IsLetter) {
		return "", invalid("domains", "%q is not a domain name", d)
	}
	return d, nil
}

func checkAppIDs(in []string) ([]string, error) {
	var out []string
	for _, id := range in {
		id = strings.TrimSpace(id)
		if id == "" {
			return nil, invalid("apps", "an empty client id")
		}
		if !domain.ValidID(id) {
			return nil, invalid("apps", "%q is not a client id", id)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	if len(out) > MaxSSOApplications {
		return nil, invalid("apps", "at most %d applications (got %d)", MaxSSOApplications, len(out))
	}
	return out, nil
}

// checkDomainsFree refuses a domain another organization's SSO has, or
// another organization verified: an email domain belongs to one provider.
func (a *Admin) checkDomainsFree(ctx context.Context, orgID string, domains []string) error {
	orgs, err := a.store.ListOrganizations(ctx)
	if err != nil {
		return fmt.Errorf("list organizations: %w", err)
	}
	for _, o := range orgs {
		if o.ID == orgID {
			continue
		}
		for _, d := range domains {
			if o.VerifiedDomain(d) {
				return invalid("domains", "%s is verified by organization %s", d, o.ID)
			}
		}
		if o.SSO == nil {
			continue
		}
		for _, d := range domains {
			if slices.Contains(o.SSO.Domains, d) {
				return invalid("domains", "%s is already a domain of organization %s's SSO", d, o.ID)
			}
		}
	}
	return nil
}

// checkSSOApplications requires each client id to be an SPA application of
// the organization: only users sign in, and only to its own applications.
func (a *Admin) checkSSOApplications(ctx context.Context, orgID string, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	apps, err := a.ListApplications(ctx, orgID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		i := slices.IndexFunc(apps, func(app domain.Application) bool { return app.ClientID == id })
		switch {
		case i < 0:
			return invalid("apps", "%s is not an application of organization %s", id, orgID)
		case apps[i].Type != domain.ClientSPA:
			return invalid("apps", "%s is a %s application; SSO signs users in to spa applications only", id, apps[i].Type)
		}
	}
	return nil
}
