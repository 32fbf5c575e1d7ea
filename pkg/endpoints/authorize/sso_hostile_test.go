package authorize_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/secretbox"
)

// Organization SSO against a hostile identity provider: one tenant's
// provider used against another tenant (issue: IdP mix-up, enforced SSO,
// re-authentication). The end-to-end tests replay them with npm
// oidc-provider; these check the details.

// addSSOOrg adds an organization with its own SPA and its own test
// provider, for verified domain d.
func (e *ssoEnv) addSSOOrg(t *testing.T, d string) (orgID, spa string, op *testOP) {
	t.Helper()
	orgID = e.st.AddOrganization(t, domain.PlanTeam)
	spa = e.st.AddSPA(t, orgID, callback, logoutURL)
	secret := "evil-secret-" + domain.NewID()
	op = startTestOP(t, "orgauth-at-evil", secret)
	ct, err := secretbox.New(e.st.Stage.KMS, e.st.Stage.Cfg.SSOKeyID).Encrypt(context.Background(), orgID, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.Stage.Store.UpdateOrganization(context.Background(), orgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO = &domain.SSO{Issuer: op.srv.URL, ClientID: op.clientID, ClientSecretCiphertext: ct, Domains: []string{d},
			Enforced: true, Provision: true, ProvisionRole: domain.RoleMember}
		o.DomainClaims = []domain.DomainClaim{{Domain: d, Token: "t", VerifiedAt: time.Now(), Method: "override"}}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	return orgID, spa, op
}

func withParam(t *testing.T, raw, k, v string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	if v == "" {
		q.Del(k)
	} else {
		q.Set(k, v)
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// The mix-up attack of RFC 9700 §4.4.1: the attacker's organization's
// provider bounces the victim to the victim organization's provider with
// the attacker's own authorization request (their PKCE challenge and
// nonce) but the victim's state, which names the attacker organization's
// transaction. The victim organization's provider answers at that
// organization's redirect URI, where the attacker's transaction is refused:
// the victim's code never reaches the attacker's token endpoint.
func TestSSOMixUpRefused(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	evilOrg, evilSPA, evil := e.addSSOOrg(t, "evil.example")
	e.op.set(func(op *testOP) { op.issSupported = true })

	victim, attacker := e.browser(), e.browser()
	// The attacker's own sign-in to the victim organization's application.
	attackerAuth := e.upstreamRedirect(t, attacker.do(t, "GET", authzQuery(e.spa, nil), nil))
	// The victim, lured, signs in to the attacker organization's application.
	resp := victim.do(t, "GET", authzQuery(evilSPA, nil), nil)
	evilAuth := resp.Header.Get("Location")
	if !strings.HasPrefix(evilAuth, evil.srv.URL+"/auth?") {
		t.Fatalf("want the attacker's provider, got %d %q", resp.StatusCode, evilAuth)
	}
	ea, _ := url.Parse(evilAuth)
	if got := ea.Query().Get("redirect_uri"); got != e.issuer+"/callback/"+evilOrg {
		t.Fatalf("redirect_uri %q, want the organization's own", got)
	}
	victimState := ea.Query().Get("state")

	// The hostile provider bounces the victim to the honest one.
	bounced := withParam(t, attackerAuth, "state", victimState)
	back := e.op.grant(t, bounced, verified("sub-alice", "alice@example.org"))
	if !strings.HasPrefix(back, "/callback/"+e.st.OrgID+"?") {
		t.Fatalf("the honest provider answered at %s", back)
	}
	wantPage(t, victim.do(t, "GET", back, nil), 400, "did not come from your organization")
	// The same answer at the shared /callback, as a provider that still has
	// it registered would send it: refused too.
	legacy := "/callback?" + strings.SplitN(back, "?", 2)[1]
	for _, target := range []string{legacy, withParam(t, legacy, "iss", "")} {
		v2 := e.browser()
		resp := v2.do(t, "GET", authzQuery(evilSPA, nil), nil)
		l, _ := url.Parse(resp.Header.Get("Location"))
		bounced := withParam(t, attackerAuth, "state", l.Query().Get("state"))
		e.op.grant(t, bounced, nil) // what the honest provider issued is not used
		target = withParam(t, target, "state", l.Query().Get("state"))
		wantPage(t, v2.do(t, "GET", target, nil), 400, "did not come from your organization")
	}
	evil.set(func(op *testOP) {
		if op.tokenHits != 0 {
			t.Errorf("the attacker's token endpoint received %d requests: the victim's code leaked", op.tokenHits)
		}
	})
	if victim.cookies["__Host-orgauth_session"] != nil {
		t.Fatal("the victim got a session from another organization's answer")
	}

	// The honest sign-ins still work, in both organizations.
	e.wantCode(t, attacker.consenting(t, attacker.do(t, "GET", e.op.grant(t, attackerAuth, verified("sub-mallory", "mallory@example.org")), nil)))
	v3 := e.browser()
	a := v3.do(t, "GET", authzQuery(evilSPA, nil), nil).Header.Get("Location")
	e.wantCode(t, v3.consenting(t, v3.do(t, "GET", evil.grant(t, a, verified("sub-eve", "eve@evil.example")), nil)))
}

// RFC 9207: the iss of the authorization response is the transaction's
// issuer whenever present, and required from a provider that advertises
// it.
func TestSSOIssParameter(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	start := func() (*browser, string) {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
		return b, e.op.grant(t, auth, verified("sub-ivan", "ivan@example.org"))
	}
	// A provider that does not advertise iss: none is fine, a wrong one is not.
	b, back := start()
	e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
	b, back = start()
	wantPage(t, b.do(t, "GET", withParam(t, back, "iss", "https://other-idp.example"), nil), 400, "did not come from your organization")

	// A provider that advertises it (a new stack: discovery is cached).
	e = newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	e.op.set(func(op *testOP) { op.issSupported = true })
	b, back = start()
	wantPage(t, b.do(t, "GET", withParam(t, back, "iss", ""), nil), 400, "did not come from your organization")
	b, back = start()
	wantPage(t, b.do(t, "GET", withParam(t, back, "iss", "https://other-idp.example"), nil), 400, "did not come from your organization")
	b, back = start()
	e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
	// An answer at another organization's redirect URI is refused.
	b, back = start()
	other := e.st.AddOrganization(t, domain.PlanTeam)
	wantPage(t, b.do(t, "GET", strings.Replace(back, "/callback/"+e.st.OrgID, "/callback/"+other, 1), nil), 400, "did not come from your organization")
}

// Under enforced SSO, a session of the organization that a password
// started does not sign its user in to the applications SSO applies to:
// prompt=none gets login_required, otherwise the sign-in goes upstream. A
// session the provider authenticated does.
func TestSSOEnforcedIgnoresPasswordSessions(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	ctx := context.Background()
	// SSO applies to spa only; spa2 signs in with passwords.
	spa2 := e.st.AddSPA(t, e.st.OrgID, "https://two.example.com/cb", "https://two.example.com/")
	if _, err := e.st.Stage.Store.UpdateOrganization(ctx, e.st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO.Applications = []string{e.spa}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	email := e.user(t, e.st.OrgID, "pat")
	b := e.browser()
	form := b.loginForm(t, authzQuery(spa2, func(q url.Values) { q.Set("redirect_uri", "https://two.example.com/cb") }))
	e.wantRedirect(t, b.consenting(t, b.submit(t, form, email, pw)), "https://two.example.com/cb")
	sess, err := e.st.Stage.Store.GetSession(ctx, domain.HashSecret(b.cookies["__Host-orgauth_session"].Value), e.clock())
	if err != nil || sess.AuthMethod != domain.AuthPassword || sess.AuthIssuer != "" {
		t.Fatalf("password session %+v %v", sess, err)
	}

	e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
	auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
	e.wantCode(t, b.consenting(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-pat", "pat@example.org")), nil)))
	sess, err = e.st.Stage.Store.GetSession(ctx, domain.HashSecret(b.cookies["__Host-orgauth_session"].Value), e.clock())
	if err != nil || sess.AuthMethod != domain.AuthSSO || sess.AuthIssuer != e.op.srv.URL {
		t.Fatalf("SSO session %+v %v", sess, err)
	}
	// Now the session signs in silently.
	e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil))
	// Another provider's session does not: the organization changed
	// providers.
	if _, err := e.st.Stage.Store.UpdateOrganization(ctx, e.st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO.Issuer = "https://new-idp.example"
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
}

// prompt=login and max_age go to the provider; its auth_time is the
// session's, and when re-authentication was asked, a missing or stale one
// is login_required.
func TestSSOReauthentication(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	ctx := context.Background()
	claims := func(authTime any) map[string]any {
		c := verified("sub-rae", "rae@example.org")
		if authTime == nil {
			c["auth_time"] = nil
			delete(c, "auth_time")
			c["no_auth_time"] = true
		} else {
			c["auth_time"] = authTime
		}
		return c
	}
	e.op.set(func(op *testOP) {
		op.tweak = func(c map[string]any) {
			if c["no_auth_time"] == true {
				delete(c, "auth_time")
				delete(c, "no_auth_time")
			}
		}
	})
	run := func(change func(url.Values), c map[string]any) (*browser, string, url.Values) {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, change), nil))
		u, _ := url.Parse(auth)
		return b, e.op.grant(t, auth, c), u.Query()
	}

	// No re-authentication asked: the provider's auth_time, not now.
	old := time.Now().Add(-2 * time.Hour).Truncate(time.Second)
	b, back, q := run(nil, claims(old))
	if q.Has("prompt") || q.Has("max_age") {
		t.Fatalf("unasked re-authentication forwarded: %v", q)
	}
	code := e.wantCode(t, b.consenting(t, b.do(t, "GET", back, nil)))
	c, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(code.Get("code")), e.clock())
	if err != nil || !c.AuthTime.Equal(old) {
		t.Fatalf("code auth_time %v (%v), want the provider's %v", c.AuthTime, err, old)
	}

	// prompt=login and max_age are forwarded.
	maxAge := func(q url.Values) { q.Set("max_age", "300") }
	promptLogin := func(q url.Values) { q.Set("prompt", "login") }
	_, _, q = run(promptLogin, claims(time.Now()))
	if q.Get("prompt") != "login" {
		t.Fatalf("prompt=login not forwarded: %v", q)
	}
	_, _, q = run(maxAge, claims(time.Now()))
	if q.Get("max_age") != "300" {
		t.Fatalf("max_age not forwarded: %v", q)
	}

	for _, tc := range []struct {
		name     string
		change   func(url.Values)
		authTime any
		ok       bool
	}{
		{"max_age, fresh", maxAge, time.Now().Add(-time.Minute), true},
		{"max_age, stale", maxAge, time.Now().Add(-10 * time.Minute), false},
		{"max_age, no auth_time", maxAge, nil, false},
		{"prompt=login, fresh", promptLogin, time.Now(), true},
		{"prompt=login, silent answer from an older session", promptLogin, time.Now().Add(-time.Minute), false},
		{"prompt=login, no auth_time", promptLogin, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b, back, _ := run(tc.change, claims(tc.authTime))
			resp := b.do(t, "GET", back, nil)
			if tc.ok {
				e.wantCode(t, b.consenting(t, resp))
				return
			}
			e.wantError(t, resp, "login_required")
			if b.cookies["__Host-orgauth_session"] != nil {
				t.Fatal("a session was started")
			}
		})
	}
}

// Provisioning never creates a user in a domain another organization
// verified, and an SSO domain the organization did not verify is not its.
func TestSSOVerifiedDomainsOnly(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org", "unproven.example"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	ctx := context.Background()
	if _, err := e.st.Stage.Store.UpdateOrganization(ctx, e.st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.DomainClaims = o.DomainClaims[:1] // example.org only
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
	wantPage(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-u", "una@unproven.example")), nil), 403, "not in one of your organization")

	// Another organization verified example.org as well (a stale claim):
	// provisioning refuses, nothing is created.
	other := e.st.AddOrganization(t, domain.PlanTeam)
	if _, err := e.st.Stage.Store.UpdateOrganization(ctx, other, func(o domain.Organization) (domain.Organization, error) {
		o.DomainClaims = []domain.DomainClaim{{Domain: "example.org", Token: "t", VerifiedAt: time.Now(), Method: "dns"}}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	b = e.browser()
	auth = e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
	wantPage(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-v", "vic@example.org")), nil), 403, "domain of another organization")
	if _, err := e.st.Stage.Store.GetUserByEmail(ctx, "vic@example.org"); err == nil {
		t.Fatal("a user was provisioned in another organization's domain")
	}
}
