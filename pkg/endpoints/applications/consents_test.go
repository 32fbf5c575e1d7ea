package applications_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// GET /consents lists the caller's own consents in plain words; DELETE
// /consents/{client_id} withdraws one of them and revokes that
// application's refresh tokens for the caller, and nobody else's.
func TestConsents(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	store := e.st.Stage.Store
	const aud = "https://api.example.com"
	// The stack registers the API; its read scope gets this description.
	if _, err := store.UpdateAPI(ctx, aud, func(a domain.API) (domain.API, error) {
		a.Name = "Example API"
		a.Scopes = []domain.APIScope{{Name: "read", Description: "Read your example data", Roles: []domain.Role{domain.RoleMember}}}
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	spa := e.st.AddSPA(t, e.org1, "https://spa.example.com/cb", "https://spa.example.com/")
	other := e.st.AddSPA(t, e.org1, "https://other.example.com/cb", "https://other.example.com/")
	grant := func(user, client string) {
		if _, err := store.PutConsent(ctx, domain.Consent{UserID: user, ClientID: client, OrganizationID: e.org1,
			Scopes: domain.ConsentScopes(aud, []string{"openid", "email", "read"}), GrantedAt: e.now, UpdatedAt: e.now}); err != nil {
			t.Fatal(err)
		}
	}
	family := func(user, client string) string {
		f := domain.RefreshFamily{ID: domain.NewID(), ClientID: client, UserID: user, OrganizationID: e.org1,
			CreatedAt: e.now, ExpiresAt: e.now.Add(24 * time.Hour)}
		if err := store.CreateRefreshFamily(ctx, f); err != nil {
			t.Fatal(err)
		}
		return f.ID
	}
	grant(e.member, spa)
	grant(e.member, other)
	grant(e.creator, spa)
	mine, mineOther, theirs := family(e.member, spa), family(e.member, other), family(e.creator, spa)

	r := e.do(t, "member", "GET", "/consents", "")
	var list struct {
		Consents []struct {
			ClientID    string `json:"client_id"`
			Application string `json:"application"`
			Scopes      []struct {
				Audience, API, Scope, Description string
			} `json:"scopes"`
			GrantedAt time.Time `json:"granted_at"`
		} `json:"consents"`
	}
	if err := json.Unmarshal([]byte(r.raw), &list); err != nil || r.status != 200 || len(list.Consents) != 2 {
		t.Fatalf("list: %d %s %v", r.status, r.raw, err)
	}
	for _, c := range list.Consents {
		if c.Application != "spa" || len(c.Scopes) != 3 || c.GrantedAt.IsZero() {
			t.Errorf("consent %+v", c)
		}
		for _, s := range c.Scopes {
			switch s.Scope {
			case "read":
				if s.Audience != aud || s.API != "Example API" || s.Description != "Read your example data" {
					t.Errorf("API scope %+v", s)
				}
			case "email":
				if s.Audience != "" || s.Description != "See your email address." {
					t.Errorf("OpenID scope %+v", s)
				}
			}
		}
	}
	if r := e.do(t, "outsider", "GET", "/consents", ""); r.status != 200 || r.raw != `{"consents":[]}`+"\n" {
		t.Errorf("outsider sees %d %s", r.status, r.raw)
	}
	if r := e.do(t, "m2m", "GET", "/consents", ""); r.status != 403 {
		t.Errorf("an M2M token lists consents: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "none", "GET", "/consents", ""); r.status != 401 {
		t.Errorf("no token: %d", r.status)
	}

	// Only one's own: the outsider cannot withdraw the member's consent.
	if r := e.do(t, "outsider", "DELETE", "/consents/"+spa, ""); r.status != 404 {
		t.Fatalf("outsider withdraws: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "member", "DELETE", "/consents/"+spa, ""); r.status != 204 {
		t.Fatalf("withdraw: %d %s", r.status, r.raw)
	}
	if _, err := store.GetConsent(ctx, e.member, spa); err == nil {
		t.Fatal("the consent is still there")
	}
	revoked := func(id string) bool {
		f, err := store.GetRefreshFamily(ctx, id, e.now)
		return err == nil && f.Revoked
	}
	if !revoked(mine) || revoked(mineOther) || revoked(theirs) {
		t.Fatalf("revoked: this app's %v, the other app's %v, the creator's %v", revoked(mine), revoked(mineOther), revoked(theirs))
	}
	if _, err := store.GetConsent(ctx, e.creator, spa); err != nil {
		t.Fatal("the creator's consent went too")
	}
	if r := e.do(t, "member", "DELETE", "/consents/"+spa, ""); r.status != 404 || r.header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("withdraw twice: %d %v %s", r.status, r.header, r.raw)
	}
}
