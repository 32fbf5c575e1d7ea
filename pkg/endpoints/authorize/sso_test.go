package authorize_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"

	"orgauth/pkg/domain"
	"orgauth/pkg/platform/httpx"
	"orgauth/pkg/platform/secretbox"
	"orgauth/test/testenv"
)

// testOP is an OpenID provider on 127.0.0.1 for the callback's failure
// cases, which a real provider will not produce on demand: it serves
// discovery, its JWKS and a token endpoint that checks the client's secret,
// the PKCE verifier and the redirect URI, and signs ID tokens; grant plays
// a user who signs in there. The end-to-end tests use npm oidc-provider.
type testOP struct {
	srv      *httptest.Server
	key      *ecdsa.PrivateKey
	kid      string
	jwksHits int
	clientID string
	secret   string

	mu     sync.Mutex
	codes  map[string]opGrant
	tweak  func(claims map[string]any) // changes the next ID tokens' claims
	badKey bool                        // sign with a key the JWKS does not publish
	delay  time.Duration               // the token endpoint answers this late
	refuse bool                        // the token endpoint refuses every code (invalid_grant)
	// issSupported advertises RFC 9207 iss, which grant then sends back.
	issSupported bool
	tokenHits    int // token requests received
}

type opGrant struct {
	params url.Values
	claims map[string]any
}

func startTestOP(t *testing.T, clientID, secret string) *testOP {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	op := &testOP{key: key, kid: "k1", clientID: clientID, secret: secret, codes: map[string]opGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		iss := op.srv.URL
		op.mu.Lock()
		issSupported := op.issSupported
		op.mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"authorization_response_iss_parameter_supported": issSupported,
			"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token",
			"jwks_uri": iss + "/jwks", "response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"},
			"id_token_signing_alg_values_supported": []string{"ES256"}, "code_challenge_methods_supported": []string{"S256"},
			"token_endpoint_auth_methods_supported": []string{"client_secret_basic"},
		})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		op.mu.Lock()
		key, kid := op.key, op.kid
		op.jwksHits++
		op.mu.Unlock()
		_ = json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: kid, Algorithm: "ES256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", op.token)
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

// grant is the user signing in at the provider: from the authorization
// request orgauth redirected to, the callback path and query it sends back.
func (op *testOP) grant(t *testing.T, authURL string, claims map[string]any) string {
	t.Helper()
	u, err := url.Parse(authURL)
	if err != nil || !strings.HasPrefix(authURL, op.srv.URL+"/auth?") {
		t.Fatalf("not an authorization request to the provider: %q", authURL)
	}
	q := u.Query()
	if q.Get("response_type") != "code" || q.Get("client_id") != op.clientID || q.Get("code_challenge_method") != "S256" ||
		q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("nonce") == "" || !strings.Contains(q.Get("scope"), "openid") {
		t.Fatalf("authorization request %v", q)
	}
	code := domain.NewID()
	op.mu.Lock()
	op.codes[code] = opGrant{params: q, claims: claims}
	op.mu.Unlock()
	// The claims' auth_time: time.Time becomes seconds; absent, it is now.
	if at, ok := claims["auth_time"].(time.Time); ok {
		claims["auth_time"] = at.Unix()
	} else if _, ok := claims["auth_time"]; !ok && claims != nil {
		claims["auth_time"] = time.Now().Unix()
	}
	back, _ := url.Parse(q.Get("redirect_uri"))
	resp := url.Values{"code": {code}, "state": {q.Get("state")}}
	if op.issSupported {
		resp.Set("iss", op.srv.URL)
	}
	return back.Path + "?" + resp.Encode()
}

func (op *testOP) token(w http.ResponseWriter, r *http.Request) {
	op.mu.Lock()
	delay, badKey, tweak, refuse := op.delay, op.badKey, op.tweak, op.refuse
	key, kid := op.key, op.kid
	op.tokenHits++
	op.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	fail := func(status int, code string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != op.clientID || secret != op.secret {
		fail(401, "invalid_client")
		return
	}
	if refuse {
		fail(400, "invalid_grant")
		return
	}
	code := r.PostFormValue("code")
	op.mu.Lock()
	g, found := op.codes[code]
	delete(op.codes, code)
	op.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !found || r.PostFormValue("redirect_uri") != g.params.Get("redirect_uri") ||
		base64.RawURLEncoding.EncodeToString(sum[:]) != g.params.Get("code_challenge") {
		fail(400, "invalid_grant")
		return
	}
	claims := map[string]any{"iss": op.srv.URL, "aud": op.clientID, "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix(),
		"nonce": g.params.Get("nonce")}
	for k, v := range g.claims {
		claims[k] = v
	}
	if tweak != nil {
		tweak(claims)
	}
	if badKey {
		key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: key}, (&jose.SignerOptions{}).WithHeader("kid", kid).WithType("JWT"))
	if err != nil {
		fail(500, "server_error")
		return
	}
	idt, err := josejwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		fail(500, "server_error")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"access_token": domain.NewID(), "token_type": "Bearer", "expires_in": 300, "id_token": idt})
}

