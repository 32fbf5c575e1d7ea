package authorize_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// ssoCookie is the __Host-orgauth_sso cookie a response sets, or nil.
func ssoCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "__Host-orgauth_sso" {
			return c
		}
	}
	return nil
}

// wantSSOCookie checks the browser-binding cookie of the hand-off to the
// provider: a __Host- cookie (Secure, Path=/, no Domain), out of scripts'
// reach, sent on the provider's top-level redirect back (SameSite=Lax),
// and kept as long as the SSO transaction lives: maxAge seconds, or one
// less where the transaction's start was kept to the second (a cookie
// never outlives its transaction).
func wantSSOCookie(t *testing.T, resp *http.Response, maxAge int) {
	t.Helper()
	c := ssoCookie(resp)
	if c == nil {
		t.Fatalf("no __Host-orgauth_sso cookie on the hand-off: %v", resp.Header["Set-Cookie"])
	}
	raw := ""
	for _, h := range resp.Header["Set-Cookie"] {
		if strings.HasPrefix(h, "__Host-orgauth_sso=") {
			raw = h
		}
	}
	if len(c.Value) != 43 || !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" ||
		c.Domain != "" || strings.Contains(strings.ToLower(raw), "domain=") || c.MaxAge > maxAge || c.MaxAge < maxAge-1 {
		t.Fatalf("SSO cookie %q, want Secure; HttpOnly; SameSite=Lax; Path=/; no Domain; Max-Age=%d", raw, maxAge)
	}
}

// The SSO transaction lives 10 minutes, as its cookie says: a provider's
// answer arriving just before then completes the sign-in and clears the
// cookie; one arriving after is refused as expired and signs nobody in.
func TestSSOTransactionLifetime(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Enforced: true, Provision: true, ProvisionRole: domain.RoleMember})
	const lifetime = 10 * time.Minute

	// In time: the cookie is set on the hand-off and cleared on completion.
	b := e.browser()
	resp := b.do(t, "GET", authzQuery(e.spa, nil), nil)
	auth := e.upstreamRedirect(t, resp)
	wantSSOCookie(t, resp, int(lifetime/time.Second))
	e.advance(lifetime - time.Second)
	resp = b.do(t, "GET", e.op.grant(t, auth, verified("sub-tim", "tim@example.org")), nil)
	if resp.StatusCode >= 400 {
		t.Fatalf("an answer in time was refused: %d\n%s", resp.StatusCode, body(t, resp))
	}
	if c := ssoCookie(resp); c == nil || c.MaxAge >= 0 || c.Value != "" || c.Path != "/" || !c.Secure {
		t.Fatalf("the callback did not clear the SSO cookie: %v", resp.Header["Set-Cookie"])
	}
	if b.cookies["__Host-orgauth_sso"] != nil {
		t.Fatal("the SSO cookie outlived the completed sign-in")
	}
	e.wantCode(t, b.consenting(t, resp))

	// Late: refused, though the browser still sends its binding cookie.
	late := e.browser()
	auth = e.upstreamRedirect(t, late.do(t, "GET", authzQuery(e.spa, nil), nil))
	e.advance(lifetime)
	wantPage(t, late.do(t, "GET", e.op.grant(t, auth, verified("sub-tim", "tim@example.org")), nil), 400, "expired or was already used")
	if late.cookies["__Host-orgauth_session"] != nil {
		t.Fatal("a late answer from the provider started a session")
	}
}

// Going upstream from a login page served earlier, the cookie lasts what
// is left of the transaction, not a fresh 10 minutes.
func TestSSOCookieLastsWhatIsLeftOfTheTransaction(t *testing.T) {
	e := newSSOEnv(t, domain.SSO{Domains: []string{"example.org"}, Provision: true})
	b := e.browser()
	form, _, _ := b.emailForm(t, authzQuery(e.spa, nil))
	e.advance(4 * time.Minute)
	resp := b.submitEmail(t, form, "una@example.org")
	auth := e.upstreamRedirect(t, resp)
	wantSSOCookie(t, resp, 6*60)
	e.advance(6*time.Minute - time.Second)
	e.wantCode(t, b.consenting(t, b.do(t, "GET", e.op.grant(t, auth, verified("sub-una", "una@example.org")), nil)))
}
