package authorize

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

func testHandler(issuer string) *Handler {
	// The page helpers tested here touch no dependency; the constructor's
	// required ones are present and inert.
	h := &Handler{cfg: Config{Issuer: issuer}, log: slog.New(slog.NewJSONHandler(io.Discard, nil)), now: time.Now}
	h.secure, h.origin = issuerOrigin(issuer)
	return h
}

// The page escapes what others control (application names, login_hint),
// and the CSP admits exactly the inline stylesheet it carries.
func TestRenderEscapesAndHashesStyle(t *testing.T) {
	h := testHandler("https://auth.example.com")
	rec := httptest.NewRecorder()
	h.render(rec, httptest.NewRequest("GET", "/authorize", nil), 200, page{Title: "Sign in", Error: "<b>x</b>", Login: &loginForm{
		AppName: `<script>alert(1)</script>`, Transaction: "tx", CSRFToken: "c", Email: `"><script>alert(2)</script>`,
	}}, "https://spa.example.com:8443/cb?x=1")
	body := rec.Body.String()
	if strings.Contains(body, "<script") || strings.Contains(body, "<b>") {
		t.Fatalf("unescaped:\n%s", body)
	}
	csp := rec.Header().Get("Content-Security-Policy")
	if !strings.Contains(csp, "form-action 'self' https://spa.example.com:8443;") {
		t.Errorf("CSP %q", csp)
	}
	start := strings.Index(body, "<style>") + len("<style>")
	end := strings.Index(body, "</style>")
	sum := sha256.Sum256([]byte(body[start:end]))
	if want := "style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"; !strings.Contains(csp, want) {
		t.Errorf("CSP %q lacks %q: the served stylesheet would be blocked", csp, want)
	}
}

func TestRedirectURLKeepsQueryAndAddsIss(t *testing.T) {
	h := testHandler("https://auth.example.com")
	got, _ := url.Parse(h.redirectURL("https://app.example.com/cb?tenant=a#frag", url.Values{"code": {"c1"}, "state": {""}}))
	q := got.Query()
	if q.Get("tenant") != "a" || q.Get("code") != "c1" || q.Get("iss") != "https://auth.example.com" || q.Has("state") || got.Fragment != "" {
		t.Fatalf("redirect %s", got)
	}
}

func TestRequestedScopes(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      bool
	}{
		{"", "openid", false},
		{"openid openid  profile read", "openid profile read", false},
		{"offline_access email", "offline_access email", false},
		{"openid write", "", true},
	} {
		got, err := requestedScopes(tc.in, []string{"read"})
		if (err != nil) != tc.err || strings.Join(got, " ") != tc.want {
			t.Errorf("requestedScopes(%q) = %v, %v", tc.in, got, err)
		}
	}
}

// Cookies drop __Host- and Secure only for an http (loopback) issuer.
func TestCookieNames(t *testing.T) {
	if n := testHandler("https://auth.example.com").cookieName(sessionCookie); n != "__Host-orgauth_session" {
		t.Errorf("https: %s", n)
	}
	h := testHandler("http://127.0.0.1:3000")
	if n := h.cookieName(sessionCookie); n != "orgauth_session" || h.secure {
		t.Errorf("http loopback: %s secure=%v", n, h.secure)
	}
}
