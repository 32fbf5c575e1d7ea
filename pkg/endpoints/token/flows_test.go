package token_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/test/testenv"
)

// flowEnv is one emulator stack shared by the sign-in flow tests, with an
// SPA, its user, and a clock the tests move.
type flowEnv struct {
	st       *testenv.Stack
	spa      string
	other    string // a second SPA of the same organization
	user     string
	redirect string
	origin   string

	mu  sync.Mutex
	now time.Time
}

func (e *flowEnv) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func newFlowEnv(t *testing.T) *flowEnv {
	t.Helper()
	st := testenv.NewStack(t)
	e := &flowEnv{st: st, redirect: "https://spa.example.com/cb", origin: "https://spa.example.com", now: time.Now()}
	e.spa = st.AddSPA(t, st.OrgID, e.redirect, "https://spa.example.com/bye")
	e.other = st.AddSPA(t, st.OrgID, "https://other.example.com/cb", "https://other.example.com/bye")
	e.user = st.AddUser(t, st.OrgID, "ada-"+st.OrgID+"@example.com")
	return e
}

func (e *flowEnv) token() http.Handler     { return e.st.WithClock(e.clock, e.st.Token) }
func (e *flowEnv) wellKnown() http.Handler { return e.st.WithClock(e.clock, e.st.WellKnown) }

func (e *flowEnv) code(t *testing.T, mod func(*testenv.CodeGrant)) (code, verifier string) {
	t.Helper()
	verifier, challenge := testenv.PKCE()
	g := testenv.CodeGrant{
		ClientID: e.spa, UserID: e.user, OrgID: e.st.OrgID, RedirectURI: e.redirect, Challenge: challenge,
		Nonce: "nonce-" + domain.NewID(), Audience: e.st.Audience, Scopes: []string{"openid", "email", "profile", "offline_access", "read"},
		AuthTime: e.clock().Add(-time.Minute).Truncate(time.Second), ExpiresAt: e.clock().Add(time.Minute),
	}
	if mod != nil {
		mod(&g)
	}
	return e.st.IssueCode(t, g), verifier
}

func (e *flowEnv) exchange(t *testing.T, h http.Handler, code, verifier string, extra ...string) (*http.Response, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {verifier}, "redirect_uri": {e.redirect}, "client_id": {e.spa}}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			f.Del(extra[i])
		} else {
			f.Set(extra[i], extra[i+1])
		}
	}
	return testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: f, Header: http.Header{"Origin": {e.origin}}})
}

func (e *flowEnv) refresh(t *testing.T, h http.Handler, rt string, extra ...string) (*http.Response, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "client_id": {e.spa}}
	for i := 0; i+1 < len(extra); i += 2 {
		f.Set(extra[i], extra[i+1])
	}
	return testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: f})
}

func (e *flowEnv) userinfo(t *testing.T, access string) (*http.Response, map[string]any) {
	t.Helper()
	return testenv.Do(t, e.wellKnown(), testenv.Call{Method: http.MethodGet, Path: "/userinfo",
		Header: http.Header{"Authorization": {"Bearer " + access}, "Origin": {e.origin}}})
}

func wantError(t *testing.T, resp *http.Response, body map[string]any, status int, code string) {
	t.Helper()
	if resp.StatusCode != status || body["error"] != code {
		t.Fatalf("got %d %v, want %d %s", resp.StatusCode, body, status, code)
	}
	if _, ok := body["access_token"]; ok {
		t.Fatal("error carries a token")
	}
}

