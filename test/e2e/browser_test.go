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
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// A real browser (chromium) signs in through the login page: the labels
// find the inputs, the error line shows, Enter submits, and the strict CSP
// lets the form's redirect to the application through without a single
// console complaint.
func TestLoginPageInChromium(t *testing.T) {
	chromium := chromiumPath(t)
	l := testenv.StartLocal(t, "")
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	spa := l.File.SPA
	conf := &oauth2.Config{ClientID: spa.ClientID, RedirectURL: spa.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize"}, Scopes: []string{"openid", "email"}}
	authURL := conf.AuthCodeURL("browser-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))
	// ORGAUTH_SCREENSHOT_DIR keeps the login page's screenshot for a human.
	dir := os.Getenv("ORGAUTH_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := filepath.Join(dir, "login.png")

	// A second SPA application of the demo organization.
	app := l.App(t)
	now := time.Now().UTC()
	second := domain.Application{ClientID: domain.NewID(), OrganizationID: l.File.OrganizationID, Name: "Second SPA", Type: domain.ClientSPA,
		CallbackURLs: []string{"http://127.0.0.1:8081/callback"}, CreatedBy: "e2e", CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := app.Store.CreateApplication(context.Background(), second); err != nil {
		t.Fatal(err)
	}
	conf2 := &oauth2.Config{ClientID: second.ClientID, RedirectURL: second.CallbackURLs[0],
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize"}, Scopes: []string{"openid"}}
	authURL2 := conf2.AuthCodeURL("second-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))

	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "browser-login.mjs"), authURL, spa.RedirectURI, shot, authURL2, second.CallbackURLs[0])
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium)
	cmd.Stdin = strings.NewReader(l.File.User.Email + "\n" + l.File.User.Password + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("browser: %v\n%s\n%s", err, out, stderr.String())
	}
	var res struct {
		Status    int    `json:"status"`
		Title     string `json:"title"`
		ErrorLine string `json:"errorLine"`
		Landed    string `json:"landed"`
		Second    string `json:"second"`
		// The consent page's title, and any request that reached the
		// second application before the user allowed it.
		ConsentTitle string   `json:"consentTitle"`
		EarlySecond  string   `json:"earlySecond"`
		Console      []string `json:"console"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	landed, _ := url.Parse(res.Landed)
	if res.Status != 200 || res.Title != "Sign in" || !strings.Contains(res.ErrorLine, "Incorrect email or password") ||
		landed == nil || !strings.HasPrefix(res.Landed, spa.RedirectURI+"?") || landed.Query().Get("code") == "" ||
		landed.Query().Get("state") != "browser-state" {
		t.Fatalf("browser saw %s", out)
	}
	l.Secret(landed.Query().Get("code"))
	silent, _ := url.Parse(res.Second)
	if silent == nil || !strings.HasPrefix(res.Second, second.CallbackURLs[0]+"?") || silent.Query().Get("code") == "" || silent.Query().Get("state") != "second-state" {
		t.Fatalf("the second application did not sign in after consent: %s", out)
	}
	if res.ConsentTitle != "Allow access?" || res.EarlySecond != "" {
		t.Fatalf("the second application, another member's, was not preceded by the consent page: %s", out)
	}
	l.Secret(silent.Query().Get("code"))
	if len(res.Console) != 0 {
		t.Fatalf("console messages (CSP violations?): %v", res.Console)
	}
	if b, err := os.ReadFile(shot); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
		t.Fatalf("screenshot: %v", err)
	}
}

// chromiumPath is Debian's chromium (CHROMIUM overrides), which make deps
// installs; without it the test skips, or fails when emulators are required.
func chromiumPath(t *testing.T) string {
	t.Helper()
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		if emulator.Required() {
			t.Fatalf("%s is missing: run make deps", chromium)
		}
		t.Skipf("%s is missing: run make deps", chromium)
	}
	return chromium
}
