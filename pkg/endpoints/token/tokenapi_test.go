package token_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/token"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/platform/metrics"
	"orgauth/pkg/storage"
	"orgauth/pkg/testkit/jwttest"
	"orgauth/test/testenv"
)

// newStore is the memory store seeded with apps and orgs.
func newStore(t *testing.T, apps []domain.Application, orgs []domain.Organization) storage.Store {
	t.Helper()
	st := testenv.MemoryStore()
	ctx := context.Background()
	// The API, whose scopes an admin holds.
	if err := st.CreateAPI(ctx, domain.API{Audience: audience, Name: "API", Scopes: []domain.APIScope{
		{Name: "read", Description: "read", Roles: []domain.Role{domain.RoleAdmin, domain.RoleMember}},
		{Name: "write", Description: "write", Roles: []domain.Role{domain.RoleAdmin}},
	}}); err != nil {
		t.Fatal(err)
	}
	for _, o := range orgs {
		if err := st.CreateOrganization(ctx, o); err != nil {
			t.Fatal(err)
		}
		// Each organization's admin creates its applications.
		if err := st.CreateUser(ctx, domain.User{ID: "admin-" + o.ID, OrganizationID: o.ID, Email: "admin@" + o.ID + ".example", Role: domain.RoleAdmin}); err != nil {
			t.Fatal(err)
		}
	}
	for _, a := range apps {
		if a.CreatedBy == "" {
			a.CreatedBy = "admin-" + a.OrganizationID
		}
		if err := st.CreateApplication(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

// newHandler builds the token endpoint on st, with no-op metrics.
func newHandler(t *testing.T, st storage.Store, keys jwt.KeySet, clock func() time.Time, cfg token.Config) *token.Handler {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	iss := jwt.NewIssuer(issuer, keys, clock, nil)
	h, err := token.New(token.Deps{Store: st, Tokens: iss, Verifier: jwt.NewVerifier(issuer, keys, clock),
		CORS: cors.New(st, time.Minute, log, clock), Metrics: metrics.New(io.Discard, "test", clock), Log: log, Now: clock}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const (
	audience = "https://api.example.com"
	issuer   = "https://auth.example.com"
)

type fixture struct {
	h      http.Handler
	store  storage.Store
	keys   *jwttest.KeySet
	now    *time.Time
	secret string
	// weird has a client id and secret that need form-encoding in Basic.
	weirdID, weirdSecret string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	secret, hash := domain.NewSecret()
	weirdSecret := "s3cr:t+/=%é"
	f := &fixture{
		store: newStore(t, []domain.Application{
			{ClientID: "m2m-1", OrganizationID: "big", Type: domain.ClientM2M, SecretHash: hash, Scopes: []string{"read", "write"}},
			{ClientID: "m2m:2", OrganizationID: "big", Type: domain.ClientM2M, SecretHash: domain.HashSecret(weirdSecret), AccessTokenLifetime: 5 * time.Minute},
			{ClientID: "small", OrganizationID: "small", Type: domain.ClientM2M, SecretHash: hash},
			{ClientID: "spa-1", OrganizationID: "big", Type: domain.ClientSPA},
		}, []domain.Organization{
			{ID: "big", Plan: domain.PlanEnterpriseLarge},
			{ID: "small", Plan: domain.PlanEnterprise},
		}),
		keys: jwttest.NewKeySet(), now: &now, secret: secret, weirdID: "m2m:2", weirdSecret: weirdSecret,
	}
	clock := func() time.Time { return *f.now }
	f.h = newHandler(t, f.store, f.keys, clock, token.Config{Issuer: issuer, Audiences: []string{audience}, DefaultAccessTokenLifetime: time.Hour}).Routes()
	return f
}

type call struct {
	method, ctype, body, authz, query string
}

func (f *fixture) do(t *testing.T, c call) (*http.Response, map[string]any) {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	if c.ctype == "" {
		c.ctype = "application/x-www-form-urlencoded"
	}
	target := "/oauth/token"
	if c.query != "" {
		target += "?" + c.query
	}
	r := httptest.NewRequest(c.method, target, strings.NewReader(c.body))
	r.Header.Set("Content-Type", c.ctype)
	if c.authz != "" {
		r.Header.Set("Authorization", c.authz)
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	resp := w.Result()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", cc)
	}
	return resp, body
}

func form(kv ...string) string {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Add(kv[i], kv[i+1])
	}
	return v.Encode()
}

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
}

func TestClientCredentialsSuccess(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		c    call
		sub  string
		exp  float64
		sc   string
	}{
		{"client_secret_post", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", f.secret, "audience", audience)}, "m2m-1", 3600, "read write"},
		{"client_secret_basic", call{body: form("grant_type", "client_credentials", "audience", audience, "scope", "read"), authz: basic("m2m-1", f.secret)}, "m2m-1", 3600, "read"},
		{"basic with form-encoded id and secret", call{body: form("grant_type", "client_credentials", "audience", audience), authz: basic(f.weirdID, f.weirdSecret)}, "m2m:2", 300, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := f.do(t, tc.c)
			if resp.StatusCode != 200 {
				t.Fatalf("status %d: %v", resp.StatusCode, body)
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != tc.exp || body["scope"] != tc.sc {
				t.Fatalf("body = %v", body)
			}
			v := jwt.NewVerifier(issuer, f.keys, func() time.Time { return *f.now })
			claims, err := v.VerifyAccessToken(context.Background(), body["access_token"].(string), audience)
			if err != nil {
				t.Fatal(err)
			}
			if claims.Subject != tc.sub || claims.ClientID != tc.sub || claims.OrgID != "big" || claims.Scope != tc.sc {
				t.Fatalf("claims = %+v", claims)
			}
		})
	}
}

func TestClientCredentialsErrors(t *testing.T) {
	f := newFixture(t)
	good := func(extra ...string) string {
		return form(append([]string{"grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", f.secret, "audience", audience}, extra...)...)
	}
	tests := []struct {
		name   string
		c      call
		status int
		code   string
		www    bool
	}{
		{"wrong secret", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", "nope", "audience", audience)}, 401, "invalid_client", false},
		{"unknown client", call{body: form("grant_type", "client_credentials", "client_id", "ghost", "client_secret", "nope", "audience", audience)}, 401, "invalid_client", false},
		{"oversized client_id", call{body: form("grant_type", "client_credentials", "client_id", strings.Repeat("a", 3000), "client_secret", "nope", "audience", audience)}, 401, "invalid_client", false},
		{"oversized basic id", call{body: form("grant_type", "client_credentials", "audience", audience), authz: basic(strings.Repeat("a", 3000), "nope")}, 401, "invalid_client", true},
		{"client_id with a control character", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1\n", "client_secret", "nope", "audience", audience)}, 401, "invalid_client", false},
		{"wrong secret basic", call{body: form("grant_type", "client_credentials", "audience", audience), authz: basic("m2m-1", "nope")}, 401, "invalid_client", true},
		{"malformed basic", call{body: form("grant_type", "client_credentials", "audience", audience), authz: "Basic !!!"}, 401, "invalid_client", true},
		{"bearer scheme", call{body: form("grant_type", "client_credentials", "audience", audience), authz: "Bearer abc"}, 401, "invalid_client", true},
		{"no credentials", call{body: form("grant_type", "client_credentials", "audience", audience)}, 401, "invalid_client", false},
		{"id without secret", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "audience", audience)}, 401, "invalid_client", false},
		{"both methods", call{body: good(), authz: basic("m2m-1", f.secret)}, 400, "invalid_request", false},
		{"basic and other client_id", call{body: form("grant_type", "client_credentials", "client_id", "other", "audience", audience), authz: basic("m2m-1", f.secret)}, 400, "invalid_request", false},
		{"spa client", call{body: form("grant_type", "client_credentials", "client_id", "spa-1", "client_secret", "x", "audience", audience)}, 401, "invalid_client", false},
		{"plan too small", call{body: form("grant_type", "client_credentials", "client_id", "small", "client_secret", f.secret, "audience", audience)}, 400, "unauthorized_client", false},
		{"unknown audience", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", f.secret, "audience", "https://evil.example.com")}, 400, "invalid_target", false},
		{"missing audience", call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", f.secret)}, 400, "invalid_request", false},
		{"scope not allowed", call{body: good("scope", "read admin")}, 400, "invalid_scope", false},
		{"missing grant_type", call{body: form("client_id", "m2m-1", "client_secret", f.secret)}, 400, "invalid_request", false},
		{"unsupported grant", call{body: form("grant_type", "password", "client_id", "m2m-1", "client_secret", f.secret)}, 400, "unsupported_grant_type", false},
		{"wrong content type", call{body: `grant_type=client_credentials`, ctype: "text/plain"}, 400, "invalid_request", false},
		{"json without credentials", call{body: `{"grant_type":"client_credentials"}`, ctype: "application/json"}, 401, "invalid_client", false},
		{"repeated parameter", call{body: good("audience", audience)}, 400, "invalid_request", false},
		{"oversized body", call{body: good("pad", strings.Repeat("x", 20<<10))}, 400, "invalid_request", false},
		{"query parameters", call{body: good(), query: "client_secret=leak"}, 400, "invalid_request", false},
		{"malformed encoding", call{body: "grant_type=%zz"}, 400, "invalid_request", false},
		{"wrong method", call{method: http.MethodGet}, 405, "invalid_request", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := f.do(t, tt.c)
			if resp.StatusCode != tt.status || body["error"] != tt.code {
				t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, tt.status, tt.code)
			}
			if desc, _ := body["error_description"].(string); desc == "" {
				t.Errorf("no error_description")
			}
			if got := resp.Header.Get("WWW-Authenticate") != ""; got != tt.www {
				t.Errorf("WWW-Authenticate present = %v, want %v", got, tt.www)
			}
			if _, ok := body["access_token"]; ok {
				t.Errorf("error response carries a token")
			}
		})
	}
	if resp, _ := f.do(t, call{method: http.MethodGet}); resp.Header.Get("Allow") != "POST" {
		t.Errorf("405 without Allow: POST")
	}
}

// A wrong secret and an unknown client must read exactly the same.
func TestInvalidClientDoesNotRevealExistence(t *testing.T) {
	f := newFixture(t)
	_, known := f.do(t, call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", "bad", "audience", audience)})
	_, unknown := f.do(t, call{body: form("grant_type", "client_credentials", "client_id", "nobody", "client_secret", "bad", "audience", audience)})
	if known["error_description"] != unknown["error_description"] {
		t.Fatalf("%v != %v", known, unknown)
	}
}

func TestRotatedSecretGracePeriod(t *testing.T) {
	f := newFixture(t)
	newSecret, newHash := domain.NewSecret()
	if _, err := f.store.UpdateApplication(context.Background(), "m2m-1", func(app domain.Application) (domain.Application, error) {
		app.PreviousSecretHash, app.SecretHash = app.SecretHash, newHash
		app.PreviousSecretExpiresAt = f.now.Add(time.Hour)
		return app, nil
	}); err != nil {
		t.Fatal(err)
	}
	req := func(secret string) int {
		resp, _ := f.do(t, call{body: form("grant_type", "client_credentials", "client_id", "m2m-1", "client_secret", secret, "audience", audience)})
		return resp.StatusCode
	}
	if req(newSecret) != 200 || req(f.secret) != 200 {
		t.Fatal("both secrets must work inside the grace period")
	}
	*f.now = f.now.Add(time.Hour)
	if req(f.secret) != 401 {
		t.Fatal("old secret still works after the grace period")
	}
	if req(newSecret) != 200 {
		t.Fatal("new secret stopped working")
	}
}

// The organization is cached: a warm path reads only the client.
func TestOrganizationCache(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	secret, hash := domain.NewSecret()
	store := newStore(t, []domain.Application{{ClientID: "c", OrganizationID: "o", Type: domain.ClientM2M, SecretHash: hash}},
		[]domain.Organization{{ID: "o", Plan: domain.PlanEnterpriseLarge}})
	counting := &countingOrgs{Store: store}
	clock := func() time.Time { return now }
	h := newHandler(t, counting, jwttest.NewKeySet(), clock,
		token.Config{Issuer: issuer, Audiences: []string{audience}, OrganizationCacheTTL: 30 * time.Second})
	post := func() int {
		r := httptest.NewRequest("POST", "/oauth/token", strings.NewReader(form("grant_type", "client_credentials", "client_id", "c", "client_secret", secret, "audience", audience)))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	for range 3 {
		if post() != 200 {
			t.Fatal("token refused")
		}
	}
	if counting.n != 1 {
		t.Fatalf("organization read %d times, want 1", counting.n)
	}
	// A downgrade is seen once the TTL has passed.
	if _, err := store.UpdateOrganization(context.Background(), "o", func(o domain.Organization) (domain.Organization, error) {
		o.Plan = domain.PlanTeam
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	now = now.Add(31 * time.Second)
	if post() != 400 {
		t.Fatal("downgraded organization still gets tokens after the TTL")
	}
}

type countingOrgs struct {
	storage.Store
	n int
}

func (c *countingOrgs) GetOrganization(ctx context.Context, id string) (domain.Organization, error) {
	c.n++
	return c.Store.GetOrganization(ctx, id)
}
