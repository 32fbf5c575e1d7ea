package signinhttp

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"orgauth/pkg/platform/unavailable"
	"orgauth/pkg/signin"
)

func testEdge(issuer string) *Edge {
	return New(slog.New(slog.NewJSONHandler(io.Discard, nil)), issuer)
}

// The page escapes what others control (application names, login_hint),
// and the CSP admits exactly the inline stylesheet it carries.
func TestRenderEscapesAndHashesStyle(t *testing.T) {
	e := testEdge("https://auth.example.com")
	rec := httptest.NewRecorder()
	e.Render(rec, httptest.NewRequest("GET", "/authorize", nil), signin.Page{Status: 200, Title: "Sign in", Error: "<b>x</b>", Login: &signin.LoginForm{
		AppName: `<script>alert(1)</script>`, Transaction: "tx", CSRFToken: "c", Email: `"><script>alert(2)</script>`,
	}, FormTargets: []string{"https://spa.example.com:8443/cb?x=1"}})
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

// Cookies drop __Host- and Secure only for an http (loopback) issuer.
func TestCookieNames(t *testing.T) {
	if n := testEdge("https://auth.example.com").CookieName(signin.SessionCookie); n != "__Host-orgauth_session" {
		t.Errorf("https: %s", n)
	}
	e := testEdge("http://127.0.0.1:3000")
	if n := e.CookieName(signin.SessionCookie); n != "orgauth_session" || e.secure {
		t.Errorf("http loopback: %s secure=%v", n, e.secure)
	}
}

// A dependency that is down is a 503 page with Retry-After, not a 500.
func TestServerErrorUnavailable(t *testing.T) {
	e := testEdge("https://auth.example.com")
	for err, want := range map[error]int{
		fmt.Errorf("load application: %w", unavailable.ErrUnavailable): 503,
		fmt.Errorf("load application: %w", context.DeadlineExceeded):   503,
		errors.New("decode item: bad attribute"):                       500,
	} {
		w := httptest.NewRecorder()
		e.ServerError(w, httptest.NewRequest("GET", "/authorize", nil), err)
		if w.Code != want || (want == 503) != (w.Header().Get("Retry-After") != "") || strings.Contains(w.Body.String(), "attribute") {
			t.Errorf("%v: %d Retry-After %q", err, w.Code, w.Header().Get("Retry-After"))
		}
	}
}
