package authorize_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/jwt"
	"orgauth/pkg/platform/httpx"
	"orgauth/test/testenv"
)

const (
	callback  = "https://spa.example.com/callback"
	logoutURL = "https://spa.example.com/signed-out"
	verifier  = "dBjftJeZ4CVP-mJ92K1zqXGa4tYi6EbGdr3fQ8rw9-kAAAA"
	pw        = "correct horse battery staple"
)

var challenge = func() string {
	s := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(s[:])
}()

// env is the authorize handler on the emulators with a clock the test
// moves, one organization with two SPAs, and a second organization.
type env struct {
	st      *testenv.Stack
	h       http.Handler
	mu      sync.Mutex
	now     time.Time
	org2    string
	spa     string // org 1
	spa2    string // org 1, another SPA
	other   string // org 2's SPA
	issuer  string
	mgmtAud string
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// newEnv starts a stack; subtests sharing it stay independent through
// their own users, emails and source addresses.
func newEnv(t *testing.T) *env {
	t.Helper()
	st := testenv.NewStack(t)
	e := &env{st: st, now: time.Now().UTC(), issuer: st.Stage.Cfg.Issuer, mgmtAud: st.Stage.Cfg.ManagementAudience}
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	e.org2 = st.AddOrganization(t, domain.PlanTeam)
	e.spa = st.AddSPA(t, st.OrgID, callback, logoutURL)
	e.spa2 = st.AddSPA(t, st.OrgID, "https://other.example.com/cb", "https://other.example.com/")
	e.other = st.AddSPA(t, e.org2, callback, logoutURL)
	e.h = httpx.Middleware(log, nil, st.WithClock(e.clock, st.Authorize))
	return e
}

// browser keeps cookies like a browser would for the issuer's host.
type browser struct {
	e       *env
	ip      string
	cookies map[string]*http.Cookie
}

var ips struct {
	sync.Mutex
	n int
}

func (e *env) browser() *browser {
	ips.Lock()
	ips.n++
	ip := fmt.Sprintf("198.51.100.%d", ips.n)
	ips.Unlock()
	return &browser{e: e, ip: ip, cookies: map[string]*http.Cookie{}}
}

func (b *browser) do(t *testing.T, method, target string, form url.Values) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	r := httptest.NewRequest(method, "https://auth.example.com"+target, body)
	r.RemoteAddr = b.ip + ":40000"
	if form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "https://auth.example.com")
	}
	for _, c := range b.cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	rec := httptest.NewRecorder()
	b.e.h.ServeHTTP(rec, r)
	resp := rec.Result()
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	return resp
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// authzQuery is a good authorization request for client, with changes.
func authzQuery(client string, change func(url.Values)) string {
	q := url.Values{
		"response_type": {"code"}, "client_id": {client}, "redirect_uri": {callback},
		"scope": {"openid profile email read"}, "state": {"xyz-state"}, "nonce": {"n-0S6"},
		"code_challenge": {challenge}, "code_challenge_method": {"S256"},
	}
	if change != nil {
		change(q)
	}
	return "/authorize?" + q.Encode()
}

var (
	txField   = regexp.MustCompile(`name="transaction" value="([^"]+)"`)
	csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// loginForm opens the login page and returns the form's hidden fields.
func (b *browser) loginForm(t *testing.T, query string) url.Values {
	t.Helper()
	resp := b.do(t, "GET", query, nil)
	page := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `action="/login"`) {
		t.Fatalf("want the login page, got %d %v\n%s", resp.StatusCode, resp.Header, page)
	}
	tx, csrf := txField.FindStringSubmatch(page), csrfField.FindStringSubmatch(page)
	if tx == nil || csrf == nil {
		t.Fatalf("no hidden fields in\n%s", page)
	}
	return url.Values{"transaction": {tx[1]}, "csrf_token": {csrf[1]}}
}

func (b *browser) submit(t *testing.T, form url.Values, email, password string) *http.Response {
	t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	f.Set("email", email)
	f.Set("password", password)
	return b.do(t, "POST", "/login", f)
}

