package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"orgauth/pkg/domain"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// An application written for Auth0 moves to orgauth by changing domain and
// clientId only: the published @auth0/auth0-spa-js, unmodified, in Chromium,
// against make run's server in https mode with an issuer that ends in a
// slash, as Auth0's do. Auth0's express-oauth2-jwt-bearer then accepts the
// user's and an M2M access token and refuses the ID token.
func TestAuth0SPASDK(t *testing.T) {
	chromium := chromiumPath(t)
	port, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	l := testenv.StartLocalOn(t, "", port, fmt.Sprintf("ISSUER=https://127.0.0.1:%d/", port))
	if l.File.Issuer != fmt.Sprintf("https://127.0.0.1:%d/", port) {
		t.Fatalf("issuer %q", l.File.Issuer)
	}
	// The application's origin: registered on the demo SPA, whose creator
	// is the demo user.
	spaPort, err := emulator.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	origin := fmt.Sprintf("https://127.0.0.1:%d", spaPort)
	app := l.App(t)
	if _, err := app.Store.UpdateApplication(context.Background(), l.File.SPA.ClientID, func(a domain.Application) (domain.Application, error) {
		a.CallbackURLs = append(a.CallbackURLs, origin+"/")
		a.AllowedOrigins = append(a.AllowedOrigins, origin)
		a.LogoutURLs = append(a.LogoutURLs, origin+"/")
		return a, nil
	}); err != nil {
		t.Fatal(err)
	}
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join(root, "infra", "js", "auth0-spa.mjs"), l.Issuer, l.File.SPA.ClientID, l.File.Audience,
		fmt.Sprint(spaPort), l.TLSDir(), l.File.M2M.ClientID)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromium, "NODE_EXTRA_CA_CERTS="+filepath.Join(l.TLSDir(), "ca.pem"))
	cmd.Stdin = strings.NewReader(l.File.User.Email + "\n" + l.File.User.Password + "\n" + l.File.M2M.ClientSecret + "\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("auth0-spa-js: %v\n%s\n%s", err, out, stderr.String())
	}
	var res struct {
		Redirect struct {
			Authenticated bool           `json:"authenticated"`
			User          map[string]any `json:"user"`
			Iss           string         `json:"iss"`
			OrgHint       string         `json:"orgHint"`
		} `json:"redirect"`
		Iframe struct {
			Token, Error string
			User         map[string]any
		} `json:"iframe"`
		Reloaded struct {
			Token, Error  string
			Authenticated bool
		} `json:"reloaded"`
		AfterLogout string `json:"afterLogout"`
		Popup       struct {
			Authenticated bool           `json:"authenticated"`
			User          map[string]any `json:"user"`
			Token         string         `json:"token"`
		} `json:"popup"`
		Bearer  map[string]string `json:"bearer"`
		Console []string          `json:"console"`
	}
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("output: %v\n%s", err, out)
	}
	var tokens map[string]map[string]any
	_ = json.Unmarshal(out, &tokens)
	r := tokens["redirect"]
	// The demo user's address is verified (seeded so, as an operator would).
	if !res.Redirect.Authenticated || res.Redirect.Iss != l.Issuer || res.Redirect.User["email"] != l.File.User.Email ||
		res.Redirect.User["email_verified"] != true {
		t.Errorf("redirect sign-in: %v", r)
	}
	a1, a2, a3 := fmt.Sprint(r["a1"]), fmt.Sprint(r["a2"]), fmt.Sprint(r["a3"])
	if len(a1) < 20 || len(a2) < 20 || len(a3) < 20 || a1 == a2 || a2 == a3 {
		t.Errorf("getTokenSilently with refresh tokens did not rotate: %q %q %q", a1, a2, a3)
	}
	// Without refresh tokens, a fresh client (empty memory cache) gets its
	// token through the hidden iframe (prompt=none, web_message) on the
	// session cookie; after a reload too. The SDK keeps no organization
	// hint: the ID token carries no org_id for it to send back.
	if len(res.Iframe.Token) < 20 || res.Iframe.Token == a3 || res.Iframe.User["email"] != l.File.User.Email {
		t.Errorf("getTokenSilently through the iframe: %+v", res.Iframe)
	}
	if len(res.Reloaded.Token) < 20 || !res.Reloaded.Authenticated || res.Reloaded.Token == res.Iframe.Token {
		t.Errorf("getTokenSilently after a reload: %+v", res.Reloaded)
	}
	if res.Redirect.OrgHint != "" {
		t.Errorf("organization hint cookie after sign-in: %q", res.Redirect.OrgHint)
	}
	if res.AfterLogout != "login_required" {
		t.Errorf("after logout, getTokenSilently: %q", res.AfterLogout)
	}
	if !res.Popup.Authenticated || res.Popup.Token == "" || res.Popup.User["email"] != l.File.User.Email {
		t.Errorf("loginWithPopup: %+v", res.Popup)
	}
	if !strings.HasPrefix(res.Bearer["m2m"], "accepted") || !strings.HasPrefix(res.Bearer["user"], "accepted") ||
		!strings.HasPrefix(res.Bearer["idToken"], "refused") {
		t.Errorf("express-oauth2-jwt-bearer: %v", res.Bearer)
	}
	// No CORS or CSP complaint about orgauth's origin in any page, popup or
	// frame.
	bad := regexp.MustCompile(`(?i)cors|content security policy|refused to|blocked`)
	for _, m := range res.Console {
		if bad.MatchString(m) {
			t.Errorf("console: %s", m)
		}
	}
	for _, k := range []string{a1, a2, a3, res.Iframe.Token, res.Reloaded.Token, res.Popup.Token} {
		l.Secret(k)
	}
}
