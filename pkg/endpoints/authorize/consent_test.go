package authorize_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"orgauth/pkg/domain"
)

// newcomer is a member who signs in with pw and has approved nothing yet.
func (e *env) newcomer(t *testing.T, org, name string) (email, id string) {
	t.Helper()
	email = name + "-" + domain.NewID() + "@example.com"
	return email, e.st.AddUserWithPassword(t, org, email, pw)
}

// consent stores user's approval of scopes (on the default audience) for
// client.
func (e *env) consent(t *testing.T, userID, client, org string, scopes ...string) {
	t.Helper()
	_, err := e.st.Stage.Store.PutConsent(context.Background(), domain.Consent{UserID: userID, ClientID: client, OrganizationID: org,
		Scopes: domain.ConsentScopes(e.st.Audience, scopes), GrantedAt: e.clock(), UpdatedAt: e.clock()})
	if err != nil {
		t.Fatal(err)
	}
}

// consentFields checks resp is the consent page, with no code anywhere,
// and returns the page and its form's hidden fields.
func consentFields(t *testing.T, resp *http.Response) (string, url.Values) {
	t.Helper()
	page := wantPage(t, resp, 200, `action="/consent"`)
	tx, csrf := txField.FindStringSubmatch(page), csrfField.FindStringSubmatch(page)
	if tx == nil || csrf == nil {
		t.Fatalf("no hidden fields in\n%s", page)
	}
	return page, url.Values{"transaction": {tx[1]}, "csrf_token": {csrf[1]}}
}

// answer posts decision ("approve" or "deny") with a consent page's
// fields.
func (b *browser) answer(t *testing.T, form url.Values, decision string) *http.Response {
	t.Helper()
	f := url.Values{"decision": {decision}}
	for k, v := range form {
		f[k] = v
	}
	return b.do(t, "POST", "/consent", f)
}

