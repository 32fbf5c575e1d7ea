package e2e

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/password"
	"orgauth/test/testenv"
)

// member is a user an operator added, with their password.
type member struct{ id, email, password string }

func addMember(t *testing.T, l *testenv.Local, admin *ops.Admin, orgID, name string, role domain.Role) member {
	t.Helper()
	pw := password.Generate()
	l.Secret(pw)
	email := name + "-" + domain.NewID()[:8] + "@example.com"
	u, err := admin.CreateUser(context.Background(), orgID, email, name, role, pw)
	if err != nil {
		t.Fatal(err)
	}
	return member{id: u.ID, email: email, password: pw}
}

// consoleSignIn signs m in to the developer console through /authorize,
// /login and the token endpoint, as the console does: its management
// token and refresh token.
func consoleSignIn(t *testing.T, l *testenv.Local, m member) *oauth2.Token {
	t.Helper()
	cfg := &oauth2.Config{ClientID: l.File.Console.ClientID, RedirectURL: l.File.Console.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize", TokenURL: l.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "email", "offline_access"}}
	return codeFlow(t, l, cfg, m, oauth2.SetAuthURLParam("audience", l.File.ManagementAudience))
}

func codeFlow(t *testing.T, l *testenv.Local, cfg *oauth2.Config, m member, opts ...oauth2.AuthCodeOption) *oauth2.Token {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	back := signInAs(t, l, cfg.AuthCodeURL("st", append(opts, oauth2.S256ChallengeOption(verifier))...), m.email, m.password)
	if back.Query().Get("code") == "" {
		t.Fatalf("no code: %s", back)
	}
	tok, err := cfg.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange for %s: %v", m.email, err)
	}
	l.Secret(back.Query().Get("code"), tok.AccessToken, tok.RefreshToken)
	return tok
}

