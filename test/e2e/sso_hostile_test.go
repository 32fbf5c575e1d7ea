package e2e

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/signin"
	"orgauth/test/testenv"
)

// Organization SSO when one tenant's identity provider is hostile: make
// run's stack, the demo organization ("acme") with an honest npm
// oidc-provider, and a second organization ("evil") with its own provider,
// which does not honour re-authentication and whose operator attacks acme.
// Each attack is replayed and refused; the honest sign-ins still work.
func TestSSOAgainstAHostileProvider(t *testing.T) {
	testenv.RequireUpstreamOP(t)
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	app := l.App(t)
	admin := ops.New(app.Store, time.Now).ForStage(l.Issuer)
	box := secretbox.New(app.KMS, l.File.SSOKeyID)
	acme, spa := l.File.OrganizationID, l.File.SPA

	evilOrg, err := admin.CreateOrganization(ctx, "Evil", domain.PlanTeam)
	if err != nil {
		t.Fatal(err)
	}
	evilSPA := domain.Application{ClientID: domain.NewID(), OrganizationID: evilOrg.ID, Name: "evil", Type: domain.ClientSPA,
		CallbackURLs: []string{spa.RedirectURI}, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	if err := app.Store.CreateApplication(ctx, evilSPA); err != nil {
		t.Fatal(err)
	}
	acmeSecret, _ := domain.NewSecret()
	evilSecret, _ := domain.NewSecret()
	l.Secret(acmeSecret, evilSecret)
	// acme's provider still has the shared /callback registered besides
	// acme's own redirect URI: a registration not yet migrated.
	honest := testenv.StartUpstreamOP(t,
		[]testenv.UpstreamClient{{ID: "orgauth-acme", Secret: acmeSecret,
			RedirectURIs: []string{domain.SSORedirectURI(l.Issuer, acme), domain.LegacySSORedirectURI(l.Issuer)}}},
		[]testenv.UpstreamAccount{
			{Sub: "idp-alice", Email: "alice@sso.example", Name: "Alice", EmailVerified: true},
			{Sub: "idp-mal", Email: "mal@sso.example", Name: "Mal", EmailVerified: true},
		})
	hostile := testenv.StartHostileUpstreamOP(t,
		[]testenv.UpstreamClient{{ID: "orgauth-evil", Secret: evilSecret, RedirectURIs: []string{domain.SSORedirectURI(l.Issuer, evilOrg.ID)}}},
		[]testenv.UpstreamAccount{{Sub: "idp-eve", Email: "eve@evil.example", Name: "Eve", EmailVerified: true}})

	setSSO := func(org, issuer, clientID, secret, d string, enforced bool, apps []string) {
		t.Helper()
		if _, err := admin.VerifyDomain(ctx, nil, org, d, true, "end-to-end test: no DNS"); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.SetSSO(ctx, box, org, ops.SSOInput{Issuer: issuer, ClientID: clientID, ClientSecret: secret,
			Domains: []string{d}, Enforced: enforced, Provision: true, ProvisionRole: domain.RoleMember, Applications: apps}); err != nil {
			t.Fatal(err)
		}
	}
	setSSO(acme, honest.Issuer, "orgauth-acme", acmeSecret, "sso.example", false, []string{spa.ClientID})
	setSSO(evilOrg.ID, hostile.Issuer, "orgauth-evil", evilSecret, "evil.example", true, nil)

	newBrowser := func() *http.Client {
		jar, _ := cookiejar.New(nil)
		return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	get := func(b *http.Client, target string) (*http.Response, string) {
		t.Helper()
		resp, err := b.Get(target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	// signedIn follows a sign-in's answer: a user who did not create the
	// application approves the consent page it shows first.
	signedIn := func(b *http.Client, target string) (*http.Response, string) {
		t.Helper()
		resp, page := get(b, target)
		if resp.StatusCode != http.StatusOK || !strings.Contains(page, `action="/consent"`) {
			return resp, page
		}
		f := url.Values{"decision": {"approve"}}
		for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
			f.Set(m[1], m[2])
		}
		req, _ := http.NewRequest("POST", strings.TrimSuffix(l.Issuer, "/")+"/consent", strings.NewReader(f.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", strings.TrimSuffix(l.Issuer, "/"))
		resp, err := b.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp, string(body)
	}
	authorize := func(clientID string, q url.Values) string {
		v := url.Values{"client_id": {clientID}, "redirect_uri": {spa.RedirectURI}, "response_type": {"code"}, "scope": {"openid email"},
			"state": {"app-state"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		for k := range q {
			v.Set(k, q.Get(k))
		}
		return l.Issuer + "/authorize?" + v.Encode()
	}
	// toProvider starts a sign-in that must go straight to provider.
	toProvider := func(b *http.Client, op *testenv.UpstreamOP, target string) string {
		t.Helper()
		resp, page := get(b, target)
		loc := resp.Header.Get("Location")
		if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, op.Issuer+"/") {
			t.Fatalf("want a redirect to %s, got %d %q\n%s", op.Issuer, resp.StatusCode, loc, page)
		}
		return loc
	}
	appAnswer := func(resp *http.Response) url.Values {
		t.Helper()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusSeeOther || loc == nil || !strings.HasPrefix(loc.String(), spa.RedirectURI+"?") {
			t.Fatalf("want a redirect to the application, got %d %v", resp.StatusCode, resp.Header)
		}
		return loc.Query()
	}
	wantCode := func(resp *http.Response) {
		t.Helper()
		if q := appAnswer(resp); q.Get("code") == "" || q.Get("state") != "app-state" {
			t.Fatalf("want a code, got %v", q)
		}
	}
	wantError := func(resp *http.Response, code string) {
		t.Helper()
		if q := appAnswer(resp); q.Get("error") != code || q.Get("code") != "" {
			t.Fatalf("want %s, got %v", code, q)
		}
	}
	with := func(raw string, kv ...string) string {
		u, _ := url.Parse(raw)
		q := u.Query()
		for i := 0; i < len(kv); i += 2 {
			q.Set(kv[i], kv[i+1])
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// passwordSession signs the demo user in with a password to the
	// console's application (SSO applies to the SPA only).
	passwordSession := func(b *http.Client) {
		t.Helper()
		v := url.Values{"client_id": {l.File.Console.ClientID}, "redirect_uri": {l.File.Console.RedirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		resp, page := get(b, l.Issuer+"/authorize?"+v.Encode())
		if resp.StatusCode != 200 {
			t.Fatalf("console sign-in: %d\n%s", resp.StatusCode, page)
		}
		form := url.Values{"email": {l.File.User.Email}, "password": {l.File.User.Password}}
		for _, m := range hiddenInput.FindAllStringSubmatch(page, -1) {
			form.Set(m[1], m[2])
		}
		resp, err := b.PostForm(l.Issuer+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if !strings.HasPrefix(resp.Header.Get("Location"), l.File.Console.RedirectURI+"?code=") {
			t.Fatalf("password sign-in: %d %v", resp.StatusCode, resp.Header)
		}
	}
	silentConsole := func(b *http.Client) *http.Response {
		v := url.Values{"client_id": {l.File.Console.ClientID}, "redirect_uri": {l.File.Console.RedirectURI}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "prompt": {"none"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		resp, _ := get(b, l.Issuer+"/authorize?"+v.Encode())
		return resp
	}

	t.Run("EnforcedSSOIgnoresPasswordSessions", func(t *testing.T) {
		b := newBrowser()
		passwordSession(b)
		// Turning enforcement on ends the password session...
		setSSO(acme, honest.Issuer, "orgauth-acme", "", "sso.example", true, []string{spa.ClientID})
		if loc := silentConsole(b).Header.Get("Location"); !strings.Contains(loc, "error=login_required") {
			t.Fatalf("the password session outlived enforcement: %s", loc)
		}
		// ...and a new one does not sign in to the enforced application,
		// silently or not.
		passwordSession(b)
		wantError(func() *http.Response {
			r, _ := get(b, authorize(spa.ClientID, url.Values{"prompt": {"none"}}))
			return r
		}(), "login_required")
		toProvider(b, honest, authorize(spa.ClientID, nil))
	})

	t.Run("MixUpRefused", func(t *testing.T) {
		attacker := newBrowser()
		// The attacker's own request to acme's provider: their PKCE challenge and nonce.
		attackerAuth := toProvider(attacker, honest, authorize(spa.ClientID, nil))
		if u, _ := url.Parse(attackerAuth); u.Query().Get("redirect_uri") != domain.SSORedirectURI(l.Issuer, acme) {
			t.Fatalf("acme's redirect_uri: %s", attackerAuth)
		}
		for _, redirect := range []string{domain.SSORedirectURI(l.Issuer, acme), domain.LegacySSORedirectURI(l.Issuer)} {
			victim := newBrowser()
			// The victim, lured, signs in to the attacker organization's app.
			evilAuth := toProvider(victim, hostile, authorize(evilSPA.ClientID, nil))
			eu, _ := url.Parse(evilAuth)
			// The hostile provider bounces the victim to acme's provider
			// with the attacker's request but the victim's state.
			bounced := with(attackerAuth, "state", eu.Query().Get("state"), "redirect_uri", redirect)
			back := honest.SignIn(t, victim, bounced, "idp-alice")
			if !strings.HasPrefix(back.String(), redirect+"?") || back.Query().Get("iss") != honest.Issuer {
				t.Fatalf("acme's provider answered %s", back)
			}
			resp, page := get(victim, back.String())
			if resp.StatusCode != 400 || !strings.Contains(page, "did not come from your organization") {
				t.Fatalf("mix-up at %s: %d\n%s", redirect, resp.StatusCode, page)
			}
		}
		if n := hostile.TokenRequests(); n != 0 {
			t.Fatalf("the hostile provider's token endpoint received %d requests: a victim's code leaked", n)
		}
		// The honest sign-ins work: acme's, and the evil organization's own.
		wantCode(func() *http.Response {
			r, _ := signedIn(attacker, honest.SignIn(t, attacker, attackerAuth, "idp-mal").String())
			return r
		}())
		e := newBrowser()
		r, _ := signedIn(e, hostile.SignIn(t, e, toProvider(e, hostile, authorize(evilSPA.ClientID, nil)), "idp-eve").String())
		wantCode(r)
	})

	t.Run("LeakedStateDoesNotCancelTheSignIn", func(t *testing.T) {
		victim, other := newBrowser(), newBrowser()
		auth := toProvider(victim, honest, authorize(spa.ClientID, nil))
		u, _ := url.Parse(auth)
		leaked := domain.SSORedirectURI(l.Issuer, acme) + "?" + url.Values{"state": {u.Query().Get("state")}, "code": {"guess"}, "iss": {honest.Issuer}}.Encode()
		if resp, page := get(other, leaked); resp.StatusCode != 403 || !strings.Contains(page, "started in another browser") {
			t.Fatalf("leaked state: %d\n%s", resp.StatusCode, page)
		}
		r, _ := signedIn(victim, honest.SignIn(t, victim, auth, "idp-alice").String())
		wantCode(r)
	})

	t.Run("ReauthenticationForwardedAndChecked", func(t *testing.T) {
		acmeUser, evilUser := newBrowser(), newBrowser()
		r, _ := signedIn(acmeUser, honest.SignIn(t, acmeUser, toProvider(acmeUser, honest, authorize(spa.ClientID, nil)), "idp-alice").String())
		wantCode(r)
		r, _ = signedIn(evilUser, hostile.SignIn(t, evilUser, toProvider(evilUser, hostile, authorize(evilSPA.ClientID, nil)), "idp-eve").String())
		wantCode(r)
		// Both providers' sessions age past max_age and the leeway.
		time.Sleep(signin.AuthTimeLeeway + 2*time.Second)
		for _, q := range []url.Values{{"max_age": {"1"}}, {"prompt": {"login"}}} { // max_age first: prompt=login ignores the fresh session
			// Forwarded: the honest provider authenticates again.
			auth := toProvider(acmeUser, honest, authorize(spa.ClientID, q))
			au, _ := url.Parse(auth)
			if au.Query().Get("prompt") != q.Get("prompt") || au.Query().Get("max_age") != q.Get("max_age") {
				t.Fatalf("%v not forwarded: %s", q, auth)
			}
			r, _ := signedIn(acmeUser, honest.SignIn(t, acmeUser, auth, "idp-alice").String())
			wantCode(r)
			// The hostile provider answers from its old session: its
			// stale auth_time is login_required, never a fresh sign-in.
			auth = toProvider(evilUser, hostile, authorize(evilSPA.ClientID, q))
			r, _ = get(evilUser, hostile.SignIn(t, evilUser, auth, "idp-eve").String())
			wantError(r, "login_required")
		}
	})
}
