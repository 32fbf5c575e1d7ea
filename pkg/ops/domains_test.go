package ops_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/storage/memory"
)

type fakeTXT map[string][]string

func (f fakeTXT) LookupTXT(_ context.Context, name string) ([]string, error) {
	if v, ok := f[name]; ok {
		return v, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
}

// Item 9: a domain is an organization's only once proven, by a DNS TXT
// record or an audited override; then no other organization may create
// users in it, or claim it for SSO.
func TestVerifyDomain(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	var logBuf bytes.Buffer
	a := ops.New(st, func() time.Time { return t0 }).WithAudit(&ops.Auditor{Log: slog.New(slog.NewJSONHandler(&logBuf, nil)), Actor: "test"})
	acme, _ := a.CreateOrganization(ctx, "Acme", domain.PlanEnterprise)
	evil, _ := a.CreateOrganization(ctx, "Evil", domain.PlanTeam)
	dns := fakeTXT{}

	// Before anyone verified it, anyone may create users there (today's
	// behaviour); the squatter creates one.
	if _, err := a.CreateUser(ctx, evil.ID, "early@acme.example", "", domain.RoleMember, goodPassword); err != nil {
		t.Fatal(err)
	}

	v, err := a.VerifyDomain(ctx, dns, acme.ID, "ACME.example", false, "")
	if err != nil || v.Verified || v.TXTName != "_orgauth.acme.example" || !strings.HasPrefix(v.TXTValue, "orgauth-domain-verification=") {
		t.Fatalf("first call: %+v %v", v, err)
	}
	// The squatter claims it too, and publishes nothing acme would.
	ev, err := a.VerifyDomain(ctx, dns, evil.ID, "acme.example", false, "")
	if err != nil || ev.Verified || ev.TXTValue == v.TXTValue {
		t.Fatalf("second claim: %+v %v", ev, err)
	}
	// Not there yet; a wrong record does not count.
	dns["_orgauth.acme.example"] = []string{"orgauth-domain-verification=wrong", ev.TXTValue + "x"}
	if v2, err := a.VerifyDomain(ctx, dns, acme.ID, "acme.example", false, ""); err != nil || v2.Verified {
		t.Fatalf("without the record: %+v %v", v2, err)
	}
	dns["_orgauth.acme.example"] = append(dns["_orgauth.acme.example"], v.TXTValue)
	if v2, err := a.VerifyDomain(ctx, dns, acme.ID, "acme.example", false, ""); err != nil || !v2.Verified || v2.Claim.Method != "dns" {
		t.Fatalf("with the record: %+v %v", v2, err)
	}
	if !strings.Contains(logBuf.String(), `"event":"organization_domain_verified"`) {
		t.Fatalf("no audit line: %s", logBuf.String())
	}

	// Now the squatter can neither verify, nor create users, nor use it for SSO.
	if _, err := a.VerifyDomain(ctx, dns, evil.ID, "acme.example", true, "trust me"); !errors.Is(err, domain.ErrDomainClaimed) {
		t.Fatalf("squatter verifies: %v", err)
	}
	for _, email := range []string{"bob@acme.example", "Bob@ACME.example"} {
		if _, err := a.CreateUser(ctx, evil.ID, email, "", domain.RoleMember, goodPassword); !errors.Is(err, domain.ErrDomainClaimed) {
			t.Fatalf("squatter creates %s: %v", email, err)
		}
	}
	if _, err := a.CreateUser(ctx, acme.ID, "bob@acme.example", "", domain.RoleMember, goodPassword); err != nil {
		t.Fatal(err)
	}
	_, err = a.SetSSO(ctx, &fakeBox{}, evil.ID, ops.SSOInput{Issuer: "https://idp.evil.example", ClientID: "c", ClientSecret: "s3cret",
		Domains: []string{"acme.example"}})
	wantInvalid(t, err, "domains")

	// The domain check SSO provisioning calls.
	orgs, _ := a.ListOrganizations(ctx)
	if err := domain.CheckUserDomain(orgs, evil.ID, "alice@acme.example"); !errors.Is(err, domain.ErrDomainClaimed) {
		t.Fatalf("provisioning check: %v", err)
	}
	if err := domain.CheckUserDomain(orgs, acme.ID, "alice@acme.example"); err != nil {
		t.Fatal(err)
	}

	// An override needs a reason, and is audited with it.
	if _, err := a.VerifyDomain(ctx, dns, evil.ID, "evil.example", true, " "); err == nil {
		t.Fatal("override without a reason")
	}
	logBuf.Reset()
	if v, err := a.VerifyDomain(ctx, nil, evil.ID, "evil.example", true, "ticket 42"); err != nil || !v.Verified || v.Claim.Method != "override" {
		t.Fatalf("override: %+v %v", v, err)
	}
	if !strings.Contains(logBuf.String(), `"method":"override","reason":"ticket 42"`) {
		t.Fatalf("override audit: %s", logBuf.String())
	}
	o, _ := a.SSO(ctx, evil.ID)
	o.SSO = &domain.SSO{Domains: []string{"evil.example", "other.example"}}
	if !o.SSODomain("x@evil.example") || o.SSODomain("x@other.example") {
		t.Fatal("SSODomain must accept verified SSO domains only")
	}
}
