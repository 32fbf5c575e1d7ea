package wellknown_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/userinfo"
	"orgauth/pkg/endpoints/wellknown"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/cors"
	"orgauth/pkg/storage/memory"
	"orgauth/pkg/testkit/jwttest"
)

const (
	issuer = "https://auth.example.com"
	api    = "https://api.example.com"
	origin = "https://spa.example.com"
)

type fixture struct {
	h     http.Handler
	st    *memory.Store
	iss   *jwt.Issuer
	now   time.Time
	clock func() time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{st: memory.New(), now: time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)}
	f.clock = func() time.Time { return f.now }
	keys := jwttest.NewKeySet()
	f.iss = jwt.NewIssuer(issuer, keys, f.clock, nil)
	for _, err := range []error{
		f.st.CreateApplication(ctx, domain.Application{ClientID: "spa", OrganizationID: "org", Type: domain.ClientSPA, AllowedOrigins: []string{origin}}),
		f.st.CreateUser(ctx, domain.User{ID: "ada", OrganizationID: "org", Email: "Ada@Example.com", Name: "Ada"}),
		f.st.CreateUser(ctx, domain.User{ID: "off", OrganizationID: "org", Email: "off@example.com", Disabled: true}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	policy := cors.New(f.st, time.Minute, log, f.clock)
	disc, err := wellknown.New(wellknown.Deps{Keys: keys, CORS: policy, Log: log}, wellknown.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	ui, err := userinfo.New(userinfo.Deps{Verifier: jwt.NewVerifier(issuer, keys, f.clock), Store: f.st, CORS: policy, Log: log, Now: f.clock},
		userinfo.Config{Issuer: issuer, Audiences: []string{api}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/.well-known/", disc.Routes())
	mux.Handle("/userinfo", ui.Routes())
	f.h = mux
	return f
}

func (f *fixture) token(t *testing.T, sub, aud, scope string) (string, jwt.AccessClaims) {
	t.Helper()
	raw, c, err := f.iss.AccessToken(context.Background(), jwt.AccessRequest{
		Subject: sub, ClientID: "spa", OrgID: "org", Audience: aud, Scopes: strings.Fields(scope), Lifetime: time.Hour,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw, c
}

func (f *fixture) get(t *testing.T, method, path string, header ...string) (*http.Response, map[string]any) {
	t.Helper()
	r := httptest.NewRequest(method, path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	var m map[string]any
	_ = json.NewDecoder(w.Result().Body).Decode(&m)
	return w.Result(), m
}

func TestUserInfo(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, sub, aud, scope string
		status                int
		want                  map[string]any
		www                   string
	}{
		{"all claims", "ada", api, "openid email profile", 200, map[string]any{"sub": "ada", "org_id": "org", "email": "ada@example.com", "email_verified": false, "name": "Ada"}, ""},
		{"openid only, issuer audience", "ada", issuer, "openid", 200, map[string]any{"sub": "ada", "org_id": "org"}, ""},
		{"email only", "ada", api, "openid email", 200, map[string]any{"sub": "ada", "org_id": "org", "email": "ada@example.com", "email_verified": false}, ""},
		{"no openid", "ada", api, "email", 403, nil, `error="insufficient_scope"`},
		{"foreign audience", "ada", "https://elsewhere.example.com", "openid", 401, nil, `error="invalid_token"`},
		{"disabled user", "off", api, "openid", 401, nil, `error="invalid_token"`},
		{"unknown user", "ghost", api, "openid", 401, nil, `error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw, _ := f.token(t, tc.sub, tc.aud, tc.scope)
			resp, body := f.get(t, http.MethodGet, "/userinfo", "Authorization", "Bearer "+raw, "Origin", origin)
			if resp.StatusCode != tc.status || !strings.Contains(resp.Header.Get("WWW-Authenticate"), tc.www) {
				t.Fatalf("%d %v %v", resp.StatusCode, resp.Header, body)
			}
			if resp.Header.Get("Cache-Control") != "no-store" {
				t.Error("userinfo is cacheable")
			}
			if tc.want == nil {
				return
			}
			if len(body) != len(tc.want) {
				t.Fatalf("body %v, want %v", body, tc.want)
			}
			for k, v := range tc.want {
				if body[k] != v {
					t.Fatalf("%s = %v, want %v", k, body[k], v)
				}
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != origin {
				t.Fatalf("CORS for the client's origin: %v", resp.Header)
			}
		})
	}
	t.Run("revoked", func(t *testing.T) {
		raw, c := f.token(t, "ada", api, "openid")
		if err := f.st.RevokeJTI(context.Background(), c.ID, c.Expiry.Time()); err != nil {
			t.Fatal(err)
		}
		if resp, _ := f.get(t, http.MethodGet, "/userinfo", "Authorization", "Bearer "+raw); resp.StatusCode != 401 {
			t.Fatalf("revoked token: %d", resp.StatusCode)
		}
	})
	t.Run("expired", func(t *testing.T) {
		raw, _ := f.token(t, "ada", api, "openid")
		f.now = f.now.Add(time.Hour)
		defer func() { f.now = f.now.Add(-time.Hour) }()
		if resp, _ := f.get(t, http.MethodGet, "/userinfo", "Authorization", "Bearer "+raw); resp.StatusCode != 401 {
			t.Fatalf("expired token: %d", resp.StatusCode)
		}
	})
	t.Run("no token", func(t *testing.T) {
		resp, _ := f.get(t, http.MethodGet, "/userinfo")
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="orgauth"` {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("other origin", func(t *testing.T) {
		raw, _ := f.token(t, "ada", api, "openid")
		resp, _ := f.get(t, http.MethodGet, "/userinfo", "Authorization", "Bearer "+raw, "Origin", "https://evil.example")
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("%d %v", resp.StatusCode, resp.Header)
		}
	})
	t.Run("preflight and methods", func(t *testing.T) {
		resp, _ := f.get(t, http.MethodOptions, "/userinfo", "Origin", origin, "Access-Control-Request-Method", "GET", "Access-Control-Request-Headers", "authorization")
		if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != origin || !strings.Contains(resp.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Fatalf("preflight %d %v", resp.StatusCode, resp.Header)
		}
		if resp, _ := f.get(t, http.MethodDelete, "/userinfo"); resp.StatusCode != 405 {
			t.Fatalf("DELETE: %d", resp.StatusCode)
		}
	})
}

func TestMetadata(t *testing.T) {
	f := newFixture(t)
	resp, md := f.get(t, http.MethodGet, "/.well-known/openid-configuration", "Origin", origin)
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	if resp, _ := f.get(t, http.MethodGet, "/.well-known/openid-configuration", "Origin", "https://evil.example"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Fatalf("an origin no application allows: %v", resp.Header)
	}
	for k, v := range map[string]any{
		"issuer": issuer, "authorization_endpoint": issuer + "/authorize", "token_endpoint": issuer + "/oauth/token",
		"userinfo_endpoint": issuer + "/userinfo", "revocation_endpoint": issuer + "/oauth/revoke",
		"end_session_endpoint": issuer + "/logout", "jwks_uri": issuer + "/.well-known/jwks.json",
		"authorization_response_iss_parameter_supported": true,
	} {
		if md[k] != v {
			t.Errorf("%s = %v, want %v", k, md[k], v)
		}
	}
	b, _ := json.Marshal(md)
	for _, want := range []string{`"code_challenge_methods_supported":["S256"]`, `"response_types_supported":["code"]`,
		`"grant_types_supported":["authorization_code","refresh_token","client_credentials"]`, `"none"`, `"offline_access"`, `"at_hash"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("metadata lacks %s: %s", want, b)
		}
	}
}
