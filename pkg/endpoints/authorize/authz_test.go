package authorize_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"orgauth/pkg/domain"
)

// A code carries the requested scopes ∩ the application's ∩ those the
// user's role holds on the audience: a member asking for an admin's scope
// through an application that names it does not get it.
func TestCodeCarriesWhatTheRoleHolds(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.st.Stage.Store.UpdateApplication(ctx, e.spa, func(a domain.Application) (domain.Application, error) {
		a.Scopes = []string{"read", "write"}
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	email := e.user(t, e.st.OrgID, "mia")
	if u, err := e.st.Stage.Store.GetUserByEmail(ctx, email); err == nil {
		e.consent(t, u.ID, e.spa, e.st.OrgID, "openid", "email", "read", "write")
	}
	b := e.browser()
	q := e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, func(q url.Values) {
		q.Set("scope", "openid email read write")
	})), email, pw))
	code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock())
	if err != nil || !slices.Equal(code.Scopes, []string{"openid", "email", "read"}) {
		t.Fatalf("code scopes %v %v", code.Scopes, err)
	}
}

// Members of every organization sign in to the console; its code is of
// their own organization.
func TestConsoleAdmitsEveryOrganization(t *testing.T) {
	e := newEnv(t)
	email := e.user(t, e.org2, "noa")
	b := e.browser()
	cb := e.issuer + "/console/callback"
	query := authzQuery(domain.ConsoleClientID, func(q url.Values) {
		q.Set("redirect_uri", cb)
		q.Set("audience", e.mgmtAud)
		q.Set("scope", "openid offline_access")
	})
	q := e.wantRedirect(t, b.submit(t, b.loginForm(t, query), email, pw), cb)
	code, err := e.st.Stage.Store.RedeemCode(context.Background(), domain.HashSecret(q.Get("code")), e.clock())
	if err != nil || code.OrganizationID != e.org2 || code.ClientID != domain.ConsoleClientID {
		t.Fatalf("console code %+v %v", code, err)
	}
	// Its session signs in again without the form.
	if q := e.wantRedirect(t, b.do(t, "GET", query, nil), cb); q.Get("code") == "" {
		t.Fatalf("no code: %v", q)
	}
	// The console's callback is fixed: any other redirect is refused.
	resp := b.do(t, "GET", authzQuery(domain.ConsoleClientID, func(q url.Values) { q.Set("audience", e.mgmtAud) }), nil)
	if resp.StatusCode != 400 {
		t.Fatalf("console with another redirect_uri: %d", resp.StatusCode)
	}
}
