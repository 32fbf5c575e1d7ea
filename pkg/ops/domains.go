package ops

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"

	"orgauth/pkg/domain"
)

// TXTResolver looks up DNS TXT records; *net.Resolver implements it, tests
// give a fake.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// DomainVerification is the state of an organization's claim on a domain
// after VerifyDomain: verified, or pending with the TXT record to publish.
type DomainVerification struct {
	Claim    domain.DomainClaim
	TXTName  string // where the record goes
	TXTValue string // what it says
	Verified bool
}

// VerifyDomain proves organization orgID holds email domain d. The first
// call records a claim with a random token and returns the TXT record to
// publish at _orgauth.<d>; a later call looks the record up through r and
// verifies the claim when it is there. override verifies without DNS: an
// operator's decision, audited with reason, which is then required. A
// domain verified by another organization cannot be claimed.
func (a *Admin) VerifyDomain(ctx context.Context, r TXTResolver, orgID, d string, override bool, reason string) (DomainVerification, error) {
	if err := checkOrgID(orgID); err != nil {
		return DomainVerification{}, err
	}
	d, err := checkDomain(d)
	if err != nil {
		return DomainVerification{}, err
	}
	reason = strings.TrimSpace(reason)
	if override && reason == "" {
		return DomainVerification{}, invalid("reason", "an override needs a reason, for the audit trail")
	}
	orgs, err := a.store.ListOrganizations(ctx)
	if err != nil {
		return DomainVerification{}, fmt.Errorf("list organizations: %w", err)
	}
	for _, o := range orgs {
		if o.ID != orgID && o.VerifiedDomain(d) {
			return DomainVerification{}, wrapf(domain.ErrDomainClaimed, "%s is verified by organization %s", d, o.ID)
		}
	}
	org, err := a.store.GetOrganization(ctx, orgID)
	if err != nil {
		return DomainVerification{}, orgError(orgID, err)
	}
	i := slices.IndexFunc(org.DomainClaims, func(c domain.DomainClaim) bool { return c.Domain == d })
	var claim domain.DomainClaim
	if i >= 0 {
		claim = org.DomainClaims[i]
	} else {
		claim = domain.DomainClaim{Domain: d, Token: domain.NewID()}
	}
	out := DomainVerification{TXTName: domain.DomainVerificationName(d), TXTValue: domain.DomainVerificationPrefix + claim.Token}
	if claim.Verified() {
		out.Claim, out.Verified = claim, true
		return out, nil
	}
	method := ""
	switch {
	case override:
		method = "override"
	case i >= 0: // a pending claim: is its record there?
		found, err := hasTXT(ctx, r, out.TXTName, out.TXTValue)
		if err != nil {
			return DomainVerification{}, err
		}
		if found {
			method = "dns"
		}
	}
	now := a.timestamp()
	_, err = a.store.UpdateOrganization(ctx, orgID, func(o domain.Organization) (domain.Organization, error) {
		o.DomainClaims = slices.Clone(o.DomainClaims)
		j := slices.IndexFunc(o.DomainClaims, func(c domain.DomainClaim) bool { return c.Domain == d })
		if j < 0 {
			o.DomainClaims = append(o.DomainClaims, claim)
			j = len(o.DomainClaims) - 1
		}
		c := &o.DomainClaims[j]
		if method != "" && !c.Verified() {
			if c.Token != claim.Token && method == "dns" {
				return o, errors.New("the claim's token changed meanwhile: run verify-domain again")
			}
			c.VerifiedAt, c.Method = now, method
		}
		claim = *c
		o.UpdatedAt = now
		return o, nil
	})
	if err != nil {
		return DomainVerification{}, orgError(orgID, err)
	}
	out.Claim, out.Verified = claim, claim.Verified() // verified by this call, if at all
	out.TXTValue = domain.DomainVerificationPrefix + claim.Token
	if out.Verified {
		attrs := []any{"organization_id", orgID, "domain", d, "method", method}
		if override {
			attrs = append(attrs, "reason", reason)
		}
		a.audit.Event(ctx, "organization_domain_verified", attrs...)
	} else if i < 0 {
		a.audit.Event(ctx, "organization_domain_claimed", "organization_id", orgID, "domain", d)
	}
	return out, nil
}

// hasTXT reports whether name has a TXT record equal to value. A name
// without records is no error: the record is just not there yet.
func hasTXT(ctx context.Context, r TXTResolver, name, value string) (bool, error) {
	if r == nil {
		return false, errors.New("verify domain: no DNS resolver")
	}
	txts, err := r.LookupTXT(ctx, name)
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("look up the TXT records of %s: %w", name, err)
	}
	return slices.Contains(txts, value), nil
}

// CheckUserDomain refuses a user of organization orgID with email (normal
// form) when another organization verified its domain. Ops user creation
// calls it; SSO provisioning calls domain.CheckUserDomain with the
// organizations it has.
func (a *Admin) CheckUserDomain(ctx context.Context, orgID, email string) error {
	orgs, err := a.store.ListOrganizations(ctx)
	if err != nil {
		return fmt.Errorf("list organizations: %w", err)
	}
	if err := domain.CheckUserDomain(orgs, orgID, email); err != nil {
		return wrapf(domain.ErrDomainClaimed, "%s belongs to a domain another organization verified", email)
	}
	return nil
}
