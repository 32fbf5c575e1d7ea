// Package rie replays the sample events under events/ through the real
// bootstrap binaries running under aws-lambda-rie, so the Lambda entry path
// (runtime API, payload 2.0 adapter, cold-start wiring) is tested, not only
// the handlers.
package rie

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/console"
	"orgauth/pkg/jwt"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// buildBootstrap compiles a function the way make build does, but for this
// machine's architecture so the emulator can run it.
func buildBootstrap(t *testing.T, root, fn string) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "bootstrap")
	cmd := exec.Command("go", "build", "-tags", "lambda.norpc", "-trimpath", "-ldflags=-s -w", "-o", out, "./functions/"+fn)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+runtime.GOARCH)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build %s: %v\n%s", fn, err, b)
	}
	return out
}

// invoke sends one event to the emulator and decodes the payload-2.0 answer.
func invoke(t *testing.T, endpoint string, event []byte) events.APIGatewayV2HTTPResponse {
	t.Helper()
	resp, err := http.Post(endpoint+"/2015-03-31/functions/function/invocations", "application/json", bytes.NewReader(event))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var out events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(body, &out); err != nil || out.StatusCode == 0 {
		t.Fatalf("invoke answered %d %s", resp.StatusCode, body)
	}
	return out
}

func TestReplayEvents(t *testing.T) {
	st := testenv.StartStack(t, "RSA_2048")
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	// A signed-in user's token for the management API, with the OpenID
	// scopes /userinfo needs.
	mgmt, _, err := st.Stage.Issuer().AccessToken(context.Background(), jwt.AccessRequest{Subject: st.OwnerID, ClientID: domain.ConsoleClientID,
		OrgID: st.OrgID, Audience: st.Stage.Cfg.ManagementAudience, Scopes: []string{"openid", "email"}, Lifetime: time.Minute, AuthTime: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	spa := st.AddSPA(t, st.OrgID, "https://spa.example.com/callback", "https://spa.example.com/")
	// The owner approved the SPA: what GET /consents lists and DELETE
	// /consents/{client_id} withdraws.
	if _, err := st.Stage.Store.PutConsent(context.Background(), domain.Consent{UserID: st.OwnerID, ClientID: spa, OrganizationID: st.OrgID,
		Scopes: domain.ConsentScopes(st.Audience, []string{"openid", "read"}), GrantedAt: time.Now(), UpdatedAt: time.Now()}); err != nil {
		t.Fatal(err)
	}
	replace := strings.NewReplacer("SPA_CLIENT_ID", spa, "CLIENT_ID", st.ClientID, "CLIENT_SECRET", st.ClientSecret, "ACCESS_TOKEN", mgmt)

	var env []string
	for k, v := range st.Env {
		env = append(env, k+"="+v)
	}
	env = append(env, "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local")

	files, _ := filepath.Glob(filepath.Join(root, "events", "*.json"))
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
	}
	var want []string
	for _, e := range expectations {
		want = append(want, e.event)
	}
	if !slices.Equal(sorted(names), sorted(want)) {
		t.Fatalf("events/ holds %v; the replay expects %v: every sample event needs an expectation", names, want)
	}
	// One emulator per function, the events replayed in the listed order.
	var current string
	var p *emulator.Process
	defer func() {
		if p != nil {
			p.Stop()
		}
	}()
	for _, e := range expectations {
		fn, _, _ := strings.Cut(e.event, "-")
		if fn != current {
			if p != nil {
				p.Stop()
			}
			bootstrap := buildBootstrap(t, root, fn)
			if p, err = emulator.StartRIE(context.Background(), bootstrap, env); err != nil {
				t.Fatal(err)
			}
			current = fn
		}
		raw, err := os.ReadFile(filepath.Join(root, "events", e.event+".json"))
		if err != nil {
			t.Fatal(err)
		}
		t.Run(e.event, func(t *testing.T) {
			e.check(t, st, invoke(t, p.Endpoint, []byte(replace.Replace(string(raw)))))
		})
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

type expectation struct {
	event string
	check func(*testing.T, *testenv.Stack, events.APIGatewayV2HTTPResponse)
}

// expectations says what each sample event must produce, in replay order.
var expectations = []expectation{
	{"token-client-credentials", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		var body struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
		}
		mustJSON(t, r.Body, &body)
		v := jwt.NewVerifier(st.Stage.Cfg.Issuer, st.Stage.Keys, nil)
		c, err := v.VerifyAccessToken(context.Background(), body.AccessToken, st.Audience)
		if err != nil || c.ClientID != st.ClientID || body.TokenType != "Bearer" {
			t.Fatalf("token does not verify: %v %+v", err, c)
		}
		if header(r, "Cache-Control") != "no-store" {
			t.Errorf("Cache-Control = %q", header(r, "Cache-Control"))
		}
		if header(r, "X-Request-Id") != "OrgAuth00EXAMPLE=" {
			t.Errorf("X-Request-Id = %q, want the gateway's request id", header(r, "X-Request-Id"))
		}
	}},
	{"token-preflight", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 204)
		if !strings.Contains(header(r, "Access-Control-Allow-Methods"), "POST") {
			t.Fatalf("preflight headers = %v", r.Headers)
		}
	}},
	{"token-revoke", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		// RFC 7009 §2.2: an invalid or unknown token is not an error.
		wantStatus(t, r, 200)
		if header(r, "Access-Control-Allow-Origin") != "https://spa.example.com" {
			t.Errorf("no CORS for the client's allowed origin: %v", r.Headers)
		}
	}},
	{"token-introspect", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		// The M2M client introspects a user's token of its organization.
		wantStatus(t, r, 200)
		var body map[string]any
		mustJSON(t, r.Body, &body)
		if body["active"] != true || body["sub"] != st.OwnerID || body["org_id"] != st.OrgID {
			t.Fatalf("introspection = %s", r.Body)
		}
	}},
	{"wellknown-openid-configuration", wantMetadata},
	{"wellknown-oauth-authorization-server", wantMetadata},
	{"wellknown-jwks", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		mustJSON(t, r.Body, &set)
		if len(set.Keys) != 1 || set.Keys[0]["kty"] != "RSA" || set.Keys[0]["alg"] != "RS256" || set.Keys[0]["kid"] == "" {
			t.Fatalf("jwks = %s", r.Body)
		}
	}},
	{"authorize-authorize", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		wantHTMLPage(t, r)
		if !strings.Contains(r.Body, `action="/login"`) || !strings.Contains(r.Body, `name="password"`) {
			t.Fatalf("not the login form: %s", r.Body)
		}
	}},
	{"authorize-login", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		// An unknown login transaction: a page that says to start again.
		wantStatus(t, r, 400)
		wantHTMLPage(t, r)
	}},
	{"authorize-consent", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		// A consent form posted without the issuer's Origin: refused
		// before the form is read.
		wantStatus(t, r, 403)
		wantHTMLPage(t, r)
		if !strings.Contains(r.Body, "another site") {
			t.Fatalf("consent = %s", r.Body)
		}
	}},
	{"wellknown-userinfo", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		var claims map[string]any
		mustJSON(t, r.Body, &claims)
		if claims["sub"] != st.OwnerID || claims["email"] == nil {
			t.Fatalf("userinfo = %s", r.Body)
		}
	}},
	{"authorize-logout", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		wantHTMLPage(t, r)
		if !strings.Contains(r.Body, "signed out") {
			t.Fatalf("logout = %s", r.Body)
		}
	}},
	{"callback-callback", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		// A provider's answer to a sign-in this server does not know.
		wantStatus(t, r, 400)
		wantHTMLPage(t, r)
		if !strings.Contains(r.Body, "expired or was already used") {
			t.Fatalf("callback = %s", r.Body)
		}
	}},
	{"applications-create", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 201)
		var v map[string]any
		mustJSON(t, r.Body, &v)
		if v["client_secret"] == nil || v["created_by"] != st.OwnerID || v["type"] != "m2m" {
			t.Fatalf("created %s", r.Body)
		}
	}},
	{"applications-list", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, st.ClientID) || !strings.Contains(r.Body, "Billing sync") {
			t.Fatalf("list = %s", r.Body)
		}
	}},
	{"applications-get", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, st.ClientID) || header(r, "ETag") == "" || strings.Contains(r.Body, "secret") {
			t.Fatalf("get = %v %s", r.Headers, r.Body)
		}
	}},
	{"applications-organization", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		var org map[string]any
		mustJSON(t, r.Body, &org)
		if org["id"] != st.OrgID || org["plan"] != "enterprise_large" || org["m2m_allowed"] != true || org["m2m_minimum_plan"] != "enterprise_large" {
			t.Fatalf("organization = %s", r.Body)
		}
	}},
	{"applications-update", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, "Nightly invoice export (EU)") {
			t.Fatalf("update = %s", r.Body)
		}
	}},
	{"applications-rotate-secret", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, "client_secret") || !strings.Contains(r.Body, "previous_secret_expires_at") {
			t.Fatalf("rotate = %s", r.Body)
		}
	}},
	{"applications-consents-list", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, `"application":"spa"`) || !strings.Contains(r.Body, `"scope":"read"`) {
			t.Fatalf("consents = %s", r.Body)
		}
	}},
	{"applications-consents-withdraw", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 204)
		if cs, err := st.Stage.Store.ListConsents(context.Background(), st.OwnerID); err != nil || len(cs) != 0 {
			t.Fatalf("consents after withdrawal: %v %v", cs, err)
		}
	}},
	{"applications-delete", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		wantStatus(t, r, 204)
		if _, err := st.Stage.Store.GetApplication(context.Background(), st.ClientID); err == nil {
			t.Fatal("the application still exists")
		}
	}},
	{"console-page", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		if r.StatusCode == 503 && strings.Contains(r.Body, "Console not built") && !emulator.Required() {
			t.Skip("the console is not built: make console")
		}
		wantStatus(t, r, 200)
		if !strings.Contains(r.Body, `<div id="app">`) || header(r, "Content-Security-Policy") != console.CSP ||
			!strings.HasPrefix(header(r, "Content-Type"), "text/html") {
			t.Fatalf("console page = %v %s", r.Headers, r.Body)
		}
	}},
	{"console-config", func(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
		if r.StatusCode == 503 && strings.Contains(r.Body, "Console not built") && !emulator.Required() {
			t.Skip("the console is not built: make console")
		}
		wantStatus(t, r, 200)
		var cfg map[string]string
		mustJSON(t, r.Body, &cfg)
		iss := st.Stage.Cfg.Issuer
		if cfg["client_id"] != domain.ConsoleClientID || cfg["issuer"] != iss || cfg["redirect_uri"] != iss+"/console/callback" ||
			header(r, "Cache-Control") != "no-store" {
			t.Fatalf("config.json = %v %s", r.Headers, r.Body)
		}
	}},
}