func (op *testOP) set(f func(op *testOP)) {
	op.mu.Lock()
	defer op.mu.Unlock()
	f(op)
}

// ssoEnv is the authorize and callback handlers with organization SSO: the
// stack's organization uses a test provider for example.org addresses.
type ssoEnv struct {
	*env
	op     *testOP
	logs   *syncBuffer
	secret string
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newSSOEnv(t *testing.T, sso domain.SSO) *ssoEnv {
	t.Helper()
	st := testenv.NewStack(t)
	e := &env{st: st, now: time.Now().UTC(), issuer: st.Stage.Cfg.Issuer, mgmtAud: st.Stage.Cfg.ManagementAudience}
	e.spa = st.AddSPA(t, st.OrgID, callback, logoutURL)
	secret := "upstream-secret-" + domain.NewID()
	op := startTestOP(t, "orgauth-at-idp", secret)
	box := secretbox.New(st.Stage.KMS, st.Stage.Cfg.SSOKeyID)
	ct, err := box.Encrypt(context.Background(), st.OrgID, []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	sso.Issuer, sso.ClientID, sso.ClientSecretCiphertext = op.srv.URL, op.clientID, ct
	if _, err := st.Stage.Store.UpdateOrganization(context.Background(), st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO = &sso
		// The organization proved its domains: only verified ones count.
		for _, d := range sso.Domains {
			o.DomainClaims = append(o.DomainClaims, domain.DomainClaim{Domain: d, Token: "t", VerifiedAt: time.Now(), Method: "override"})
		}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	st.Stage.Log = log
	// Long enough for discovery on a loaded machine (a failed discovery is
	// cached, and would fail every later step); the slow provider below
	// takes longer.
	st.Stage.Cfg.UpstreamTimeout = 1500 * time.Millisecond
	mux := http.NewServeMux()
	cb := st.WithClock(e.clock, st.Callback)
	mux.Handle("/callback", cb)
	mux.Handle("/callback/", cb)
	mux.Handle("/", st.WithClock(e.clock, st.Authorize))
	e.h = httpx.Middleware(log, nil, mux)
	return &ssoEnv{env: e, op: op, logs: logs, secret: secret}
}

// upstream checks a redirect to the provider and returns its URL.
func (e *ssoEnv) upstreamRedirect(t *testing.T, resp *http.Response) string {
	t.Helper()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, e.op.srv.URL+"/auth?") {
		t.Fatalf("want a redirect to the provider, got %d %q: %s", resp.StatusCode, loc, body(t, resp))
	}
	return loc
}

func (b *browser) submitEmail(t *testing.T, form url.Values, email string) *http.Response {
	t.Helper()
	f := url.Values{"email": {email}}
	for k, v := range form {
		f[k] = v
	}
	return b.do(t, "POST", "/login", f)
}

// emailForm opens the first step of an SSO organization's login page.
func (b *browser) emailForm(t *testing.T, query string) (url.Values, *http.Response, string) {
	t.Helper()
	resp := b.do(t, "GET", query, nil)
	page := body(t, resp)
	if resp.StatusCode != 200 || !strings.Contains(page, `action="/login"`) || strings.Contains(page, `type="password"`) {
		t.Fatalf("want the email step, got %d\n%s", resp.StatusCode, page)
	}
	tx, csrf := txField.FindStringSubmatch(page), csrfField.FindStringSubmatch(page)
	return url.Values{"transaction": {tx[1]}, "csrf_token": {csrf[1]}}, resp, page
}

func verified(sub, email string) map[string]any {
	return map[string]any{"sub": sub, "email": email, "email_verified": true, "name": "Upstream " + sub}
}

func TestSSOEnforced(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	ctx := context.Background()

	t.Run("ProvisionsAndLinks", func(t *testing.T) {
		b := e.browser()
		// Enforced: no form at all, straight upstream, login_hint passed on.
		resp := b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("login_hint", "ann@example.org") }), nil)
		auth := e.upstreamRedirect(t, resp)
		if u, _ := url.Parse(auth); u.Query().Get("login_hint") != "ann@example.org" || u.Query().Get("redirect_uri") != e.issuer+"/callback/"+e.st.OrgID {
			t.Fatalf("authorization request %s", auth)
		}
		back := e.op.grant(t, auth, verified("sub-ann", "Ann@Example.org"))
		q := e.wantCode(t, b.approve(t, b.do(t, "GET", back, nil)))
		if b.cookies["__Host-orgauth_session"] == nil {
			t.Fatal("no session after SSO")
		}
		code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock())
		if err != nil {
			t.Fatal(err)
		}
		u, err := e.st.Stage.Store.GetUser(ctx, code.UserID)
		// The provider asserted the address: email_verified from now on.
		if err != nil || u.Email != "ann@example.org" || u.OrganizationID != e.st.OrgID || u.Role != domain.RoleMember || u.PasswordHash != "" ||
			!u.EmailVerified {
			t.Fatalf("provisioned user %+v %v", u, err)
		}
		// The second sign-in (another browser) finds the link.
		b2 := e.browser()
		auth = e.upstreamRedirect(t, b2.do(t, "GET", authzQuery(e.spa, nil), nil))
		q = e.wantCode(t, b2.do(t, "GET", e.op.grant(t, auth, verified("sub-ann", "ann@example.org")), nil))
		if code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock()); err != nil || code.UserID != u.ID {
			t.Fatalf("second sign-in: %+v %v", code, err)
		}
	})

	t.Run("ExistingUserIsLinked", func(t *testing.T) {
		email := "bea-" + domain.NewID() + "@example.org"
		id := e.st.AddUserWithPassword(t, e.st.OrgID, email, pw)
		if u, err := e.st.Stage.Store.GetUser(ctx, id); err != nil || u.EmailVerified {
			t.Fatalf("before SSO: %+v %v", u, err)
		}
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
		q := e.wantCode(t, b.approve(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-bea", email)), nil)))
		code, err := e.st.Stage.Store.RedeemCode(ctx, domain.HashSecret(q.Get("code")), e.clock())
		if err != nil || code.UserID != id {
			t.Fatalf("code %+v %v, want user %s", code, err, id)
		}
		if l, err := e.st.Stage.Store.GetUpstreamLink(ctx, e.op.srv.URL, "sub-bea"); err != nil || l.UserID != id {
			t.Fatalf("link %+v %v", l, err)
		}
		if u, err := e.st.Stage.Store.GetUser(ctx, id); err != nil || !u.EmailVerified {
			t.Fatalf("after SSO, the provider's assertion is not kept: %+v %v", u, err)
		}
	})

	t.Run("UpstreamAccessDenied", func(t *testing.T) {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
		a, _ := url.Parse(auth)
		resp := b.do(t, "GET", "/callback/"+e.st.OrgID+"?"+url.Values{"error": {"access_denied"}, "state": {a.Query().Get("state")}}.Encode(), nil)
		q := e.wantRedirect(t, resp, callback)
		if q.Get("error") != "access_denied" || q.Get("state") != "xyz-state" || q.Get("code") != "" {
			t.Fatalf("access_denied: %v", q)
		}
	})

	// In a popup (response_mode=web_message), the provider's refusal goes
	// back by message to the registered origin, as a code would have.
	t.Run("UpstreamAccessDeniedInAPopup", func(t *testing.T) {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("response_mode", "web_message") }), nil))
		a, _ := url.Parse(auth)
		resp := b.do(t, "GET", "/callback/"+e.st.OrgID+"?"+url.Values{"error": {"access_denied"}, "state": {a.Query().Get("state")}}.Encode(), nil)
		msg := wantWebMessage(t, resp, "https://spa.example.com")
		if msg.Response["error"] != "access_denied" || msg.Response["state"] != "xyz-state" || msg.Response["code"] != "" {
			t.Fatalf("access_denied by message: %+v", msg)
		}
	})

	t.Run("Failures", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			claims map[string]any
			setup  func(op *testOP)
			status int
			text   string
		}{
			{"wrong nonce", verified("s1", "dan@example.org"), func(op *testOP) { op.tweak = func(c map[string]any) { c["nonce"] = "other" } }, 400, "could not be verified"},
			{"bad signature", verified("s2", "dan@example.org"), func(op *testOP) { op.badKey = true }, 400, "could not be verified"},
			{"wrong audience", verified("s3", "dan@example.org"), func(op *testOP) { op.tweak = func(c map[string]any) { c["aud"] = "someone-else" } }, 400, "could not be verified"},
			{"expired", verified("s4", "dan@example.org"), func(op *testOP) {
				op.tweak = func(c map[string]any) { c["exp"] = time.Now().Add(-time.Hour).Unix() }
			}, 400, "could not be verified"},
			{"email not verified", map[string]any{"sub": "s5", "email": "dan@example.org", "email_verified": false}, nil, 403, "did not confirm your email"},
			{"email outside the domains", verified("s6", "dan@evil.example"), nil, 403, "not in one of your organization"},
			{"slow provider", verified("s7", "dan@example.org"), func(op *testOP) { op.delay = 5 * time.Second }, 502, "did not answer"},
			{"wrong issuer", verified("s8", "dan@example.org"), func(op *testOP) { op.tweak = func(c map[string]any) { c["iss"] = "https://evil.example" } }, 400, "could not be verified"},
			{"wrong at_hash", verified("s9", "dan@example.org"), func(op *testOP) {
				op.tweak = func(c map[string]any) { c["at_hash"] = "AAAAAAAAAAAAAAAAAAAAAA" }
			}, 400, "could not be verified"},
			{"provider refuses the code", verified("s10", "dan@example.org"), func(op *testOP) { op.refuse = true }, 400, "could not be verified"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				reset := func(op *testOP) { op.tweak, op.badKey, op.delay, op.refuse = nil, false, 0, false }
				e.op.set(reset)
				if tc.setup != nil {
					e.op.set(tc.setup)
				}
				defer e.op.set(reset)
				b := e.browser()
				auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
				resp := b.do(t, "GET", e.op.grant(t, auth, tc.claims), nil)
				wantPage(t, resp, tc.status, tc.text)
				if b.cookies["__Host-orgauth_session"] != nil {
					t.Fatal("a session was created")
				}
			})
		}
	})

	// The provider rotates its key: an ID token naming a kid orgauth has
	// not seen makes it fetch the key set again, and the sign-in works.
	t.Run("ProviderKeyRotation", func(t *testing.T) {
		b := e.browser()
		auth := e.upstreamRedirect(t, b.do(t, "GET", authzQuery(e.spa, nil), nil))
		e.wantCode(t, b.approve(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-kim", "kim@example.org")), nil)))
		var before int
		e.op.set(func(op *testOP) {
			op.key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			op.kid, before = "k2", op.jwksHits
		})
		b2 := e.browser()
		auth = e.upstreamRedirect(t, b2.do(t, "GET", authzQuery(e.spa, nil), nil))
		e.wantCode(t, b2.do(t, "GET", e.op.grant(t, auth, verified("sub-kim", "kim@example.org")), nil))
		e.op.set(func(op *testOP) {
			if op.jwksHits <= before {
				t.Errorf("the key set was not fetched again for the new kid (%d fetches)", op.jwksHits)
			}
		})
	})

	t.Run("StateIsSingleUseAndBoundToTheBrowser", func(t *testing.T) {
		victim, attacker := e.browser(), e.browser()
		auth := e.upstreamRedirect(t, victim.do(t, "GET", authzQuery(e.spa, nil), nil))
		back := e.op.grant(t, auth, verified("sub-eve", "eve@example.org"))
		// The attacker replays the victim's callback (stolen state and
		// code) from their own browser, which started its own sign-in.
		e.upstreamRedirect(t, attacker.do(t, "GET", authzQuery(e.spa, nil), nil))
		wantPage(t, attacker.do(t, "GET", back, nil), 403, "started in another browser")
		if attacker.cookies["__Host-orgauth_session"] != nil {
			t.Fatal("the attacker got a session")
		}
		// The binding is checked before the transaction is spent: the
		// leaked state did not cancel the victim's sign-in, which
		// completes; then the state is spent.
		e.wantCode(t, victim.consenting(t, victim.do(t, "GET", back, nil)))
		wantPage(t, victim.do(t, "GET", back, nil), 400, "expired or was already used")
		wantPage(t, victim.do(t, "GET", "/callback?state=never-issued&code=x", nil), 400, "expired or was already used")
		wantPage(t, victim.do(t, "GET", "/callback?code=x", nil), 400, "expired or was already used")
		// And a completed sign-in cannot be replayed.
		auth = e.upstreamRedirect(t, victim.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("prompt", "login") }), nil))
		back = e.op.grant(t, auth, verified("sub-eve", "eve@example.org"))
		e.wantCode(t, victim.consenting(t, victim.do(t, "GET", back, nil)))
		wantPage(t, victim.do(t, "GET", back, nil), 400, "expired or was already used")
	})

	t.Run("ProviderDown", func(t *testing.T) {
		down := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true})
		down.op.srv.Close()
		b := down.browser()
		wantPage(t, b.do(t, "GET", authzQuery(down.spa, nil), nil), 502, "did not answer")
	})

	t.Run("NoProvisioning", func(t *testing.T) {
		np := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true})
		b := np.browser()
		auth := np.upstreamRedirect(t, b.do(t, "GET", authzQuery(np.spa, nil), nil))
		wantPage(t, b.do(t, "GET", np.op.grant(t, auth, verified("sub-new", "new@example.org")), nil), 403, "no account for your email")
		if _, err := np.st.Stage.Store.GetUserByEmail(ctx, "new@example.org"); err == nil {
			t.Fatal("a user was provisioned")
		}
	})

	// No secret of the provider ever reaches a log line, in any encoding;
	// and there are log lines to search.
	logs := e.logs.String()
	if !strings.Contains(logs, `"event":"login_refused"`) && !strings.Contains(logs, `"msg"`) {
		t.Fatalf("no log lines were written: the secrecy check would be empty")
	}
	for _, enc := range testenv.Encodings(e.secret) {
		if strings.Contains(logs, enc) {
			t.Fatalf("the upstream client secret is in the logs (%.8s…)", enc)
		}
	}
}

