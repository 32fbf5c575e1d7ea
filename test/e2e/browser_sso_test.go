package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// Organization SSO in a real browser: the email step, the provider's pages
// (npm oidc-provider), /callback, and the application's address, with no
// console complaint on orgauth's pages (the login form's CSP lets the
// provider's origin receive it).
func TestOrganizationSSOInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	testenv.RequireUpstreamOP(t)
	l := testenv.StartLocal(t, "")
	secret, _ := domain.NewSecret()
	l.Secret(secret)
	op := testenv.StartUpstreamOP(t,
		[]testenv.UpstreamClient{{ID: "orgauth-browser", Secret: secret, RedirectURIs: []string{domain.SSORedirectURI(l.Issuer, l.File.OrganizationID)}}},
		[]testenv.UpstreamAccount{{Sub: "idp-bo", Email: "bo@sso.example", Name: "Bo", EmailVerified: true}})

	ctx := context.Background()
	app := l.App(t)
	ct, err := secretbox.New(app.KMS, l.File.SSOKeyID).Encrypt(ctx, l.File.OrganizationID, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := app.Store.UpdateOrganization(ctx, l.File.OrganizationID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO = &domain.SSO{Issuer: op.Issuer, ClientID: "orgauth-browser", ClientSecretCiphertext: ct, Domains: []string{"sso.example"}, Provision: true, ProvisionRole: domain.RoleMember}
		o.DomainClaims = []domain.DomainClaim{{Domain: "sso.example", Token: "t", VerifiedAt: time.Now(), Method: "override"}}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}

	spa := l.File.SPA
	conf := &oauth2.Config{ClientID: spa.ClientID, RedirectURL: spa.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize"}, Scopes: []string{"openid", "email"}}
	authURL := conf.AuthCodeURL("sso-browser-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	dir := os.Getenv("ORGAUTH_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	root, _ := emulator.RepoRoot()
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "browser-sso.mjs"), authURL, spa.RedirectURI, op.Issuer,
		"bo@sso.example", "idp-bo", filepath.Join(dir, "login-sso-email.png"))
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser: %v\n%s\n%s\nprovider: %s", err, out, stderr.String(), op.Output())
	}
	var res struct {
		Title          string   `json:"title"`
		PasswordFields int      `json:"passwordFields"`
		ConsentTitle   string   `json:"consentTitle"`
		Landed         string   `json:"landed"`
		Console        []string `json:"console"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	landed, _ := url.Parse(res.Landed)
	if res.Title != "Sign in" || res.PasswordFields != 0 || res.ConsentTitle != "Allow access?" || landed == nil || !strings.HasPrefix(res.Landed, spa.RedirectURI+"?") ||
		landed.Query().Get("code") == "" || landed.Query().Get("state") != "sso-browser-state" || landed.Query().Get("iss") != l.Issuer {
		t.Fatalf("browser saw %s", out)
	}
	l.Secret(landed.Query().Get("code"))
	if len(res.Console) != 0 {
		t.Fatalf("console messages on orgauth's pages (CSP violations?): %v", res.Console)
	}
	if u, err := app.Store.GetUserByEmail(ctx, "bo@sso.example"); err != nil || u.OrganizationID != l.File.OrganizationID {
		t.Fatalf("provisioned user %+v %v", u, err)
	}
}