// wantRedirect checks a 303 to callback and returns its query.
func (e *env) wantRedirect(t *testing.T, resp *http.Response, to string) url.Values {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, to+"?") {
		t.Fatalf("want a redirect to %s, got %d %q: %s", to, resp.StatusCode, loc, body(t, resp))
	}
	u, _ := url.Parse(loc)
	q := u.Query()
	if q.Get("iss") != e.issuer {
		t.Fatalf("iss = %q in %s", q.Get("iss"), loc)
	}
	return q
}

func (e *env) wantCode(t *testing.T, resp *http.Response) url.Values {
	t.Helper()
	q := e.wantRedirect(t, resp, callback)
	if q.Get("code") == "" || q.Get("error") != "" || q.Get("state") != "xyz-state" {
		t.Fatalf("want a code and the state, got %v", q)
	}
	return q
}

func (e *env) wantError(t *testing.T, resp *http.Response, code string) {
	t.Helper()
	q := e.wantRedirect(t, resp, callback)
	if q.Get("error") != code || q.Get("code") != "" {
		t.Fatalf("want error %s, got %v", code, q)
	}
}

// wantPage checks an HTML page with no redirect.
func wantPage(t *testing.T, resp *http.Response, status int, text string) string {
	t.Helper()
	page := body(t, resp)
	if resp.StatusCode != status || resp.Header.Get("Location") != "" || !strings.Contains(page, text) {
		t.Fatalf("want a %d page with %q, got %d %v\n%s", status, text, resp.StatusCode, resp.Header, page)
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("page headers %v", resp.Header)
	}
	return page
}

// user is a member who signs in with pw and has already approved what
// the test SPAs ask (consent_test.go tests the consent step itself).
func (e *env) user(t *testing.T, org, name string) string {
	t.Helper()
	email, id := e.newcomer(t, org, name)
	for _, app := range []string{e.spa, e.spa2, e.other} {
		if app == "" {
			continue
		}
		e.consent(t, id, app, org, "openid", "profile", "email", "offline_access", "read")
	}
	return email
}