func TestSSOHomeRealmDiscovery(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Provision: true})

	// The email comes first; the provider's origin may receive the form.
	b := e.browser()
	form, resp, page := b.emailForm(t, authzQuery(e.spa, nil))
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "form-action 'self' https://spa.example.com "+e.op.srv.URL+";") {
		t.Fatalf("CSP %q", csp)
	}
	if !strings.Contains(page, ">Continue<") {
		t.Fatalf("email step:\n%s", page)
	}
	// An address of the organization's domains goes upstream.
	auth := e.upstreamRedirect(t, b.submitEmail(t, form, "fay@example.org"))
	e.wantCode(t, b.approve(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-fay", "fay@example.org")), nil)))

	// Any other address gets the password step, then signs in here.
	email := e.user(t, e.st.OrgID, "gus") // @example.com
	b2 := e.browser()
	form, _, _ = b2.emailForm(t, authzQuery(e.spa, nil))
	resp = b2.submitEmail(t, form, email)
	page = wantPage(t, resp, 200, `type="password"`)
	if !strings.Contains(page, `value="`+email+`"`) {
		t.Fatalf("password step does not keep the email:\n%s", page)
	}
	e.wantCode(t, b2.submit(t, form, email, pw))

	// login_hint in the domains skips the form.
	b3 := e.browser()
	e.upstreamRedirect(t, b3.do(t, "GET", authzQuery(e.spa, func(q url.Values) { q.Set("login_hint", "hal@example.org") }), nil))

	// An empty email step asks again.
	b4 := e.browser()
	form, _, _ = b4.emailForm(t, authzQuery(e.spa, nil))
	wantPage(t, b4.submitEmail(t, form, ""), 200, "Enter your email.")

	// SSO limited to other applications leaves this one on passwords.
	other := e.st.AddSPA(t, e.st.OrgID, "https://other.example.com/cb", "https://other.example.com/")
	if _, err := e.st.Stage.Store.UpdateOrganization(context.Background(), e.st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO.Applications = []string{other}
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	b5 := e.browser()
	b5.loginForm(t, authzQuery(e.spa, func(q url.Values) { q.Set("login_hint", "ivy@example.org") }))
}

// An organization that enforces SSO never checks a password, even one
// POSTed with a form obtained before enforcement was turned on: the
// sign-in goes to the provider, and no session or code comes of it.
func TestSSOEnforcedRefusesAPostedPassword(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Provision: true})
	email := e.user(t, e.st.OrgID, "hal") // @example.com: the password step
	b := e.browser()
	form, _, _ := b.emailForm(t, authzQuery(e.spa, nil))
	if _, err := e.st.Stage.Store.UpdateOrganization(context.Background(), e.st.OrgID, func(o domain.Organization) (domain.Organization, error) {
		o.SSO.Enforced = true
		return o, nil
	}); err != nil {
		t.Fatal(err)
	}
	resp := b.submit(t, form, email, pw)
	e.upstreamRedirect(t, resp)
	if b.cookies["__Host-orgauth_session"] != nil {
		t.Fatal("a password started a session in an organization that enforces SSO")
	}
}