// wantHTMLPage checks the headers every page of the authorize function
// carries.
func wantHTMLPage(t *testing.T, r events.APIGatewayV2HTTPResponse) {
	t.Helper()
	if !strings.HasPrefix(header(r, "Content-Type"), "text/html") || header(r, "X-Frame-Options") != "DENY" ||
		!strings.Contains(header(r, "Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Fatalf("headers = %v", r.Headers)
	}
}

func wantMetadata(t *testing.T, st *testenv.Stack, r events.APIGatewayV2HTTPResponse) {
	wantStatus(t, r, 200)
	var md map[string]any
	mustJSON(t, r.Body, &md)
	if md["issuer"] != st.Stage.Cfg.Issuer || md["token_endpoint"] != st.Stage.Cfg.Issuer+"/oauth/token" {
		t.Fatalf("metadata = %s", r.Body)
	}
}

func wantStatus(t *testing.T, r events.APIGatewayV2HTTPResponse, want int) {
	t.Helper()
	if r.StatusCode != want {
		t.Fatalf("status %d, want %d: %s", r.StatusCode, want, r.Body)
	}
}

func mustJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("%v: %s", err, fmt.Sprintf("%.500s", s))
	}
}

// header reads a response header case-insensitively, as HTTP does.
func header(r events.APIGatewayV2HTTPResponse, name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}
