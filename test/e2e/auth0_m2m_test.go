package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// A service written for Auth0 that asks node-auth0 for a token before every
// call, and never caches it, works unchanged against orgauth's server-side
// reuse: the published AuthenticationClient, given only domain, clientId and
// clientSecret, gets the same token twice, byte for byte, with an expires_in
// that counts down, and npm jose verifies it against the JWKS. node-auth0
// always calls https://domain, so the stack serves its issuer over https.
func TestAuth0NodeSDKReusedToken(t *testing.T) {
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l := testenv.StartLocalOn(t, "", port, fmt.Sprintf("ISSUER=https://127.0.0.1:%d/", port))
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	l.SecretBasic(l.File.M2M.ClientID, l.File.M2M.ClientSecret)
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "auth0-m2m.mjs"), l.Issuer, l.File.M2M.ClientID, l.File.Audience)
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+filepath.Join(l.TLSDir(), "ca.pem"))
	cmd.Stdin = strings.NewReader(l.File.M2M.ClientSecret + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node-auth0: %v\n%s", err, stderr.String())
	}
	type answer struct {
		Status      int            `json:"status"`
		AccessToken string         `json:"access_token"`
		TokenType   string         `json:"token_type"`
		ExpiresIn   int            `json:"expires_in"`
		Typ         string         `json:"typ"`
		Payload     map[string]any `json:"payload"`
	}
	var res struct{ First, Second answer }
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output: %v\n%s", err, stderr.String())
	}
	l.Secret(res.First.AccessToken, res.Second.AccessToken)
	for name, a := range map[string]answer{"first": res.First, "second": res.Second} {
		if a.Status != 200 || a.TokenType != "Bearer" || a.Typ != "at+jwt" || a.ExpiresIn <= 0 ||
			a.Payload["client_id"] != l.File.M2M.ClientID || a.Payload["sub"] != l.File.M2M.ClientID ||
			a.Payload["org_id"] != l.File.OrganizationID || a.Payload["iss"] != l.Issuer {
			t.Errorf("%s answer: status %d, %s, typ %s, expires_in %d, payload %v", name, a.Status, a.TokenType, a.Typ, a.ExpiresIn, a.Payload)
		}
	}
	if res.First.AccessToken == "" || res.Second.AccessToken != res.First.AccessToken {
		t.Errorf("the second request was not answered with the first token (reuse): %d and %d bytes", len(res.First.AccessToken), len(res.Second.AccessToken))
	}
	if res.Second.ExpiresIn > res.First.ExpiresIn {
		t.Errorf("expires_in went up on reuse: %d then %d", res.First.ExpiresIn, res.Second.ExpiresIn)
	}
}
