package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/test/testenv"
)

var consentInput = regexp.MustCompile(`name="(transaction|csrf_token)" value="([^"]*)"`)

// The attack, refused: a member creates an application and sends
// its /authorize link to a victim who has a live session. The victim sees
// the consent page, and no code leaves orgauth until they approve; denying
// answers access_denied, prompt=none consent_required; once approved, the
// consent is remembered, and withdrawing it in the management API revokes
// the application's refresh token.
func TestConsentBeforeAnotherMembersApplication(t *testing.T) {
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	app := l.App(t)
	mallory, err := ops.New(app.Store, app.Now).CreateUser(ctx, l.File.OrganizationID, "mallory-"+domain.NewID()+"@example.com", "Mallory", domain.RoleMember, "a long enough password for mallory")
	if err != nil {
		t.Fatal(err)
	}
	steal := "http://127.0.0.1:9/steal"
	now := time.Now().UTC()
	evil := domain.Application{ClientID: domain.NewID(), OrganizationID: l.File.OrganizationID, Name: "Expense helper", Type: domain.ClientSPA,
		CallbackURLs: []string{steal}, AllowedOrigins: []string{"http://127.0.0.1:9"}, Scopes: []string{"read:demo"},
		CreatedBy: mallory.ID, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := app.Store.CreateApplication(ctx, evil); err != nil {
		t.Fatal(err)
	}

	// The victim (the demo user) has a live session: they signed in to
	// their own demo SPA.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	demo := &oauth2.Config{ClientID: l.File.SPA.ClientID, RedirectURL: l.File.SPA.RedirectURI,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize"}, Scopes: []string{"openid"}}
	resp, page := browse(t, browser, "GET", demo.AuthCodeURL("own", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())), nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("the login page: %d", resp.StatusCode)
	}
	form := url.Values{"email": {l.File.User.Email}, "password": {l.File.User.Password}}
	for _, m := range consentInput.FindAllStringSubmatch(page, -1) {
		form.Set(m[1], m[2])
	}
	resp, page = browse(t, browser, "POST", l.Issuer+"/login", form)
	l.Secret(redirectedTo(t, resp, page, l.File.SPA.RedirectURI+"?").Get("code"))

	// Mallory's link.
	cfg := &oauth2.Config{ClientID: evil.ClientID, RedirectURL: steal,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize", TokenURL: l.Issuer + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams},
		Scopes:   []string{"openid", "email", "offline_access", "read:demo"}}
	verifier := oauth2.GenerateVerifier()
	link := cfg.AuthCodeURL("st-1", oauth2.S256ChallengeOption(verifier))

	// prompt=none cannot get past the consent.
	resp, page = browse(t, browser, "GET", link+"&prompt=none", nil)
	if q := redirectedTo(t, resp, page, steal+"?"); q.Get("error") != "consent_required" || q.Get("code") != "" || q.Get("state") != "st-1" {
		t.Fatalf("prompt=none: %v", q)
	}
	consentPage := func() url.Values {
		t.Helper()
		resp, page := browse(t, browser, "GET", link, nil)
		if resp.StatusCode != 200 || resp.Header.Get("Location") != "" || !strings.Contains(page, `action="/consent"`) {
			t.Fatalf("want the consent page, got %d %v\n%s", resp.StatusCode, resp.Header, page)
		}
		for _, want := range []string{"Expense helper", mallory.Email, "Demo Organization", "read:demo", "See your email address."} {
			if !strings.Contains(page, want) {
				t.Errorf("the consent page does not say %q:\n%s", want, page)
			}
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "default-src 'none'") {
			t.Errorf("CSP %q", csp)
		}
		f := url.Values{}
		for _, m := range consentInput.FindAllStringSubmatch(page, -1) {
			f.Set(m[1], m[2])
		}
		return f
	}
	answer := func(f url.Values, decision, origin string) (*http.Response, string) {
		t.Helper()
		f.Set("decision", decision)
		req, _ := http.NewRequest("POST", l.Issuer+"/consent", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := browser.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}

	// Deny: access_denied with state and iss, no code.
	resp, page = answer(consentPage(), "deny", l.Issuer)
	if q := redirectedTo(t, resp, page, steal+"?"); q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "st-1" || q.Get("iss") != l.Issuer {
		t.Fatalf("deny: %v", q)
	}
	// Another site cannot approve for the victim.
	f := consentPage()
	if resp, page = answer(f, "approve", "http://evil.example"); resp.StatusCode != 403 || resp.Header.Get("Location") != "" {
		t.Fatalf("a cross-site approval: %d %v %s", resp.StatusCode, resp.Header, page)
	}
	// The victim approves: only now a code leaves.
	resp, page = answer(f, "approve", l.Issuer)
	q := redirectedTo(t, resp, page, steal+"?")
	if q.Get("code") == "" || q.Get("state") != "st-1" {
		t.Fatalf("approve: %v", q)
	}
	l.Secret(q.Get("code"))
	tok, err := cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil || tok.RefreshToken == "" {
		t.Fatalf("code exchange: %v %+v", err, tok)
	}
	l.Secret(tok.AccessToken, tok.RefreshToken)
	// Remembered: the next sign-in goes straight on.
	resp, page = browse(t, browser, "GET", cfg.AuthCodeURL("st-2", oauth2.S256ChallengeOption(verifier)), nil)
	l.Secret(redirectedTo(t, resp, page, steal+"?").Get("code"))

	// The victim sees the consent in the management API and withdraws it.
	mgmt := l.DemoUserToken(t)
	call := func(method, path string) (*http.Response, string) {
		t.Helper()
		req, _ := http.NewRequest(method, l.Issuer+path, nil)
		req.Header.Set("Authorization", "Bearer "+mgmt)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	if resp, body := call("GET", "/consents"); resp.StatusCode != 200 || !strings.Contains(body, evil.ClientID) || !strings.Contains(body, "Expense helper") {
		t.Fatalf("GET /consents: %d %s", resp.StatusCode, body)
	}
	if resp, body := call("DELETE", "/consents/"+evil.ClientID); resp.StatusCode != 204 {
		t.Fatalf("DELETE /consents: %d %s", resp.StatusCode, body)
	}
	// The application's refresh token is dead, and the next sign-in asks again.
	_, err = cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	var re *oauth2.RetrieveError
	if !asRetrieveError(err, &re) || re.ErrorCode != "invalid_grant" {
		t.Fatalf("refresh after withdrawal: %v", err)
	}
	consentPage()
}
