package bearer_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"orgauth/pkg/jwt"
	"orgauth/pkg/oauth/bearer"
)

// fakeVerifier accepts "good-<aud>" for aud, fails with keysDown for
// "keys-down", and refuses anything else as jwt.ErrInvalidToken.
type fakeVerifier struct{ keysDown error }

func (f fakeVerifier) VerifyAccessToken(_ context.Context, raw, aud string) (jwt.AccessClaims, error) {
	switch raw {
	case "keys-down":
		return jwt.AccessClaims{}, f.keysDown
	case "good-" + aud:
		c := jwt.AccessClaims{ClientID: "c1", OrgID: "o1"}
		c.ID, c.Subject = "jti-"+aud, "u1"
		return c, nil
	}
	return jwt.AccessClaims{}, jwt.ErrInvalidToken
}

type fakeRevocations map[string]error // jti -> error; errRevoked marks revoked

var errRevoked = errors.New("revoked")

func (f fakeRevocations) IsJTIRevoked(_ context.Context, jti string, _ time.Time) (bool, error) {
	switch err := f[jti]; {
	case err == errRevoked:
		return true, nil
	case err != nil:
		return false, err
	}
	return false, nil
}

func TestAuthenticate(t *testing.T) {
	down := errors.New("kms down")
	rev := fakeRevocations{"jti-api2": errRevoked, "jti-api3": errors.New("table down")}
	a := bearer.New(fakeVerifier{keysDown: down}, rev,
		bearer.Config{Audiences: []string{"api1", "api2", "api3"}, Invalid: "not for this API"}, time.Now)
	for _, tc := range []struct {
		name    string
		headers []string
		status  int // 0: accepted
		code    string
		www     string
		jti     string
	}{
		{"first audience", []string{"Bearer good-api1"}, 0, "", "", "jti-api1"},
		{"scheme is case-insensitive", []string{"bearer  good-api1 "}, 0, "", "", "jti-api1"},
		{"no header", nil, 401, "", `Bearer realm="orgauth"`, ""},
		{"basic scheme", []string{"Basic Zm9vOmJhcg=="}, 401, "", `Bearer realm="orgauth"`, ""},
		{"empty token", []string{"Bearer   "}, 401, "", `Bearer realm="orgauth"`, ""},
		{"no space", []string{"Bearer"}, 401, "", `Bearer realm="orgauth"`, ""},
		{"two headers", []string{"Bearer good-api1", "Bearer good-api1"}, 400, "invalid_request",
			`Bearer realm="orgauth", error="invalid_request", error_description="send one Authorization header"`, ""},
		{"not valid for any audience", []string{"Bearer forged"}, 401, "invalid_token",
			`Bearer realm="orgauth", error="invalid_token", error_description="not for this API"`, ""},
		{"revoked", []string{"Bearer good-api2"}, 401, "invalid_token",
			`Bearer realm="orgauth", error="invalid_token", error_description="the access token has been revoked"`, ""},
		{"revocations unreadable", []string{"Bearer good-api3"}, 503, "", "", ""},
		{"keys unreadable", []string{"Bearer keys-down"}, 503, "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/userinfo", nil)
			for _, h := range tc.headers {
				r.Header.Add("Authorization", h)
			}
			c, err := a.Authenticate(context.Background(), r)
			if tc.status == 0 {
				if err != nil || c.ID != tc.jti {
					t.Fatalf("Authenticate = %+v, %v; want jti %s", c, err, tc.jti)
				}
				return
			}
			var e *bearer.Error
			if !errors.As(err, &e) {
				t.Fatalf("Authenticate error = %v, want *bearer.Error", err)
			}
			if e.Status != tc.status || e.Code != tc.code || e.WWWAuthenticate() != tc.www {
				t.Fatalf("got %d %q %q, want %d %q %q", e.Status, e.Code, e.WWWAuthenticate(), tc.status, tc.code, tc.www)
			}
			if c.ID != "" {
				t.Errorf("claims returned with an error: %+v", c)
			}
		})
	}
}

func TestErrorValues(t *testing.T) {
	e := bearer.InsufficientScope("openid", `needs "openid"\`)
	if e.Status != http.StatusForbidden || e.WWWAuthenticate() != `Bearer realm="orgauth", error="insufficient_scope", error_description="needs openid", scope="openid"` {
		t.Errorf("InsufficientScope = %d %s", e.Status, e.WWWAuthenticate())
	}
	r := bearer.Refuse("the user is gone")
	if r.Status != 401 || r.Code != bearer.CodeInvalidToken || r.Error() == "" {
		t.Errorf("Refuse = %+v", r)
	}
	cause := errors.New("kid unknown")
	wrapped := &bearer.Error{Status: 401, Code: bearer.CodeInvalidToken, Cause: cause}
	if !errors.Is(wrapped, cause) || wrapped.Error() == "" {
		t.Errorf("Error does not wrap its cause: %v", wrapped)
	}
	if got := (&bearer.Error{Status: 401, Code: bearer.CodeInvalidToken}).WWWAuthenticate(); got != `Bearer realm="orgauth", error="invalid_token"` {
		t.Errorf("challenge without description = %s", got)
	}
}

func TestDefaultsAndToken(t *testing.T) {
	a := bearer.New(fakeVerifier{}, fakeRevocations{}, bearer.Config{}, time.Now)
	r := httptest.NewRequest("GET", "/", nil)
	_, err := a.Token(r)
	var e *bearer.Error
	if !errors.As(err, &e) || e.Description != "a bearer access token is required" {
		t.Fatalf("Token without header = %v", err)
	}
	r.Header.Set("Authorization", "Bearer good-x")
	if raw, err := a.Token(r); raw != "good-x" || err != nil {
		t.Fatalf("Token = %q, %v", raw, err)
	}
	// No audiences: no token verifies.
	if _, err := a.Verify(context.Background(), "good-x"); !errors.As(err, &e) || e.Description != "the access token is invalid or expired" {
		t.Fatalf("Verify with no audiences = %v", err)
	}
}