// approve approves the consent page resp.
// consenting approves the consent page when resp is one (a user signing
// in to an application they did not create, the first time), and returns
// resp otherwise.
func (b *browser) consenting(t *testing.T, resp *http.Response) *http.Response {
	t.Helper()
	if resp.StatusCode != http.StatusOK {
		return resp
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	if !bytes.Contains(raw, []byte(`action="/consent"`)) {
		return resp
	}
	return b.approve(t, resp)
}

func (b *browser) approve(t *testing.T, resp *http.Response) *http.Response {
	t.Helper()
	_, form := consentFields(t, resp)
	return b.answer(t, form, "approve")
}

// signIn signs a browser in through the login form of e.spa and returns
// the response after the password.
func (b *browser) signIn(t *testing.T, query, email string) *http.Response {
	t.Helper()
	return b.submit(t, b.loginForm(t, query), email, pw)
}

var csp = regexp.MustCompile(`default-src 'none'; style-src 'sha256-[^']+'; form-action 'self' https://spa.example.com; frame-ancestors 'none'; base-uri 'none'`)

func TestConsent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("LoginAsksBeforeAnyCode", func(t *testing.T) {
		t.Parallel()
		email, id := e.newcomer(t, e.st.OrgID, "ana")
		b := e.browser()
		resp := b.signIn(t, authzQuery(e.spa, nil), email)
		if !csp.MatchString(resp.Header.Get("Content-Security-Policy")) || resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("consent page headers %v", resp.Header)
		}
		page, form := consentFields(t, resp)
		for _, want := range []string{"<strong>spa</strong> asks to act for you", "owner-" + e.st.OrgID, "Test", // creator, organization
			"See your email address.", "https://api.example.com", "<code>read</code>", ">Allow<", ">Deny<"} {
			if !strings.Contains(page, want) {
				t.Errorf("the consent page lacks %q:\n%s", want, page)
			}
		}
		if _, err := e.st.Stage.Store.GetConsent(ctx, id, e.spa); err == nil {
			t.Fatal("a consent was stored before the user approved")
		}
		q := e.wantCode(t, b.answer(t, form, "approve"))
		code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock())
		if err != nil || code.UserID != id || code.ClientID != e.spa {
			t.Fatalf("code %+v %v", code, err)
		}
		c, err := e.st.Stage.Store.GetConsent(ctx, id, e.spa)
		want := domain.ConsentScopes(e.st.Audience, []string{"openid", "profile", "email", "read"})
		if err != nil || !c.Covers(want) || len(c.Scopes) != len(want) {
			t.Fatalf("consent %+v %v, want %v", c, err, want)
		}
		// Remembered: the next sign-in (same session) goes straight on.
		e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
		// prompt=consent asks again anyway.
		page, _ = consentFields(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "consent") }), nil))
		if strings.Contains(page, "</code> <em>new</em>") {
			t.Errorf("prompt=consent marks approved scopes new:\n%s", page)
		}
	})

	// The attack: a victim with a live session follows another
	// member's link to their own application; no code leaves orgauth.
	t.Run("LiveSessionFollowingAnotherMembersLink", func(t *testing.T) {
		t.Parallel()
		attacker := e.st.AddUserWithPassword(t, e.st.OrgID, "mallory-"+domain.NewID()+"@example.com", pw)
		steal := "https://steal.example.com/cb"
		now := e.clock()
		app := domain.Application{ClientID: domain.NewID(), OrganizationID: e.st.OrgID, Name: "Totally legit", Type: domain.ClientSPA,
			CallbackURLs: []string{steal}, AllowedOrigins: []string{"https://steal.example.com"}, Scopes: []string{"read"},
			CreatedBy: attacker, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := e.st.Stage.Store.CreateApplication(ctx, app); err != nil {
			t.Fatal(err)
		}
		victim := e.user(t, e.st.OrgID, "vic") // signed in to the other SPAs
		b := e.browser()
		e.wantCode(t, b.signIn(t, authzQuery(e.spa, nil), victim))
		link := authzQuery(app.ClientID, func(q url.Values) { q.Set("redirect_uri", steal); q.Set("scope", "openid email offline_access read") })

		// prompt=none cannot skip it.
		e.wantRedirect(t, b.do(t, "GET", link+"&prompt=none", nil), steal)
		if q := e.wantRedirect(t, b.do(t, "GET", link+"&prompt=none", nil), steal); q.Get("error") != "consent_required" || q.Get("code") != "" || q.Get("state") != "xyz-state" {
			t.Fatalf("prompt=none: %v", q)
		}
		resp := b.do(t, "GET", link, nil)
		page, form := consentFields(t, resp)
		for _, want := range []string{"Totally legit", "mallory-", "Keep its access while you are not using it"} {
			if !strings.Contains(page, want) {
				t.Errorf("the consent page lacks %q:\n%s", want, page)
			}
		}
		// Deny: access_denied with state and iss, and nothing remembered.
		q := e.wantRedirect(t, b.answer(t, form, "deny"), steal)
		if q.Get("error") != "access_denied" || q.Get("code") != "" || q.Get("state") != "xyz-state" {
			t.Fatalf("deny: %v", q)
		}
		if _, err := e.st.Stage.Store.GetConsent(ctx, e.userID(t, victim), app.ClientID); err == nil {
			t.Fatal("a denial was remembered as consent")
		}
		// Asked again next time.
		consentFields(t, b.do(t, "GET", link, nil))
	})

	t.Run("NewScopeAsksAgain", func(t *testing.T) {
		t.Parallel()
		email, id := e.newcomer(t, e.st.OrgID, "ben")
		e.consent(t, id, e.spa, e.st.OrgID, "openid", "profile")
		b := e.browser()
		e.wantCode(t, b.signIn(t, authzQuery(e.spa, func(q url.Values) { q.Set("scope", "openid profile") }), email))
		resp := b.do(t, "GET", authzQuery(e.spa, nil), nil) // adds email and read
		page, form := consentFields(t, resp)
		if strings.Count(page, "</code> <em>new</em>") != 2 {
			t.Errorf("want email and read marked new:\n%s", page)
		}
		e.wantCode(t, b.answer(t, form, "approve"))
		c, _ := e.st.Stage.Store.GetConsent(ctx, id, e.spa)
		if !c.Covers(domain.ConsentScopes(e.st.Audience, []string{"openid", "profile", "email", "read"})) {
			t.Fatalf("consent after approving more: %v", c.Scopes)
		}
	})

	t.Run("CreatorAndConsoleAreNotAsked", func(t *testing.T) {
		t.Parallel()
		email, id := e.newcomer(t, e.st.OrgID, "cat")
		now := e.clock()
		own := domain.Application{ClientID: domain.NewID(), OrganizationID: e.st.OrgID, Name: "mine", Type: domain.ClientSPA,
			CallbackURLs: []string{callback}, Scopes: []string{"read"}, CreatedBy: id, CreatedAt: now, UpdatedAt: now, Version: 1}
		if err := e.st.Stage.Store.CreateApplication(ctx, own); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		e.wantCode(t, b.signIn(t, authzQuery(own.ClientID, nil), email))
		e.wantCode(t, b.do(t, "GET", authzQuery(own.ClientID, func(q url.Values) { q.Set("prompt", "none") }), nil))
		// spa2 plays the console: the stack's own client.
		console := authzQuery(e.spa2, func(q url.Values) {
			q.Set("redirect_uri", "https://other.example.com/cb")
			q.Set("audience", e.mgmtAud)
		})
		e.wantRedirect(t, b.do(t, "GET", console, nil), "https://other.example.com/cb")
		if _, err := e.st.Stage.Store.GetConsent(ctx, id, e.spa2); err == nil {
			t.Fatal("a consent was stored for the console")
		}
	})

	t.Run("FormRules", func(t *testing.T) {
		t.Parallel()
		email, id := e.newcomer(t, e.st.OrgID, "dan")
		b := e.browser()
		resp := b.signIn(t, authzQuery(e.spa, nil), email)
		_, form := consentFields(t, resp)
		post := func(b *browser, f url.Values, origin string) *http.Response {
			return b.postFrom(t, "/consent", f, origin)
		}
		approve := func(change func(url.Values)) url.Values {
			f := url.Values{"decision": {"approve"}}
			for k, v := range form {
				f[k] = v
			}
			if change != nil {
				change(f)
			}
			return f
		}
		// Another site's POST, or one without Origin.
		wantPage(t, post(b, approve(nil), "https://evil.example"), 403, "another site")
		wantPage(t, post(b, approve(nil), ""), 403, "another site")
		// A wrong CSRF token, or another browser (no CSRF cookie, no session).
		wantPage(t, post(b, approve(func(f url.Values) { f.Set("csrf_token", strings.Repeat("A", 43)) }), e.issuer), 403, "could not be verified")
		wantPage(t, post(e.browser(), approve(nil), e.issuer), 403, "could not be verified")
		// A login transaction is not a consent transaction.
		wantPage(t, post(b, approve(func(f url.Values) {
			f.Set("transaction", b.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "login") })).Get("transaction"))
		}), e.issuer), 400, "expired")
		// Neither approve nor deny.
		wantPage(t, post(b, approve(func(f url.Values) { f.Set("decision", "maybe") }), e.issuer), 400, "could not be read")
		// GET is not allowed.
		wantPage(t, b.do(t, "GET", "/consent", nil), 405, "does not accept")
		if _, err := e.st.Stage.Store.GetConsent(ctx, id, e.spa); err == nil {
			t.Fatal("consent stored by a refused post")
		}
		// Signed out meanwhile: the page's user is gone from this browser.
		saved := b.cookies["__Host-orgauth_session"]
		delete(b.cookies, "__Host-orgauth_session")
		wantPage(t, post(b, approve(nil), e.issuer), 403, "no longer signed in")
		b.cookies["__Host-orgauth_session"] = saved
		// Single use.
		e.wantCode(t, post(b, approve(nil), e.issuer))
		wantPage(t, post(b, approve(nil), e.issuer), 400, "expired or was already used")
	})
}

// userID is the id of the user with email.
func (e *env) userID(t *testing.T, email string) string {
	t.Helper()
	u, err := e.st.Stage.Store.GetUserByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// postFrom posts form to path with the Origin header origin ("": none).
func (b *browser) postFrom(t *testing.T, path string, form url.Values, origin string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("POST", "https://auth.example.com"+path, strings.NewReader(form.Encode()))
	r.RemoteAddr = b.ip + ":40000"
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, r)
	return rec.Result()
}