func form(t *testing.T, l *testenv.Local, path string, f url.Values) (int, map[string]any) {
	t.Helper()
	c := apiClient{t: t, base: l.Issuer}
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(f.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// The attacks of "who may get which token", each refused through make
// run's stack: invented scopes, scopes beyond the member's role, changing
// the console's client, reading another organization's applications, and
// tokens that outlive their application or user.
func TestWhoMayGetWhichToken(t *testing.T) {
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	st := l.App(t)
	admin := ops.New(st.Store, st.Now)
	demo := apiClient{t: t, base: l.Issuer, token: l.DemoUserToken(t)}

	// An application naming admin:all, which no API defines: 422.
	status, _, body := demo.do("POST", "/applications", `{"name":"Steal","type":"spa","callback_urls":["https://evil.example.com/steal"],"scopes":["admin:all"]}`)
	if status != 422 || body["field"] != "scopes[0]" {
		t.Fatalf("admin:all: %d %v", status, body)
	}

	// A member cannot give write:demo, an admin's scope.
	m := addMember(t, l, admin, l.File.OrganizationID, "mo", domain.RoleMember)
	mtok := consoleSignIn(t, l, m)
	mem := apiClient{t: t, base: l.Issuer, token: mtok.AccessToken}
	status, _, body = mem.do("POST", "/applications", `{"name":"Writer","type":"m2m","scopes":["read:demo","write:demo"]}`)
	if status != 403 || body["field"] != "scopes[1]" {
		t.Fatalf("member gives write:demo: %d %v", status, body)
	}
	// The console shows what they may give.
	if status, _, body = mem.do("GET", "/apis", ""); status != 200 || !strings.Contains(mustJSON(t, body), `"grantable":false,"name":"write:demo"`) {
		t.Fatalf("GET /apis: %d %v", status, body)
	}

	// The console's client cannot be read or changed through the API.
	for _, c := range [][3]string{{"GET", "", ""}, {"PATCH", "", `{"callback_urls":["https://evil.example.com/cb"]}`}, {"DELETE", "", ""}, {"POST", "/rotate-secret", ""}} {
		if status, _, body := demo.do(c[0], "/applications/"+domain.ConsoleClientID+c[1], c[2]); status != 404 {
			t.Errorf("%s console: %d %v", c[0], status, body)
		}
	}

	// A second organization's member signs in to the same console, gets a
	// token of their own organization, manages its applications and never
	// sees the first's.
	org2, err := admin.CreateOrganization(ctx, "Second", domain.PlanEnterpriseLarge)
	if err != nil {
		t.Fatal(err)
	}
	other := addMember(t, l, admin, org2.ID, "ola", domain.RoleAdmin)
	otok := consoleSignIn(t, l, other)
	org2API := apiClient{t: t, base: l.Issuer, token: otok.AccessToken}
	if status, _, body = org2API.do("GET", "/organization", ""); status != 200 || body["id"] != org2.ID {
		t.Fatalf("second organization's console token: %d %v", status, body)
	}
	status, _, app := org2API.do("POST", "/applications", `{"name":"Jobs","type":"m2m","scopes":["read:demo","write:demo"]}`)
	if status != 201 {
		t.Fatalf("second organization creates: %d %v", status, app)
	}
	jobsID, jobsSecret := app["client_id"].(string), app["client_secret"].(string)
	l.Secret(jobsSecret)
	status, _, list := org2API.do("GET", "/applications", "")
	if status != 200 || len(list["applications"].([]any)) != 1 || strings.Contains(mustJSON(t, list), l.File.M2M.ClientID) {
		t.Fatalf("second organization's list: %d %v", status, list)
	}
	if status, _, _ := org2API.do("GET", "/applications/"+l.File.M2M.ClientID, ""); status != 404 {
		t.Fatalf("second organization reads the first's application: %d", status)
	}
	jobs := &clientcredentials.Config{ClientID: jobsID, ClientSecret: jobsSecret, TokenURL: l.Issuer + "/oauth/token",
		EndpointParams: url.Values{"audience": {l.File.Audience}}}
	if tok, err := jobs.Token(ctx); err != nil || tok.Extra("scope") != "read:demo write:demo" {
		t.Fatalf("second organization's M2M token: %v %v", tok, err)
	}

	// An introspecting resource server of the second organization.
	status, _, rs := org2API.do("POST", "/applications", `{"name":"Resource server","type":"m2m"}`)
	if status != 201 {
		t.Fatalf("resource server: %d %v", status, rs)
	}
	l.Secret(rs["client_secret"].(string))
	active := func(tok string) bool {
		t.Helper()
		status, body := form(t, l, "/oauth/introspect", url.Values{"client_id": {rs["client_id"].(string)}, "client_secret": {rs["client_secret"].(string)}, "token": {tok}})
		if status != 200 {
			t.Fatalf("introspect: %d %v", status, body)
		}
		return body["active"] == true
	}

	// A deleted application's tokens: an SPA's user tokens, and an M2M
	// application's management token.
	status, _, spa := org2API.do("POST", "/applications", `{"name":"Web","type":"spa","callback_urls":["http://127.0.0.1:9/cb"],"scopes":["read:demo"]}`)
	if status != 201 {
		t.Fatalf("SPA: %d %v", status, spa)
	}
	spaCfg := &oauth2.Config{ClientID: spa["client_id"].(string), RedirectURL: "http://127.0.0.1:9/cb",
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize", TokenURL: l.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "offline_access", "read:demo"}}
	user := addMember(t, l, admin, org2.ID, "uma", domain.RoleMember)
	// Another member's applications ask uma's consent first: she gave it.
	consented := func(cfg *oauth2.Config) {
		t.Helper()
		if _, err := st.Store.PutConsent(ctx, domain.Consent{UserID: user.id, ClientID: cfg.ClientID, OrganizationID: org2.ID,
			Scopes: domain.ConsentScopes(l.File.Audience, cfg.Scopes), GrantedAt: st.Now(), UpdatedAt: st.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	consented(spaCfg)
	spaTok := codeFlow(t, l, spaCfg, user)
	mgmt := &clientcredentials.Config{ClientID: jobsID, ClientSecret: jobsSecret, TokenURL: l.Issuer + "/oauth/token",
		EndpointParams: url.Values{"audience": {l.File.ManagementAudience}}}
	jobsMgmt, err := mgmt.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Secret(jobsMgmt.AccessToken)
	for _, id := range []string{spaCfg.ClientID, jobsID} {
		if status, _, body := org2API.do("DELETE", "/applications/"+id, ""); status != 204 {
			t.Fatalf("delete %s: %d %v", id, status, body)
		}
	}
	deadTokensRefused(t, l, active, spaCfg.ClientID, spaTok, "invalid_client")
	if status, _, body := (apiClient{t: t, base: l.Issuer, token: jobsMgmt.AccessToken}).do("GET", "/applications", ""); status != 401 {
		t.Errorf("deleted M2M application's management token: %d %v", status, body)
	}

	// A disabled user's tokens: their SPA tokens and their console token.
	status, _, spa2 := org2API.do("POST", "/applications", `{"name":"Web 2","type":"spa","callback_urls":["http://127.0.0.1:9/cb2"]}`)
	if status != 201 {
		t.Fatalf("SPA: %d %v", status, spa2)
	}
	spaCfg.ClientID, spaCfg.RedirectURL = spa2["client_id"].(string), "http://127.0.0.1:9/cb2"
	spaCfg.Scopes = []string{"openid", "offline_access"}
	consented(spaCfg)
	tok2 := codeFlow(t, l, spaCfg, user)
	userConsole := consoleSignIn(t, l, user)
	if _, err := admin.DisableUser(ctx, user.email); err != nil {
		t.Fatal(err)
	}
	deadTokensRefused(t, l, active, spaCfg.ClientID, tok2, "invalid_grant")
	if status, _, body := (apiClient{t: t, base: l.Issuer, token: userConsole.AccessToken}).do("GET", "/applications", ""); status != 401 {
		t.Errorf("disabled user's console token: %d %v", status, body)
	}
}

// deadTokensRefused checks a user's tokens of clientID at every endpoint
// that checks tokens: introspection says inactive, /userinfo refuses,
// refresh fails with refreshErr, and revocation answers 200.
func deadTokensRefused(t *testing.T, l *testenv.Local, active func(string) bool, clientID string, tok *oauth2.Token, refreshErr string) {
	t.Helper()
	if active(tok.AccessToken) || active(tok.RefreshToken) {
		t.Errorf("%s: introspection says active", clientID)
	}
	if status, _, body := (apiClient{t: t, base: l.Issuer, token: tok.AccessToken}).do("GET", "/userinfo", ""); status != 401 {
		t.Errorf("%s: userinfo %d %v", clientID, status, body)
	}
	if status, body := form(t, l, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}, "client_id": {clientID}}); status/100 != 4 || body["error"] != refreshErr {
		t.Errorf("%s: refresh %d %v", clientID, status, body)
	}
	for _, raw := range []string{tok.AccessToken, tok.RefreshToken} {
		if status, body := form(t, l, "/oauth/revoke", url.Values{"token": {raw}, "client_id": {clientID}}); status != 200 {
			t.Errorf("%s: revoke %d %v", clientID, status, body)
		}
	}
}
