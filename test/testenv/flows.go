package testenv

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// PKCE returns a fresh RFC 7636 code verifier and its S256 challenge.
func PKCE() (verifier, challenge string) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	verifier = base64.RawURLEncoding.EncodeToString(b[:])
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// CodeGrant is what GET /authorize and POST /login would have recorded.
type CodeGrant struct {
	ClientID, UserID, OrgID string
	RedirectURI, Challenge  string
	Nonce, Audience         string
	Scopes                  []string
	AuthTime, ExpiresAt     time.Time // zero: now, and 60 s from now
}

// IssueCode stores an authorization code as the sign-in flow would, and
// returns its value.
func (s *Stack) IssueCode(t testing.TB, g CodeGrant) string {
	t.Helper()
	if g.AuthTime.IsZero() {
		g.AuthTime = time.Now().Truncate(time.Second)
	}
	if g.ExpiresAt.IsZero() {
		g.ExpiresAt = time.Now().Add(time.Minute)
	}
	raw, hash := domain.NewSecret()
	err := s.Stage.Store.CreateCode(context.Background(), domain.AuthorizationCode{
		Hash: hash, ClientID: g.ClientID, UserID: g.UserID, OrganizationID: g.OrgID, RedirectURI: g.RedirectURI,
		CodeChallenge: g.Challenge, Nonce: g.Nonce, Scopes: g.Scopes, Audience: g.Audience, AuthTime: g.AuthTime,
		SessionID: "test-session", ExpiresAt: g.ExpiresAt,
	})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// WithClock builds a handler from the stage with now as its clock.
func (s *Stack) WithClock(now func() time.Time, build func() http.Handler) http.Handler {
	saved := s.Stage.Now
	defer func() { s.Stage.Now = saved }()
	s.Stage.Now = now
	return build()
}

// Call is one HTTP request to a handler.
type Call struct {
	Method, Path string
	Form         url.Values
	Header       http.Header
}

// Do serves c on h and returns the response with its body decoded as JSON
// (nil when empty or not JSON).
func Do(t testing.TB, h http.Handler, c Call) (*http.Response, map[string]any) {
	t.Helper()
	if c.Method == "" {
		c.Method = http.MethodPost
	}
	var body *strings.Reader
	if c.Form != nil {
		body = strings.NewReader(c.Form.Encode())
	} else {
		body = strings.NewReader("")
	}
	r := httptest.NewRequest(c.Method, c.Path, body)
	if c.Form != nil {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			r.Header.Add(k, v)
		}
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	resp := w.Result()
	var m map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&m)
	return resp, m
}
