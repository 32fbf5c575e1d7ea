package token_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"orgauth/pkg/domain"
	"orgauth/test/testenv"
)

func (e *flowEnv) introspect(t *testing.T, tok string) bool {
	t.Helper()
	resp, body := testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/introspect", Form: url.Values{
		"client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "token": {tok}}})
	if resp.StatusCode != 200 {
		t.Fatalf("introspect: %d %v", resp.StatusCode, body)
	}
	return body["active"] == true
}

func (e *flowEnv) signIn(t *testing.T) (access, refresh string) {
	t.Helper()
	code, v := e.code(t, nil)
	resp, body := e.exchange(t, e.token(), code, v)
	if resp.StatusCode != 200 {
		t.Fatalf("exchange: %d %v", resp.StatusCode, body)
	}
	return body["access_token"].(string), body["refresh_token"].(string)
}

func setRoles(t *testing.T, st *testenv.Stack, scope string, roles ...domain.Role) {
	t.Helper()
	_, err := st.Stage.Store.UpdateAPI(context.Background(), st.Audience, func(api domain.API) (domain.API, error) {
		for i := range api.Scopes {
			if api.Scopes[i].Name == scope {
				api.Scopes[i].Roles = roles
			}
		}
		return api, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// At refresh, a user's token carries only what their role holds now.
func TestRefreshCarriesWhatTheRoleHoldsNow(t *testing.T) {
	e := newFlowEnv(t)
	_, refresh := e.signIn(t)
	setRoles(t, e.st, "read", domain.RoleAdmin)
	resp, body := e.refresh(t, e.token(), refresh)
	if resp.StatusCode != 200 || body["scope"] != "openid email profile offline_access" {
		t.Fatalf("refresh after the member role lost read: %d %v", resp.StatusCode, body)
	}
}

// An M2M token carries only what its creator's role holds now; a disabled
// creator's application gets none until it is transferred.
func TestM2MCarriesWhatItsCreatorMayGrant(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	cc := func() (*http.Response, map[string]any) {
		return testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
			"client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "audience": {e.st.Audience}}})
	}
	// Given write (an admin's scope) behind the API's back, and admin:all,
	// which no API defines.
	if _, err := e.st.Stage.Store.UpdateApplication(ctx, e.st.ClientID, func(a domain.Application) (domain.Application, error) {
		a.Scopes = []string{"read", "write", "admin:all"}
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	if resp, body := cc(); resp.StatusCode != 200 || body["scope"] != "read" {
		t.Fatalf("member-created M2M: %d %v", resp.StatusCode, body)
	}
	if _, err := e.st.Stage.Store.UpdateUser(ctx, e.st.OwnerID, func(u domain.User) (domain.User, error) {
		u.Role = domain.RoleAdmin
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if resp, body := cc(); resp.StatusCode != 200 || body["scope"] != "read write" {
		t.Fatalf("admin-created M2M: %d %v", resp.StatusCode, body)
	}
	if _, err := e.st.Stage.Store.UpdateUser(ctx, e.st.OwnerID, func(u domain.User) (domain.User, error) {
		u.Disabled = true
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	resp, body := cc()
	wantError(t, resp, body, 400, "unauthorized_client")
}

// A deleted application's tokens are refused by introspection, /userinfo
// and refresh, and revoking one answers 200.
func TestDeletedApplicationsTokensDie(t *testing.T) {
	e := newFlowEnv(t)
	access, refresh := e.signIn(t)
	if !e.introspect(t, access) || !e.introspect(t, refresh) {
		t.Fatal("live tokens introspect inactive")
	}
	if err := e.st.Stage.Store.DeleteApplication(context.Background(), e.spa); err != nil {
		t.Fatal(err)
	}
	if e.introspect(t, access) || e.introspect(t, refresh) {
		t.Error("a deleted application's tokens introspect active")
	}
	if resp, body := e.userinfo(t, access); resp.StatusCode != 401 {
		t.Errorf("userinfo: %d %v", resp.StatusCode, body)
	}
	resp, body := e.refresh(t, e.token(), refresh)
	wantError(t, resp, body, 401, "invalid_client")
	for _, tok := range []string{access, refresh} {
		resp, body := testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {tok}, "client_id": {e.spa}}})
		if resp.StatusCode != 200 {
			t.Errorf("revoke: %d %v", resp.StatusCode, body)
		}
	}
	// ...but a made-up client with a made-up token is still no client.
	resp, body = testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {"nothing"}, "client_id": {e.spa}}})
	wantError(t, resp, body, 401, "invalid_client")
}

// A disabled user's tokens are refused everywhere.
func TestDisabledUsersTokensDie(t *testing.T) {
	e := newFlowEnv(t)
	access, refresh := e.signIn(t)
	if _, err := e.st.Stage.Store.UpdateUser(context.Background(), e.user, func(u domain.User) (domain.User, error) {
		u.Disabled = true
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	if e.introspect(t, access) || e.introspect(t, refresh) {
		t.Error("a disabled user's tokens introspect active")
	}
	if resp, body := e.userinfo(t, access); resp.StatusCode != 401 {
		t.Errorf("userinfo: %d %v", resp.StatusCode, body)
	}
	resp, body := e.refresh(t, e.token(), refresh)
	wantError(t, resp, body, 400, "invalid_grant")
}

// The console's code, for a member of any organization, gives tokens of
// that member's organization.
func TestConsoleTokensCarryTheUsersOrganization(t *testing.T) {
	e := newFlowEnv(t)
	org2 := e.st.AddOrganization(t, domain.PlanTeam)
	user2 := e.st.AddUser(t, org2, "bo-"+org2+"@example.com")
	cb := e.st.Stage.Cfg.Issuer + "/console/callback"
	code, v := e.code(t, func(g *testenv.CodeGrant) {
		g.ClientID, g.UserID, g.OrgID, g.RedirectURI = domain.ConsoleClientID, user2, org2, cb
		g.Audience, g.Scopes = e.st.Stage.Cfg.ManagementAudience, []string{"openid", "offline_access"}
	})
	resp, body := e.exchange(t, e.token(), code, v, "client_id", domain.ConsoleClientID, "redirect_uri", cb)
	if resp.StatusCode != 200 {
		t.Fatalf("console exchange: %d %v", resp.StatusCode, body)
	}
	c, err := e.st.Stage.Verifier().VerifyAccessToken(context.Background(), body["access_token"].(string), e.st.Stage.Cfg.ManagementAudience)
	if err != nil || c.OrgID != org2 || c.Subject != user2 || c.ClientID != domain.ConsoleClientID {
		t.Fatalf("console token %+v %v", c, err)
	}
	resp, body = testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"refresh_token"},
		"refresh_token": {body["refresh_token"].(string)}, "client_id": {domain.ConsoleClientID}}})
	if resp.StatusCode != 200 {
		t.Fatalf("console refresh: %d %v", resp.StatusCode, body)
	}
}