func TestAuthorize(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()

	t.Run("RefusedWithoutRedirect", func(t *testing.T) {
		t.Parallel()
		b := e.browser()
		org2Callback := "https://org2-" + e.org2 + ".example.com/cb"
		e.st.AddSPA(t, e.org2, org2Callback, "https://org2.example.com/")
		for name, q := range map[string]string{
			"another SPA's uri":    authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", "https://other.example.com/cb") }),
			"other org's SPA uri":  authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", org2Callback) }),
			"unknown client":       authzQuery("no-such-client", nil),
			"missing client":       authzQuery("", func(q url.Values) { q.Del("client_id") }),
			"M2M client":           authzQuery(e.st.ClientID, nil),
			"missing redirect_uri": authzQuery(e.spa, func(q url.Values) { q.Del("redirect_uri") }),
			"other host":           authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", "https://evil.example/callback") }),
			"prefix":               authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", callback+"/../../evil") }),
			"trailing slash":       authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", callback+"/") }),
			"extra query":          authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", callback+"?next=https://evil.example") }),
			"case":                 authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", strings.ToUpper(callback)) }),
			"userinfo":             authzQuery(e.spa, func(q url.Values) { q.Set("redirect_uri", "https://spa.example.com@evil.example/callback") }),
			"repeated redirect":    authzQuery(e.spa, func(q url.Values) { q.Add("redirect_uri", "https://evil.example/") }),
			"repeated client":      authzQuery(e.spa, func(q url.Values) { q.Add("client_id", e.spa2) }),
			"uri of no SPA":        authzQuery(e.spa2, nil),
			"oversized client":     authzQuery(strings.Repeat("a", 3000), nil),
		} {
			resp := b.do(t, "GET", q, nil)
			page := body(t, resp)
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || strings.Contains(page, "evil") {
				t.Errorf("%s: got %d %q\n%s", name, resp.StatusCode, resp.Header.Get("Location"), page)
			}
		}
	})

	t.Run("ErrorsRedirectWithStateAndIss", func(t *testing.T) {
		t.Parallel()
		b := e.browser()
		for _, tc := range []struct {
			name, code string
			change     func(url.Values)
		}{
			{"no PKCE", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
			{"no method", "invalid_request", func(q url.Values) { q.Del("code_challenge_method") }},
			{"plain", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain"); q.Set("code_challenge", verifier) }},
			{"short challenge", "invalid_request", func(q url.Values) { q.Set("code_challenge", "abc") }},
			{"token flow", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
			{"hybrid", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "code id_token") }},
			{"no response_type", "invalid_request", func(q url.Values) { q.Del("response_type") }},
			{"scope", "invalid_scope", func(q url.Values) { q.Set("scope", "openid admin") }},
			{"audience", "invalid_target", func(q url.Values) { q.Set("audience", "https://evil.example") }},
			{"management audience", "invalid_target", func(q url.Values) { q.Set("audience", e.mgmtAud) }},
			{"prompt", "invalid_request", func(q url.Values) { q.Set("prompt", "none login") }},
			{"max_age", "invalid_request", func(q url.Values) { q.Set("max_age", "-1") }},
			{"repeated scope", "invalid_request", func(q url.Values) { q.Add("scope", "openid") }},
			{"request object", "request_not_supported", func(q url.Values) { q.Set("request", "eyJ...") }},
			{"fragment mode", "invalid_request", func(q url.Values) { q.Set("response_mode", "fragment") }},
		} {
			resp := b.do(t, "GET", authzQuery(e.spa, tc.change), nil)
			q := e.wantRedirect(t, resp, callback)
			if q.Get("error") != tc.code || q.Get("state") != "xyz-state" || q.Get("error_description") == "" || q.Get("code") != "" {
				t.Errorf("%s: got %v, want error %s", tc.name, q, tc.code)
			}
		}
		// No transaction, no cookie: nothing was started.
		if len(b.cookies) != 0 {
			t.Errorf("cookies set on errors: %v", b.cookies)
		}
	})

	t.Run("SignInIssuesCode", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "ada")
		b := e.browser()
		resp := b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("login_hint", email) }), nil)
		page := body(t, resp)
		csp := resp.Header.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self' https://spa.example.com;"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe") || strings.Contains(page, "<script") || !strings.Contains(page, `<label for="password">`) ||
			!strings.Contains(page, `value="`+email+`"`) || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("login page: %v\n%s", resp.Header, page)
		}
		form := url.Values{"transaction": {txField.FindStringSubmatch(page)[1]}, "csrf_token": {csrfField.FindStringSubmatch(page)[1]}}
		csrf := b.cookies["__Host-orgauth_csrf"]
		if csrf == nil || !csrf.HttpOnly || !csrf.Secure || csrf.Path != "/" || csrf.SameSite != http.SameSiteLaxMode {
			t.Fatalf("csrf cookie %+v", csrf)
		}

		resp = b.submit(t, form, strings.ToUpper(email), pw)
		q := e.wantCode(t, resp)
		sess := b.cookies["__Host-orgauth_session"]
		if sess == nil || !sess.HttpOnly || !sess.Secure || sess.Path != "/" || sess.SameSite != http.SameSiteLaxMode || sess.MaxAge <= 0 {
			t.Fatalf("session cookie %+v", sess)
		}
		code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock())
		if err != nil {
			t.Fatal(err)
		}
		u, _ := e.st.Stage.Store.GetUserByEmail(ctx, email)
		if code.ClientID != e.spa || code.UserID != u.ID || code.OrganizationID != e.st.OrgID || code.RedirectURI != callback ||
			code.CodeChallenge != challenge || code.Nonce != "n-0S6" || strings.Join(code.Scopes, " ") != "openid profile email read" ||
			code.Audience != e.st.Audience || code.SessionID == "" || code.AuthTime.IsZero() ||
			code.ExpiresAt.Sub(e.clock()) != time.Minute {
			t.Fatalf("code %+v", code)
		}

		// The transaction was single-use.
		resp = b.submit(t, form, email, pw)
		wantPage(t, resp, 400, "expired or was already used")
		// A forged transaction id too long for a table key reads the same.
		forged := url.Values{"transaction": {strings.Repeat("t", 3000)}, "csrf_token": form["csrf_token"]}
		wantPage(t, b.submit(t, forged, email, pw), 400, "expired or was already used")
	})

	t.Run("WrongPasswordAndUnknownEmailReadTheSame", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "bob")
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		r1 := b.submit(t, form, email, "wrong password!!")
		p1 := body(t, r1)
		r2 := b.submit(t, form, "nobody-"+domain.NewID()+"@example.com", pw)
		p2 := body(t, r2)
		for _, p := range []string{p1, p2} {
			if !strings.Contains(p, "Incorrect email or password.") || !strings.Contains(p, `role="alert"`) {
				t.Fatalf("page:\n%s", p)
			}
		}
		if r1.StatusCode != r2.StatusCode || b.cookies["__Host-orgauth_session"] != nil {
			t.Fatalf("statuses %d %d, cookies %v", r1.StatusCode, r2.StatusCode, b.cookies)
		}
		// The transaction survives failures: the right password still works.
		e.wantCode(t, b.submit(t, form, email, pw))
	})

	t.Run("CSRF", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "carol")
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		missing := url.Values{"transaction": form["transaction"]}
		wantPage(t, b.submit(t, missing, email, pw), 403, "could not be verified")
		tok := form.Get("csrf_token")
		first := "A"
		if tok[0] == 'A' {
			first = "B" // always a different token, never the real one
		}
		wrong := url.Values{"transaction": form["transaction"], "csrf_token": {first + tok[1:]}}
		wantPage(t, b.submit(t, wrong, email, pw), 403, "could not be verified")
		// Login CSRF: an attacker's own transaction and token, posted from
		// the victim's browser (which has its own CSRF cookie).
		attacker := e.browser()
		aform := attacker.loginForm(t, authzQuery(e.spa, nil))
		wantPage(t, b.submit(t, aform, email, pw), 403, "could not be verified")
		// Without the cookie at all.
		delete(attacker.cookies, "__Host-orgauth_csrf")
		wantPage(t, attacker.submit(t, aform, email, pw), 403, "could not be verified")
		// A cross-site form post.
		f := url.Values{"email": {email}, "password": {pw}}
		for k, v := range form {
			f[k] = v
		}
		r := httptest.NewRequest("POST", "https://auth.example.com/login", strings.NewReader(f.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("Origin", "https://evil.example")
		for _, c := range b.cookies {
			r.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		wantPage(t, rec.Result(), 403, "another site")
		// None of that used up the transaction.
		e.wantCode(t, b.submit(t, form, email, pw))
	})

	t.Run("CrossOrganizationRefused", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.org2, "mallory")
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		e.wantError(t, b.submit(t, form, email, pw), "access_denied")
		if b.cookies["__Host-orgauth_session"] != nil {
			t.Fatal("a session was created")
		}
	})

	t.Run("DisabledUserRefused", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "dave")
		u, _ := e.st.Stage.Store.GetUserByEmail(ctx, email)
		if _, err := e.st.Stage.Store.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) { u.Disabled = true; return u, nil }); err != nil {
			t.Fatal(err)
		}
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		// The right password of a disabled account reads like a wrong one:
		// the page does not confirm the password to whoever typed it.
		resp := b.submit(t, form, email, pw)
		page := wantPage(t, resp, 200, "Incorrect email or password.")
		if strings.Contains(page, "disabled") {
			t.Errorf("the page says the account is disabled:\n%s", page)
		}
		if b.cookies["__Host-orgauth_session"] != nil {
			t.Fatal("a session was created")
		}
	})

	t.Run("SessionSignsInSecondApplication", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "erin")
		b := e.browser()
		e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, pw))
		// Another application (the console, which may ask for the
		// management audience): no form.
		resp := b.do(t, "GET", authzQuery(domain.ConsoleClientID, func(q url.Values) {
			q.Set("redirect_uri", e.issuer+"/console/callback")
			q.Set("audience", e.mgmtAud)
			q.Set("scope", "openid profile email offline_access")
		}), nil)
		q := e.wantRedirect(t, resp, e.issuer+"/console/callback")
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		if code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock()); err != nil || code.Audience != e.mgmtAud {
			t.Fatalf("console code %+v %v", code, err)
		}
		// prompt=none answers silently with a code.
		e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil))
		// prompt=login shows the form despite the session.
		b.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "login") }))
		// Another organization's application shows the form.
		b.loginForm(t, authzQuery(e.other, nil))
		// ...and with prompt=none answers login_required.
		e.wantError(t, b.do(t, "GET", authzQuery(e.other, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
		// A disabled user's session no longer signs in.
		u, _ := e.st.Stage.Store.GetUserByEmail(ctx, email)
		if _, err := e.st.Stage.Store.UpdateUser(ctx, u.ID, func(u domain.User) (domain.User, error) { u.Disabled = true; return u, nil }); err != nil {
			t.Fatal(err)
		}
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
	})

	t.Run("PromptNoneWithoutSession", func(t *testing.T) {
		t.Parallel()
		b := e.browser()
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
		b.cookies["__Host-orgauth_session"] = &http.Cookie{Name: "__Host-orgauth_session", Value: "forged"}
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")
	})

	t.Run("Logout", func(t *testing.T) {
		t.Parallel()
		email := e.user(t, e.st.OrgID, "frank")
		b := e.browser()
		e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, pw))
		session := b.cookies["__Host-orgauth_session"].Value

		// Open redirect attempts: shown, never followed, and the session stays.
		for name, q := range map[string]url.Values{
			"unregistered":      {"client_id": {e.spa}, "post_logout_redirect_uri": {"https://evil.example/"}},
			"other app's URL":   {"client_id": {e.spa2}, "post_logout_redirect_uri": {logoutURL}},
			"no client":         {"post_logout_redirect_uri": {logoutURL}},
			"unknown client":    {"client_id": {"nope"}, "post_logout_redirect_uri": {logoutURL}},
			"prefix":            {"client_id": {e.spa}, "post_logout_redirect_uri": {logoutURL + ".evil.example"}},
			"repeated":          {"client_id": {e.spa}, "post_logout_redirect_uri": {logoutURL, "https://evil.example/"}},
			"forged hint":       {"id_token_hint": {"eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}, "post_logout_redirect_uri": {logoutURL}},
			"access token hint": {"id_token_hint": {e.st.UserToken(t, "u", e.st.OrgID, time.Hour, e.spa)}, "post_logout_redirect_uri": {logoutURL}},
		} {
			resp := b.do(t, "GET", "/logout?"+q.Encode(), nil)
			page := body(t, resp)
			if resp.StatusCode != 400 || resp.Header.Get("Location") != "" || strings.Contains(page, "evil") {
				t.Errorf("%s: %d %q\n%s", name, resp.StatusCode, resp.Header.Get("Location"), page)
			}
		}
		if c := b.cookies["__Host-orgauth_session"]; c == nil || c.Value != session {
			t.Fatal("a refused logout cleared the session")
		}

		// An expired ID token is a fine hint; it names the application.
		past := jwt.NewIssuer(e.issuer, e.st.Stage.Keys, func() time.Time { return time.Now().Add(-48 * time.Hour) }, nil)
		hint, _, err := past.IDToken(ctx, jwt.IDRequest{Subject: "u", ClientID: e.spa, Lifetime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		resp := b.do(t, "GET", "/logout?"+url.Values{"id_token_hint": {hint}, "post_logout_redirect_uri": {logoutURL}, "state": {"bye"}}.Encode(), nil)
		if resp.StatusCode != 303 || resp.Header.Get("Location") != logoutURL+"?state=bye" {
			t.Fatalf("logout: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		if b.cookies["__Host-orgauth_session"] != nil {
			t.Fatal("the session cookie was not cleared")
		}
		if _, err := e.st.Stage.Store.GetSession(ctx, domain.HashSecret(session), e.clock()); err == nil {
			t.Fatal("the session still exists")
		}
		// Replaying the old cookie signs nobody in.
		b.cookies["__Host-orgauth_session"] = &http.Cookie{Name: "__Host-orgauth_session", Value: session}
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "none") }), nil), "login_required")

		// Without a return address: a page.
		wantPage(t, b.do(t, "GET", "/logout", nil), 200, "signed out")
		// Another issuer's token is refused.
		foreign := jwt.NewIssuer("https://other-issuer.example.com", e.st.Stage.Keys, nil, nil)
		fh, _, _ := foreign.IDToken(ctx, jwt.IDRequest{Subject: "u", ClientID: e.spa, Lifetime: time.Hour})
		wantPage(t, b.do(t, "GET", "/logout?id_token_hint="+fh, nil), 400, "did not issue")
	})

	t.Run("Methods", func(t *testing.T) {
		t.Parallel()
		b := e.browser()
		for _, tc := range []struct{ method, path, allow string }{
			{"GET", "/login", "POST"}, {"PUT", "/login", "POST"}, {"POST", "/authorize", "GET, HEAD"}, {"POST", "/logout", "GET, HEAD"},
		} {
			resp := b.do(t, tc.method, tc.path, nil)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != tc.allow {
				t.Errorf("%s %s: %d Allow %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("Allow"))
			}
		}
	})
}