func TestSignInFlows(t *testing.T) {
	e := newFlowEnv(t)
	ctx := context.Background()
	verifier := jwt.NewVerifier(e.st.Stage.Cfg.Issuer, e.st.Stage.Keys, nil)

	// email_verified is the user's: false above, true for a user whose
	// address is known to be theirs, in the ID token and /userinfo alike.
	t.Run("email verified", func(t *testing.T) {
		email := "vera-" + e.st.OrgID + "@example.com"
		vera := e.st.AddUser(t, e.st.OrgID, email)
		if _, err := e.st.Stage.Store.UpdateUser(ctx, vera, func(u domain.User) (domain.User, error) {
			u.EmailVerified = true
			return u, nil
		}); err != nil {
			t.Fatal(err)
		}
		code, v := e.code(t, func(g *testenv.CodeGrant) { g.UserID = vera })
		resp, body := e.exchange(t, e.token(), code, v)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		idt := parseID(t, e, body["id_token"].(string))
		_, ui := e.userinfo(t, body["access_token"].(string))
		if idt["email"] != email || idt["email_verified"] != true || ui["email"] != email || ui["email_verified"] != true {
			t.Fatalf("id token %v, userinfo %v", idt, ui)
		}
	})

	t.Run("code exchange", func(t *testing.T) {
		h := e.token()
		code, v := e.code(t, nil)
		resp, body := e.exchange(t, h, code, v)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		if resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
			t.Fatalf("headers %v", resp.Header)
		}
		if body["token_type"] != "Bearer" || body["scope"] != "openid email profile offline_access read" || body["refresh_token"] == nil || body["expires_in"] != float64(3600) {
			t.Fatalf("body %v", body)
		}
		access := body["access_token"].(string)
		claims, err := verifier.VerifyAccessToken(ctx, access, e.st.Audience)
		if err != nil {
			t.Fatal(err)
		}
		if claims.Subject != e.user || claims.ClientID != e.spa || claims.OrgID != e.st.OrgID || claims.AuthTime == nil {
			t.Fatalf("access claims %+v", claims)
		}
		idt := parseID(t, e, body["id_token"].(string))
		if idt["sub"] != e.user || idt["aud"] != e.spa || idt["azp"] != e.spa || idt["at_hash"] != jwt.AccessTokenHash(access) ||
			idt["email"] != "ada-"+e.st.OrgID+"@example.com" || idt["name"] == nil || idt["auth_time"] == nil || !strings.HasPrefix(idt["nonce"].(string), "nonce-") {
			t.Fatalf("id token %v", idt)
		}
		// userinfo with that token
		resp, ui := e.userinfo(t, access)
		if resp.StatusCode != 200 || ui["sub"] != e.user || ui["email"] != idt["email"] || ui["email_verified"] != false || ui["name"] == nil {
			t.Fatalf("userinfo %d %v", resp.StatusCode, ui)
		}
		if resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
			t.Fatalf("userinfo CORS %v", resp.Header)
		}
	})

	t.Run("without openid or offline_access", func(t *testing.T) {
		code, v := e.code(t, func(g *testenv.CodeGrant) { g.Scopes = []string{"read"}; g.Audience = "" })
		resp, body := e.exchange(t, e.token(), code, v)
		if resp.StatusCode != 200 || body["id_token"] != nil || body["refresh_token"] != nil || body["scope"] != "read" {
			t.Fatalf("%d %v", resp.StatusCode, body)
		}
		// No API asked for: the token is for orgauth itself, which
		// /userinfo accepts, but without openid it answers 403.
		if _, err := verifier.VerifyAccessToken(ctx, body["access_token"].(string), e.st.Stage.Cfg.Issuer); err != nil {
			t.Fatal(err)
		}
		resp, _ = e.userinfo(t, body["access_token"].(string))
		if resp.StatusCode != 403 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Fatalf("userinfo without openid: %d %v", resp.StatusCode, resp.Header)
		}
	})

	t.Run("code refusals", func(t *testing.T) {
		h := e.token()
		tests := []struct {
			name   string
			mod    func(*testenv.CodeGrant)
			extra  []string
			status int
			err    string
		}{
			{"missing verifier", nil, []string{"code_verifier", ""}, 400, "invalid_grant"},
			{"wrong verifier", nil, []string{"code_verifier", strings.Repeat("a", 43)}, 400, "invalid_grant"},
			{"plain verifier", func(g *testenv.CodeGrant) { g.Challenge = strings.Repeat("p", 43) }, []string{"code_verifier", strings.Repeat("p", 43)}, 400, "invalid_grant"},
			{"redirect_uri mismatch", nil, []string{"redirect_uri", "https://spa.example.com/other"}, 400, "invalid_grant"},
			{"missing redirect_uri", nil, []string{"redirect_uri", ""}, 400, "invalid_grant"},
			{"another client's code", func(g *testenv.CodeGrant) { g.ClientID = e.other }, nil, 400, "invalid_grant"},
			{"expired code", func(g *testenv.CodeGrant) { g.ExpiresAt = e.clock().Add(-time.Second) }, nil, 400, "invalid_grant"},
			{"unknown code", nil, []string{"code", "nope"}, 400, "invalid_grant"},
			{"m2m without secret", nil, []string{"client_id", e.st.ClientID}, 401, "invalid_client"},
			{"unknown client", nil, []string{"client_id", "ghost"}, 401, "invalid_client"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				code, v := e.code(t, tc.mod)
				resp, body := e.exchange(t, h, code, v, tc.extra...)
				wantError(t, resp, body, tc.status, tc.err)
			})
		}
		t.Run("public identification does not reveal clients", func(t *testing.T) {
			code, v := e.code(t, nil)
			_, m2m := e.exchange(t, h, code, v, "client_id", e.st.ClientID)
			_, ghost := e.exchange(t, h, code, v, "client_id", "ghost")
			if m2m["error_description"] != ghost["error_description"] {
				t.Fatalf("%v != %v", m2m, ghost)
			}
		})
		t.Run("m2m with its secret", func(t *testing.T) {
			code, v := e.code(t, nil)
			resp, body := e.exchange(t, h, code, v, "client_id", e.st.ClientID, "client_secret", e.st.ClientSecret)
			wantError(t, resp, body, 400, "unauthorized_client")
		})
		t.Run("expired by the clock", func(t *testing.T) {
			code, v := e.code(t, nil)
			later := e.st.WithClock(func() time.Time { return e.clock().Add(61 * time.Second) }, e.st.Token)
			resp, body := e.exchange(t, later, code, v)
			wantError(t, resp, body, 400, "invalid_grant")
		})
		t.Run("disabled user", func(t *testing.T) {
			u := e.st.AddUser(t, e.st.OrgID, "off-"+domain.NewID()+"@example.com")
			if _, err := e.st.Stage.Store.UpdateUser(ctx, u, func(x domain.User) (domain.User, error) { x.Disabled = true; return x, nil }); err != nil {
				t.Fatal(err)
			}
			code, v := e.code(t, func(g *testenv.CodeGrant) { g.UserID = u })
			resp, body := e.exchange(t, h, code, v)
			wantError(t, resp, body, 400, "invalid_grant")
		})
	})

	t.Run("code replay revokes what it issued", func(t *testing.T) {
		h := e.token()
		code, v := e.code(t, nil)
		resp, first := e.exchange(t, h, code, v)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, first)
		}
		resp, body := e.exchange(t, h, code, v)
		wantError(t, resp, body, 400, "invalid_grant")
		if resp, _ := e.userinfo(t, first["access_token"].(string)); resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), "invalid_token") {
			t.Fatalf("access token of a replayed code still works: %d", resp.StatusCode)
		}
		resp, body = e.refresh(t, h, first["refresh_token"].(string))
		wantError(t, resp, body, 400, "invalid_grant")
	})

	t.Run("refresh rotation and grace", func(t *testing.T) {
		h := e.token()
		code, v := e.code(t, nil)
		_, first := e.exchange(t, h, code, v)
		rt1 := first["refresh_token"].(string)
		resp, second := e.refresh(t, h, rt1, "scope", "openid read")
		if resp.StatusCode != 200 || second["scope"] != "openid read" || second["refresh_token"] == nil || second["refresh_token"] == rt1 || second["id_token"] == nil {
			t.Fatalf("%d %v", resp.StatusCode, second)
		}
		idt := parseID(t, e, second["id_token"].(string))
		if idt["sub"] != e.user || idt["nonce"] != nil || idt["email"] != nil {
			t.Fatalf("refreshed id token %v", idt)
		}
		// Reuse within the grace: refused, nothing revoked.
		resp, body := e.refresh(t, h, rt1)
		wantError(t, resp, body, 400, "invalid_grant")
		rt2 := second["refresh_token"].(string)
		// The successor keeps the original scopes: narrowing was for one
		// access token only; widening beyond the grant is refused.
		resp, body = e.refresh(t, h, rt2, "scope", "openid admin")
		wantError(t, resp, body, 400, "invalid_scope")
		resp, third := e.refresh(t, h, rt2)
		if resp.StatusCode != 200 || third["scope"] != "openid email profile offline_access read" {
			t.Fatalf("%d %v", resp.StatusCode, third)
		}
		// Another client cannot use it.
		resp, body = testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {third["refresh_token"].(string)}, "client_id": {e.other}}})
		wantError(t, resp, body, 400, "invalid_grant")
		// Reuse after the grace revokes the family, the live token too.
		later := e.st.WithClock(func() time.Time { return e.clock().Add(11 * time.Second) }, e.st.Token)
		resp, body = e.refresh(t, later, rt2)
		wantError(t, resp, body, 400, "invalid_grant")
		resp, body = e.refresh(t, later, third["refresh_token"].(string))
		wantError(t, resp, body, 400, "invalid_grant")
		if resp, _ := e.userinfo(t, third["access_token"].(string)); resp.StatusCode != 401 {
			t.Fatalf("access token of a revoked family still works: %d", resp.StatusCode)
		}
	})

	t.Run("idle and absolute expiry", func(t *testing.T) {
		h := e.token()
		code, v := e.code(t, nil)
		_, first := e.exchange(t, h, code, v)
		idle := e.st.WithClock(func() time.Time { return e.clock().Add(7*24*time.Hour + time.Second) }, e.st.Token)
		resp, body := e.refresh(t, idle, first["refresh_token"].(string))
		wantError(t, resp, body, 400, "invalid_grant")

		code, v = e.code(t, nil)
		_, first = e.exchange(t, h, code, v)
		rt := first["refresh_token"].(string)
		// Used every 6 days, a family still ends 30 days after sign-in.
		for day := 6; day < 30; day += 6 {
			at := e.clock().Add(time.Duration(day) * 24 * time.Hour)
			resp, body := e.refresh(t, e.st.WithClock(func() time.Time { return at }, e.st.Token), rt)
			if resp.StatusCode != 200 {
				t.Fatalf("day %d: %d %v", day, resp.StatusCode, body)
			}
			rt = body["refresh_token"].(string)
		}
		end := e.clock().Add(30*24*time.Hour + time.Second)
		resp, body = e.refresh(t, e.st.WithClock(func() time.Time { return end }, e.st.Token), rt)
		wantError(t, resp, body, 400, "invalid_grant")
	})

	t.Run("deleted application gets nothing", func(t *testing.T) {
		spa := e.st.AddSPA(t, e.st.OrgID, e.redirect, "https://spa.example.com/bye")
		code, v := e.code(t, func(g *testenv.CodeGrant) { g.ClientID = spa })
		resp, first := e.exchange(t, e.token(), code, v, "client_id", spa)
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, first)
		}
		if err := e.st.Stage.Store.DeleteApplication(ctx, spa); err != nil {
			t.Fatal(err)
		}
		resp, body := testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {first["refresh_token"].(string)}, "client_id": {spa}}})
		wantError(t, resp, body, 401, "invalid_client")
	})

	t.Run("revocation", func(t *testing.T) {
		h := e.token()
		revoke := func(form url.Values, header http.Header) (*http.Response, map[string]any) {
			return testenv.Do(t, h, testenv.Call{Path: "/oauth/revoke", Form: form, Header: header})
		}
		code, v := e.code(t, nil)
		_, first := e.exchange(t, h, code, v)
		// Another client may not revoke it.
		resp, body := revoke(url.Values{"token": {first["refresh_token"].(string)}, "client_id": {e.other}}, nil)
		wantError(t, resp, body, 400, "unauthorized_client")
		resp, _ = revoke(url.Values{"token": {first["refresh_token"].(string)}, "client_id": {e.spa}, "token_type_hint": {"refresh_token"}}, http.Header{"Origin": {e.origin}})
		if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
			t.Fatalf("revoke refresh: %d %v", resp.StatusCode, resp.Header)
		}
		resp, body = e.refresh(t, h, first["refresh_token"].(string))
		wantError(t, resp, body, 400, "invalid_grant")
		if resp, _ := e.userinfo(t, first["access_token"].(string)); resp.StatusCode != 401 {
			t.Fatalf("access token of a revoked refresh token still works: %d", resp.StatusCode)
		}

		// An access token alone.
		code, v = e.code(t, nil)
		_, second := e.exchange(t, h, code, v)
		resp, _ = revoke(url.Values{"token": {second["access_token"].(string)}, "client_id": {e.spa}, "token_type_hint": {"access_token"}}, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("revoke access: %d", resp.StatusCode)
		}
		if resp, _ := e.userinfo(t, second["access_token"].(string)); resp.StatusCode != 401 {
			t.Fatalf("revoked access token still works: %d", resp.StatusCode)
		}
		if resp, body := e.refresh(t, h, second["refresh_token"].(string)); resp.StatusCode != 200 {
			t.Fatalf("revoking an access token must not end its refresh token: %d %v", resp.StatusCode, body)
		}
		// Unknown tokens: 200 (RFC 7009 §2.2).
		if resp, _ := revoke(url.Values{"token": {"nonsense"}, "client_id": {e.spa}}, nil); resp.StatusCode != 200 {
			t.Fatalf("unknown token: %d", resp.StatusCode)
		}
		// M2M: its own access token, authenticated; not without a secret.
		resp, body = revoke(url.Values{"token": {"x"}, "client_id": {e.st.ClientID}}, nil)
		wantError(t, resp, body, 401, "invalid_client")
		resp, body = revoke(url.Values{"client_id": {e.spa}}, nil)
		wantError(t, resp, body, 400, "invalid_request")
		if resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodGet, Path: "/oauth/revoke"}); resp.StatusCode != 405 {
			t.Fatalf("GET /oauth/revoke: %d", resp.StatusCode)
		}
	})

	t.Run("m2m access token revocation", func(t *testing.T) {
		h := e.token()
		resp, tok := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"}, "client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "audience": {e.st.Audience}}})
		if resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, tok)
		}
		resp, _ = testenv.Do(t, h, testenv.Call{Path: "/oauth/revoke", Form: url.Values{"token": {tok["access_token"].(string)}, "client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}}})
		if resp.StatusCode != 200 {
			t.Fatalf("revoke: %d", resp.StatusCode)
		}
		claims, err := verifier.VerifyAccessToken(ctx, tok["access_token"].(string), e.st.Audience)
		if err != nil {
			t.Fatal(err)
		}
		if ok, err := e.st.Stage.Store.IsJTIRevoked(ctx, claims.ID, time.Now()); err != nil || !ok {
			t.Fatalf("jti not revoked: %v %v", ok, err)
		}
	})

	t.Run("userinfo errors", func(t *testing.T) {
		wk := e.wellKnown()
		resp, _ := testenv.Do(t, wk, testenv.Call{Method: http.MethodGet, Path: "/userinfo"})
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Bearer realm="orgauth"` {
			t.Fatalf("no token: %d %v", resp.StatusCode, resp.Header)
		}
		resp, _ = e.userinfo(t, "garbage")
		if resp.StatusCode != 401 || !strings.Contains(resp.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
			t.Fatalf("bad token: %d %v", resp.StatusCode, resp.Header)
		}
		// An M2M token has no openid scope and no user.
		_, tok := testenv.Do(t, e.token(), testenv.Call{Path: "/oauth/token", Form: url.Values{"grant_type": {"client_credentials"}, "client_id": {e.st.ClientID}, "client_secret": {e.st.ClientSecret}, "audience": {e.st.Audience}}})
		if resp, _ := e.userinfo(t, tok["access_token"].(string)); resp.StatusCode != 403 {
			t.Fatalf("m2m token: %d", resp.StatusCode)
		}
		// POST works too (OIDC Core §5.3.1).
		code, v := e.code(t, func(g *testenv.CodeGrant) { g.Scopes = []string{"openid"} })
		_, body := e.exchange(t, e.token(), code, v)
		resp, ui := testenv.Do(t, wk, testenv.Call{Method: http.MethodPost, Path: "/userinfo", Header: http.Header{"Authorization": {"Bearer " + body["access_token"].(string)}}})
		if resp.StatusCode != 200 || ui["sub"] != e.user || ui["email"] != nil || ui["name"] != nil {
			t.Fatalf("openid-only userinfo: %d %v", resp.StatusCode, ui)
		}
	})

	t.Run("cors", func(t *testing.T) {
		h := e.token()
		for _, path := range []string{"/oauth/token", "/oauth/revoke"} {
			// A preflight carries no client_id: an origin some application
			// allows is answered, any other is refused.
			resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodOptions, Path: path,
				Header: http.Header{"Origin": {e.origin}, "Access-Control-Request-Method": {"POST"}, "Access-Control-Request-Headers": {"content-type"}}})
			if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != e.origin ||
				resp.Header.Get("Access-Control-Allow-Credentials") != "" || !strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "POST") {
				t.Fatalf("preflight %s: %d %v", path, resp.StatusCode, resp.Header)
			}
			resp, _ = testenv.Do(t, h, testenv.Call{Method: http.MethodOptions, Path: path,
				Header: http.Header{"Origin": {"https://anything.example"}, "Access-Control-Request-Method": {"POST"}}})
			if resp.StatusCode != 204 || resp.Header.Get("Access-Control-Allow-Origin") != "" || resp.Header.Get("Access-Control-Allow-Methods") != "" {
				t.Fatalf("preflight %s from an origin no application allows: %d %v", path, resp.StatusCode, resp.Header)
			}
		}
		// Another application's allowed origin passes the preflight (the
		// index knows it) but cannot read this client's token response.
		otherOrigin := "https://other.example.com"
		resp, _ := testenv.Do(t, h, testenv.Call{Method: http.MethodOptions, Path: "/oauth/token",
			Header: http.Header{"Origin": {otherOrigin}, "Access-Control-Request-Method": {"POST"}}})
		if resp.Header.Get("Access-Control-Allow-Origin") != otherOrigin {
			t.Fatalf("the other application's origin is not in the index: %v", resp.Header)
		}
		code, v := e.code(t, nil)
		f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "code_verifier": {v}, "redirect_uri": {e.redirect}, "client_id": {e.spa}}
		resp, body := testenv.Do(t, h, testenv.Call{Path: "/oauth/token", Form: f, Header: http.Header{"Origin": {otherOrigin}}})
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("another application's origin reads the token response: %d %v %v", resp.StatusCode, resp.Header, body)
		}
		// Errors after authentication are readable by the client's origin.
		resp, _ = e.exchange(t, h, "nope", v)
		if resp.Header.Get("Access-Control-Allow-Origin") != e.origin {
			t.Fatalf("error without CORS: %v", resp.Header)
		}
		resp, _ = testenv.Do(t, e.wellKnown(), testenv.Call{Method: http.MethodGet, Path: "/userinfo",
			Header: http.Header{"Authorization": {"Bearer " + body["access_token"].(string)}, "Origin": {otherOrigin}}})
		if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Fatalf("userinfo read by another application's origin: %d %v", resp.StatusCode, resp.Header)
		}
		// /authorize is a top-level navigation: never CORS, for any origin.
		for _, m := range []string{http.MethodGet, http.MethodOptions} {
			resp, _ = testenv.Do(t, e.st.Authorize(), testenv.Call{Method: m, Path: "/authorize?client_id=" + e.spa + "&response_type=code",
				Header: http.Header{"Origin": {e.origin}, "Access-Control-Request-Method": {"GET"}}})
			for k := range resp.Header {
				if strings.HasPrefix(k, "Access-Control-") {
					t.Fatalf("/authorize %s carries %s: %v", m, k, resp.Header)
				}
			}
		}
		for origin, want := range map[string]string{e.origin: e.origin, "https://evil.example": ""} {
			for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
				resp, _ = testenv.Do(t, e.wellKnown(), testenv.Call{Method: http.MethodGet, Path: path, Header: http.Header{"Origin": {origin}}})
				if resp.Header.Get("Access-Control-Allow-Origin") != want || resp.Header.Get("Vary") != "Origin" {
					t.Fatalf("%s CORS for %s: %v", path, origin, resp.Header)
				}
			}
		}
	})

	t.Run("discovery metadata", func(t *testing.T) {
		resp, md := testenv.Do(t, e.wellKnown(), testenv.Call{Method: http.MethodGet, Path: "/.well-known/openid-configuration"})
		iss := e.st.Stage.Cfg.Issuer
		if resp.StatusCode != 200 || md["authorization_endpoint"] != iss+"/authorize" || md["userinfo_endpoint"] != iss+"/userinfo" ||
			md["revocation_endpoint"] != iss+"/oauth/revoke" || md["end_session_endpoint"] != iss+"/logout" ||
			md["authorization_response_iss_parameter_supported"] != true {
			t.Fatalf("%v", md)
		}
		for k, want := range map[string]string{
			"grant_types_supported": "authorization_code refresh_token client_credentials", "response_types_supported": "code",
			"code_challenge_methods_supported": "S256", "id_token_signing_alg_values_supported": "RS256",
		} {
			if got := joinAny(md[k]); got != want {
				t.Errorf("%s = %q, want %q", k, got, want)
			}
		}
		if !strings.Contains(joinAny(md["token_endpoint_auth_methods_supported"]), "none") ||
			!strings.Contains(joinAny(md["scopes_supported"]), "offline_access") || !strings.Contains(joinAny(md["claims_supported"]), "email_verified") {
			t.Fatalf("%v", md)
		}
	})
}

func joinAny(v any) string {
	l, _ := v.([]any)
	var out []string
	for _, x := range l {
		s, _ := x.(string)
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// parseID verifies an ID token's signature against the stack's key set and
// returns its claims.
func parseID(t *testing.T, e *flowEnv, raw string) map[string]any {
	t.Helper()
	tok, err := josejwt.ParseSigned(raw, []jose.SignatureAlgorithm{jose.RS256, jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if typ := tok.Headers[0].ExtraHeaders[jose.HeaderType]; typ != "JWT" {
		t.Fatalf("typ %v", typ)
	}
	set, err := e.st.Stage.Keys.Published(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := tok.Claims(set.Key(tok.Headers[0].KeyID)[0].Key, &m); err != nil {
		t.Fatal(err)
	}
	if m["iss"] != e.st.Stage.Cfg.Issuer {
		t.Fatalf("iss %v", m["iss"])
	}
	return m
}
