package token_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/test/testenv"
)

// TestIntrospection: RFC 7662 for the organization's M2M clients.
func TestIntrospection(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	h := e.token()
	introspect := func(id, secret, tok string) (*http.Response, map[string]any) {
		return testenv.Do(t, h, testenv.Call{Path: "/oauth/introspect", Form: url.Values{
			"client_id": {id}, "client_secret": {secret}, "token": {tok}}})
	}
	active := func(tok string) map[string]any {
		t.Helper()
		resp, body := introspect(e.st.ClientID, e.st.ClientSecret, tok)
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("introspect: %d %v", resp.StatusCode, body)
		}
		if body["active"] == false && len(body) != 1 {
			t.Fatalf("an inactive answer says more than active=false: %v", body)
		}
		return body
	}

	// The caller's own client_credentials token.
	_, cc := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"},
		"client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "audience": {e.st.Audience}}})
	m2m := cc["access_token"].(string)
	b := active(m2m)
	jti, _ := b["jti"].(string)
	iat, _ := b["iat"].(float64)
	exp, _ := b["exp"].(float64)
	if b["active"] != true || b["client_id"] != e.st.ClientID || b["sub"] != e.st.ClientID ||
		b["org_id"] != e.st.OrgID || b["token_type"] != "Bearer" || jti == "" ||
		joinAny(b["aud"]) != e.st.Audience || b["iss"] != e.st.Stage.Cfg.Issuer || iat <= 0 || exp-iat != 3600 {
		t.Fatalf("valid M2M token: %v", b)
	}

	// A user's tokens from the sign-in flow: access and refresh.
	code, v := e.code(t, nil)
	_, tokens := e.exchange(t, h, code, v)
	access, refresh := tokens["access_token"].(string), tokens["refresh_token"].(string)
	if b := active(access); b["active"] != true || b["sub"] != e.user || b["client_id"] != e.spa {
		t.Fatalf("user access token: %v", b)
	}
	if b := active(refresh); b["active"] != true || b["token_type"] != "refresh_token" || b["sub"] != e.user {
		t.Fatalf("refresh token: %v", b)
	}

	// A refresh token already rotated is inactive; its successor is live.
	code2, v2 := e.code(t, nil)
	_, tokens2 := e.exchange(t, h, code2, v2)
	rotatedFrom := tokens2["refresh_token"].(string)
	_, next := e.refresh(t, h, rotatedFrom)
	if b := active(rotatedFrom); b["active"] != false {
		t.Fatalf("rotated refresh token: %v", b)
	}
	if b := active(next["refresh_token"].(string)); b["active"] != true {
		t.Fatalf("successor refresh token: %v", b)
	}

	// A client of another organization learns nothing about this
	// organization's tokens.
	otherOrg := e.st.AddOrganization(t, domain.PlanEnterpriseLarge)
	otherSecret, otherHash := domain.NewSecret()
	otherClient := domain.Application{ClientID: domain.NewID(), OrganizationID: otherOrg, Name: "foreign", Type: domain.ClientM2M,
		SecretHash: otherHash, CreatedBy: e.st.OwnerID, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := e.st.Stage.Store.CreateApplication(ctx, otherClient); err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"access": access, "refresh": refresh, "m2m": m2m} {
		resp, body := introspect(otherClient.ClientID, otherSecret, tok)
		if resp.StatusCode != 200 || body["active"] != false || len(body) != 1 {
			t.Fatalf("foreign organization's client introspects this organization's %s token: %d %v", name, resp.StatusCode, body)
		}
	}

	// A refresh token unused past its idle timeout (7 days) is inactive,
	// though its absolute lifetime runs on.
	idle := e.st.WithClock(func() time.Time { return e.clock().Add(7*24*time.Hour + time.Second) }, e.st.Token)
	resp, body := testenv.Do(t, idle, testenv.Call{Path: "/oauth/introspect", Form: url.Values{
		"client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "token": {refresh}}})
	if resp.StatusCode != 200 || body["active"] != false || len(body) != 1 {
		t.Fatalf("idle refresh token: %d %v", resp.StatusCode, body)
	}

	// Revoked: the access token's jti, and the refresh family.
	_, _ = testenv.Do(t, h, testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {refresh}, "client_id": {e.spa}}})
	if b := active(refresh); b["active"] != false {
		t.Fatalf("revoked refresh token: %v", b)
	}
	if b := active(access); b["active"] != false {
		t.Fatalf("access token of a revoked family: %v", b)
	}

	// Expired.
	past := jwt.NewIssuer(e.st.Stage.Cfg.Issuer, e.st.Stage.Keys, func() time.Time { return time.Now().Add(-2 * time.Hour) }, nil)
	old, _, err := past.AccessToken(ctx, jwt.AccessRequest{Subject: e.st.ClientID, ClientID: e.st.ClientID, OrgID: e.st.OrgID, Audience: e.st.Audience, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if b := active(old); b["active"] != false {
		t.Fatalf("expired: %v", b)
	}

	// Another organization's token, and garbage.
	other := e.st.AddOrganization(t, domain.PlanEnterpriseLarge)
	foreign, _, err := e.st.Stage.Issuer().AccessToken(ctx, jwt.AccessRequest{Subject: "x", ClientID: "x", OrgID: other, Audience: e.st.Audience, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for name, tok := range map[string]string{"other organization": foreign, "garbage": "not-a-token", "forged": m2m[:len(m2m)-5] + "AAAAA"} {
		if b := active(tok); b["active"] != false {
			t.Fatalf("%s: %v", name, b)
		}
	}

	// Callers: an SPA cannot authenticate; a wrong secret is invalid_client;
	// a missing token is invalid_request; GET is 405.
	resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/introspect", Form: url.Values{"client_id": {e.spa}, "token": {m2m}}})
	wantError(t, resp, body, 401, "invalid_client")
	resp, body = introspect(e.st.ClientID, "wrong", m2m)
	wantError(t, resp, body, 401, "invalid_client")
	resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/introspect", Form: url.Values{"client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}}})
	wantError(t, resp, body, 400, "invalid_request")
	if resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodGet, Path: "/oauth/introspect"}); resp.StatusCode != 405 {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}
