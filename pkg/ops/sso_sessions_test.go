package ops_test

import (
	"bytes"
	"errors"
	"log/slog"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/storage/memory"
)

// Turning enforcement on ends the sessions enforced SSO no longer admits:
// password sessions, and another provider's; the provider's own, and other
// organizations' sessions, stay.
func TestEnforcingSSOEndsPasswordSessions(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	now := t0
	var logBuf bytes.Buffer
	a := ops.New(st, func() time.Time { return now }).WithAudit(&ops.Auditor{
		Log: slog.New(slog.NewJSONHandler(&logBuf, nil)), Actor: "test", RequestID: "r1", Source: "here",
	})
	org, err := a.CreateOrganization(ctx, "Acme", domain.PlanEnterprise)
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.CreateOrganization(ctx, "Globex", domain.PlanTeam)
	if err != nil {
		t.Fatal(err)
	}
	const issuer = "https://idp.acme.example"
	session := func(orgID, email, method, iss string) []byte {
		t.Helper()
		u, err := st.GetUserByEmail(ctx, email)
		if errors.Is(err, domain.ErrNotFound) {
			u = domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: email, Role: domain.RoleMember, CreatedAt: now, UpdatedAt: now}
			err = st.CreateUser(ctx, u)
		}
		if err != nil {
			t.Fatal(err)
		}
		_, hash := domain.NewSecret()
		if err := st.CreateSession(ctx, domain.Session{Hash: hash, ID: domain.NewID(), UserID: u.ID, OrganizationID: orgID,
			AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Hour), AuthMethod: method, AuthIssuer: iss}); err != nil {
			t.Fatal(err)
		}
		return hash
	}
	pw := session(org.ID, "pat@acme.example", domain.AuthPassword, "")
	legacy := session(org.ID, "pat@acme.example", "", "") // stored before sessions recorded their method
	otherIdP := session(org.ID, "ann@acme.example", domain.AuthSSO, "https://old-idp.example")
	sso := session(org.ID, "ann@acme.example", domain.AuthSSO, issuer)
	foreign := session(other.ID, "gus@globex.example", domain.AuthPassword, "")

	in := ops.SSOInput{Issuer: issuer, ClientID: "c", ClientSecret: upstreamSecret, Domains: []string{"acme.example"}}
	if _, err := a.SetSSO(ctx, &fakeBox{}, org.ID, in); err != nil {
		t.Fatal(err)
	}
	for _, h := range [][]byte{pw, legacy, otherIdP, sso, foreign} {
		if _, err := st.GetSession(ctx, h, now); err != nil {
			t.Fatalf("a session ended without enforcement: %v", err)
		}
	}
	in.Enforced, in.ClientSecret = true, ""
	if _, err := a.SetSSO(ctx, &fakeBox{}, org.ID, in); err != nil {
		t.Fatal(err)
	}
	for name, h := range map[string][]byte{"password": pw, "unrecorded": legacy, "another provider's": otherIdP} {
		if _, err := st.GetSession(ctx, h, now); !errors.Is(err, domain.ErrNotFound) {
			t.Errorf("the %s session survived enforcement: %v", name, err)
		}
	}
	for name, h := range map[string][]byte{"provider's": sso, "other organization's": foreign} {
		if _, err := st.GetSession(ctx, h, now); err != nil {
			t.Errorf("the %s session was ended: %v", name, err)
		}
	}
	if !bytes.Contains(logBuf.Bytes(), []byte(`"event":"organization_sessions_ended"`)) || !bytes.Contains(logBuf.Bytes(), []byte(`"sessions":3`)) {
		t.Fatalf("no audit line for the ended sessions:\n%s", logBuf.String())
	}
}
