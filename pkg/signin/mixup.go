package signin

import (
	"context"
	"errors"
	"fmt"

	"orgauth/pkg/domain"
)

// IdP mix-up (RFC 9700 §4.4): every organization may bring its own
// provider, so one tenant's provider is a tool against another's. An answer
// is accepted only where it can have come from the provider the SSO
// transaction asked:
//   - at the redirect URI the transaction sent upstream, which names its
//     organization (domain.SSORedirectURI): another organization's provider
//     can only send its users back to that organization's URI, so an answer
//     of the victim organization's provider cannot complete the attacker
//     organization's transaction, and its code never reaches the attacker's
//     token endpoint;
//   - with the transaction's issuer as RFC 9207 iss: whenever iss is
//     present, and always when the provider advertises
//     authorization_response_iss_parameter_supported.

// checkResponder refuses an answer that arrived elsewhere than at the
// transaction's redirect URI, or that names another issuer.
func (c *Callback) checkResponder(ctx context.Context, b Browser, p CallbackParams, stx domain.SSOTransaction, sso *orgSSO) error {
	s := c.s
	mixup := func(reason string, args ...any) error {
		return c.refused(ctx, b, &Refusal{Status: 400, Title: "Sign-in refused", Reason: reason,
			Message: "This sign-in response did not come from your organization's sign-in service. Go back to the application and sign in again."},
			append([]any{"client_id", stx.ClientID, "org_id", stx.OrganizationID}, args...)...)
	}
	arrived := domain.LegacySSORedirectURI(s.cfg.Issuer)
	if p.Org != "" {
		arrived = domain.SSORedirectURI(s.cfg.Issuer, p.Org)
	}
	if arrived != stx.RedirectURI {
		return mixup("redirect uri", "route_org", p.Org)
	}
	issuer := stx.Issuer
	if issuer != sso.Issuer {
		// The organization changed providers while the user was away.
		return c.refused(ctx, b, errExpired("provider changed"))
	}
	if p.Iss != "" && p.Iss != issuer {
		return mixup("iss", "iss", p.Iss)
	}
	required, err := s.upstream.IssParameterRequired(ctx, sso.SSO)
	if err != nil {
		return s.upstreamUnavailable(ctx, b, stx.ClientID, err)
	}
	if required && p.Iss == "" {
		return mixup("iss missing")
	}
	return nil
}

// domainFree says why organization orgID may not provision a user with
// email: another organization verified its domain (domain.CheckUserDomain).
func (c *Callback) domainFree(ctx context.Context, orgID, email string) (string, error) {
	orgs, err := c.s.store.ListOrganizations(ctx)
	if err != nil {
		return "", fmt.Errorf("list organizations: %w", err)
	}
	if err := domain.CheckUserDomain(orgs, orgID, email); errors.Is(err, domain.ErrDomainClaimed) {
		return "Your email address belongs to a domain of another organization.", nil
	} else if err != nil {
		return "", err
	}
	return "", nil
}
