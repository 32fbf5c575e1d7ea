// Package e2e drives the local server — the same handlers the Lambdas run —
// with real OAuth and JOSE clients.
package e2e

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

func m2mConfig(l *testenv.Local, style oauth2.AuthStyle) *clientcredentials.Config {
	return &clientcredentials.Config{
		ClientID:       l.File.M2M.ClientID,
		ClientSecret:   l.File.M2M.ClientSecret,
		TokenURL:       l.Base() + "/oauth/token",
		EndpointParams: url.Values{"audience": {l.File.Audience}},
		AuthStyle:      style,
	}
}

// A real OAuth client gets an M2M token, and a real OIDC library verifies it
// against the discovered JWKS; so does npm jose.
func TestClientCredentialsEndToEnd(t *testing.T) {
	clientCredentialsEndToEnd(t, testenv.StartLocal(t, ""))
}

func clientCredentialsEndToEnd(t *testing.T, l *testenv.Local) {
	ctx := context.Background()

	// The banner's ready-to-paste curl names the real client and audience.
	for _, want := range []string{"--data 'client_id=" + l.File.M2M.ClientID + "'", "--data 'audience=" + l.File.Audience + "'", l.Base() + "/oauth/token"} {
		if !strings.Contains(l.Output.String(), want) {
			t.Errorf("the banner's curl lacks %s:\n%s", want, l.Output.String())
		}
	}

	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if provider.Endpoint().TokenURL != l.Base()+"/oauth/token" {
		t.Fatalf("token endpoint = %q", provider.Endpoint().TokenURL)
	}
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		tok, err := m2mConfig(l, style).Token(ctx)
		if err != nil {
			t.Fatalf("auth style %d: %v", style, err)
		}
		l.Secret(tok.AccessToken)
		if tok.TokenType != "Bearer" || time.Until(tok.Expiry) < 50*time.Minute {
			t.Fatalf("token = %+v", tok)
		}
		v := provider.Verifier(&oidc.Config{ClientID: l.File.Audience})
		idt, err := v.Verify(ctx, tok.AccessToken)
		if err != nil {
			t.Fatalf("go-oidc verify: %v", err)
		}
		var claims struct {
			ClientID string `json:"client_id"`
			OrgID    string `json:"org_id"`
			Scope    string `json:"scope"`
			JTI      string `json:"jti"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if idt.Subject != l.File.M2M.ClientID || claims.ClientID != l.File.M2M.ClientID || claims.OrgID != l.File.OrganizationID || claims.JTI == "" || claims.Scope != "read:demo write:demo" {
			t.Fatalf("claims sub=%s %+v", idt.Subject, claims)
		}
		verifyWithNodeJose(t, l, tok.AccessToken)
	}

	// The wrong secret is refused with RFC 6749 §5.2 JSON.
	// A wrong secret is a credential too: it must not reach the logs, in
	// the form body or in a Basic header.
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInParams, oauth2.AuthStyleInHeader} {
		bad := m2mConfig(l, style)
		bad.ClientSecret = "wrong-secret-" + l.File.M2M.ClientID
		l.SecretBasic(bad.ClientID, bad.ClientSecret)
		_, err = bad.Token(ctx)
		var re *oauth2.RetrieveError
		if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != 401 {
			t.Fatalf("wrong secret (auth style %d): %v", style, err)
		}
	}
}

func asRetrieveError(err error, re **oauth2.RetrieveError) bool {
	e, ok := err.(*oauth2.RetrieveError)
	if ok {
		*re = e
	}
	return ok
}

func verifyWithNodeJose(t *testing.T, l *testenv.Local, raw string) {
	t.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "verify-jwt.mjs"), l.Base()+"/.well-known/jwks.json", l.Issuer, l.File.Audience)
	cmd.Stdin = strings.NewReader(raw)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("npm jose verification failed: %v\n%s", err, out)
	}
	var res struct {
		Typ     string         `json:"typ"`
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("jose output: %v\n%s", err, out)
	}
	if res.Typ != "at+jwt" || res.Payload["client_id"] != l.File.M2M.ClientID {
		t.Fatalf("jose verified %s", out)
	}
}

// Data survives a restart; Ctrl-C stops the server and every emulator.
func TestRestartKeepsDataAndInterruptStopsAll(t *testing.T) {
	dir := t.TempDir()
	l := testenv.StartLocal(t, dir)
	first := l.File
	ctx := context.Background()
	if _, err := m2mConfig(l, oauth2.AuthStyleInParams).Token(ctx); err != nil {
		t.Fatal(err)
	}
	ports := emulatorPorts(t, l.Output.String())
	if err := l.Interrupt(t); err != nil {
		t.Fatal(err)
	}
	for _, p := range ports {
		if c, err := net.DialTimeout("tcp", p, time.Second); err == nil {
			c.Close()
			t.Errorf("emulator at %s still listening after Ctrl-C", p)
		}
	}
	if c, err := net.DialTimeout("tcp", strings.TrimPrefix(l.Issuer, "http://"), time.Second); err == nil {
		c.Close()
		t.Errorf("server still listening after Ctrl-C")
	}

	l2 := testenv.StartLocal(t, dir)
	if l2.File.M2M != first.M2M || l2.File.OrganizationID != first.OrganizationID {
		t.Fatalf("restart reseeded: %+v vs %+v", l2.File, first)
	}
	if _, err := m2mConfig(l2, oauth2.AuthStyleInParams).Token(ctx); err != nil {
		t.Fatalf("token after restart: %v", err)
	}
}

// emulatorPorts reads the emulator endpoints orgauth-local announced.
func emulatorPorts(t *testing.T, out string) []string {
	t.Helper()
	var ports []string
	for _, line := range strings.Split(out, "\n") {
		for _, prefix := range []string{"dynalite on http://", "local-kms on http://"} {
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				ports = append(ports, strings.Fields(rest)[0])
			}
		}
	}
	if len(ports) != 2 {
		t.Fatalf("expected two emulator endpoints in the output:\n%s", out)
	}
	return ports
}

// The protocol errors a client sees over real HTTP.
func TestTokenEndpointErrorsOverHTTP(t *testing.T) {
	l := testenv.StartLocal(t, "")
	post := func(ctype, body string) (*http.Response, map[string]any) {
		resp, err := http.Post(l.Issuer+"/oauth/token", ctype, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {l.File.M2M.ClientID}, "client_secret": {l.File.M2M.ClientSecret}, "audience": {"https://unknown.example.com"}}
	if resp, m := post("application/x-www-form-urlencoded", form.Encode()); resp.StatusCode != 400 || m["error"] != "invalid_target" {
		t.Errorf("unknown audience: %d %v", resp.StatusCode, m)
	}
	if resp, m := post("application/json", `{}`); resp.StatusCode != 400 || m["error"] != "invalid_request" {
		t.Errorf("json body: %d %v", resp.StatusCode, m)
	}
	resp, err := http.Get(l.Issuer + "/oauth/token")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 {
		t.Errorf("GET /oauth/token = %d, want 405", resp.StatusCode)
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("405 without no-store")
	}
}