// TestClock covers what needs the clock moved: transaction expiry, max_age,
// and the failure windows. It has a stack of its own.
func TestClock(t *testing.T) {
	e := newEnv(t)

	t.Run("TransactionExpires", func(t *testing.T) {
		email := e.user(t, e.st.OrgID, "grace")
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		e.advance(10*time.Minute + time.Second)
		wantPage(t, b.submit(t, form, email, pw), 400, "expired")
	})

	t.Run("MaxAge", func(t *testing.T) {
		email := e.user(t, e.st.OrgID, "heidi")
		b := e.browser()
		e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, nil)), email, pw))
		e.advance(10 * time.Minute)
		e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("max_age", "3600") }), nil))
		form := b.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("max_age", "60") }))
		e.wantError(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("max_age", "60"); q.Set("prompt", "none") }), nil), "login_required")
		// Signing in again refreshes auth_time.
		e.wantCode(t, b.submit(t, form, email, pw))
		e.wantCode(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("max_age", "60") }), nil))
	})

	t.Run("ThrottlePerAccount", func(t *testing.T) {
		email := e.user(t, e.st.OrgID, "ivan")
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		for i := range 5 {
			wantPage(t, b.submit(t, form, email, fmt.Sprintf("wrong password %d", i)), 200, "Incorrect email or password.")
		}
		// From that address, even the right password is not checked now.
		resp := b.submit(t, form, email, pw)
		if resp.Header.Get("Retry-After") == "" {
			t.Errorf("no Retry-After")
		}
		wantPage(t, resp, 429, "Too many failed sign-in attempts")
		// From another address the owner still signs in: one address
		// cannot lock an account out.
		other := e.browser()
		e.wantCode(t, other.submit(t, other.loginForm(t, authzQuery(e.spa, nil)), email, pw))
		e.advance(15 * time.Minute)
		form = b.loginForm(t, authzQuery(e.spa, nil))
		e.wantCode(t, b.submit(t, form, email, pw))
	})

	// Many addresses at one account: attack_test.go.

	t.Run("SuccessfulSignInsAreNotCounted", func(t *testing.T) {
		email := e.user(t, e.st.OrgID, "liz")
		b := e.browser()
		for range 8 {
			e.wantCode(t, b.submit(t, b.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "login") })), email, pw))
		}
	})

	t.Run("ThrottlePerAddress", func(t *testing.T) {
		b := e.browser()
		form := b.loginForm(t, authzQuery(e.spa, nil))
		for i := range 20 {
			wantPage(t, b.submit(t, form, fmt.Sprintf("spray-%d-%s@example.com", i, domain.NewID()), pw), 200, "Incorrect email or password.")
		}
		email := e.user(t, e.st.OrgID, "judy")
		wantPage(t, b.submit(t, form, email, pw), 429, "Too many")
		// Another address is not affected.
		other := e.browser()
		e.wantCode(t, other.submit(t, other.loginForm(t, authzQuery(e.spa, nil)), email, pw))
	})
}
