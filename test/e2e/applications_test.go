package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"

	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path, body string, headers ...string) (int, http.Header, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &m); err != nil {
			c.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, resp.Header, m
}

// The applications API over HTTP through the local server: the demo user
// creates an M2M application, its secret gets a token, the user rotates and
// deletes it; orgauthctl sees the same data.
func TestApplicationsOverHTTP(t *testing.T) {
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	user := apiClient{t: t, base: l.Issuer, token: l.DemoUserToken(t)}

	if status, hdr, _ := (apiClient{t: t, base: l.Issuer}).do("GET", "/applications", ""); status != 401 || !strings.HasPrefix(hdr.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d", status)
	}
	status, hdr, app := user.do("POST", "/applications", `{"name":"Reports","type":"m2m","scopes":["read:demo"]}`)
	if status != 201 || hdr.Get("Content-Type") != "application/json" {
		t.Fatalf("create: %d %v", status, app)
	}
	id, secret := app["client_id"].(string), app["client_secret"].(string)
	l.Secret(secret)
	cc := &clientcredentials.Config{ClientID: id, ClientSecret: secret, TokenURL: l.Issuer + "/oauth/token", EndpointParams: url.Values{"audience": {l.File.Audience}}}
	if _, err := cc.Token(ctx); err != nil {
		t.Fatalf("new application's token: %v", err)
	}

	// An M2M token of the demo organization reads, but cannot write.
	m2m := &clientcredentials.Config{ClientID: l.File.M2M.ClientID, ClientSecret: l.File.M2M.ClientSecret, TokenURL: l.Issuer + "/oauth/token",
		EndpointParams: url.Values{"audience": {l.File.ManagementAudience}}}
	tok, err := m2m.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Secret(tok.AccessToken)
	machine := apiClient{t: t, base: l.Issuer, token: tok.AccessToken}
	// The seeded M2M client and SPA, and Reports (the console is the
	// stack's, in no organization).
	if status, _, list := machine.do("GET", "/applications", ""); status != 200 || len(list["applications"].([]any)) != 3 {
		t.Fatalf("M2M list: %d %v", status, list)
	}
	if status, _, p := machine.do("DELETE", "/applications/"+id, ""); status != 403 {
		t.Fatalf("M2M delete: %d %v", status, p)
	}

	status, hdr, got := user.do("GET", "/applications/"+id, "")
	if status != 200 || got["client_secret"] != nil {
		t.Fatalf("get: %d %v", status, got)
	}
	if status, _, p := user.do("PATCH", "/applications/"+id, `{"callback_urls":["https://x.example.com/cb"]}`); status != 400 || p["field"] != "callback_urls" {
		t.Fatalf("invalid patch: %d %v", status, p)
	}
	if status, _, _ := user.do("PATCH", "/applications/"+id, `{"description":"monthly"}`, "If-Match", hdr.Get("ETag")); status != 200 {
		t.Fatalf("patch: %d", status)
	}
	status, _, rot := user.do("POST", "/applications/"+id+"/rotate-secret", `{"grace_period":600}`)
	if status != 200 || rot["previous_secret_expires_at"] == nil {
		t.Fatalf("rotate: %d %v", status, rot)
	}
	l.Secret(rot["client_secret"].(string))
	if _, err := cc.Token(ctx); err != nil {
		t.Fatalf("old secret inside the grace period: %v", err)
	}

	// The operators' CLI reads the same table through local.json.
	root, _ := emulator.RepoRoot()
	cmd := exec.Command("go", "run", "./cmd/orgauthctl", "apps", "list", "--org", l.File.OrganizationID, "--json")
	cmd.Dir = root
	cmd.Env = append(cmd.Environ(), "ORGAUTH_DATA_DIR="+l.Dir, "TABLE_NAME=", "DYNAMODB_ENDPOINT=")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), id) || strings.Contains(string(out), secret) {
		t.Fatalf("orgauthctl apps list: %v\n%s", err, out)
	}

	if status, _, _ := user.do("DELETE", "/applications/"+id, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	if _, err := cc.Token(ctx); err == nil {
		t.Fatal("a deleted application still gets tokens")
	}
}
