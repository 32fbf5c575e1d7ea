package oauth_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"orgauth/pkg/oauth"
)

func TestErrorConstructors(t *testing.T) {
	for _, tc := range []struct {
		err    *oauth.Error
		code   string
		status int
	}{
		{oauth.InvalidRequest("d"), "invalid_request", 400},
		{oauth.InvalidClient("d"), "invalid_client", 401},
		{oauth.InvalidGrant("d"), "invalid_grant", 400},
		{oauth.UnauthorizedClient("d"), "unauthorized_client", 400},
		{oauth.UnsupportedGrantType("d"), "unsupported_grant_type", 400},
		{oauth.InvalidScope("d"), "invalid_scope", 400},
		{oauth.InvalidTarget("d"), "invalid_target", 400},
		{oauth.TooManyRequests("d"), "invalid_client", 429},
	} {
		if tc.err.Code != tc.code || tc.err.Status != tc.status || tc.err.Description != "d" || !strings.Contains(tc.err.Error(), tc.code) {
			t.Errorf("%s: got %+v", tc.code, tc.err)
		}
	}
	cause := errors.New("dynamo timeout")
	e := oauth.InvalidRequest("d").WithCause(cause)
	if !errors.Is(e, cause) || !strings.Contains(e.Error(), "d") {
		t.Errorf("WithCause does not wrap: %v", e)
	}
}

func TestWriteError(t *testing.T) {
	for _, tc := range []struct {
		name              string
		err               error
		status            int
		code, www, retry  string
		logged, leaksText bool
	}{
		{"oauth error", oauth.InvalidGrant("the code expired"), 400, "invalid_grant", "", "", false, false},
		{"with challenge and retry", func() error {
			e := oauth.TooManyRequests("slow down")
			e.WWWAuthenticate, e.RetryAfter = oauth.BasicChallenge, 7
			return e
		}(), 429, "invalid_client", oauth.BasicChallenge, "7", false, false},
		{"wrapped oauth error with cause", errors.Join(oauth.InvalidRequest("bad").WithCause(errors.New("secret detail"))), 400, "invalid_request", "", "", true, false},
		{"internal error", errors.New("secret detail"), 500, "server_error", "", "", true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			w := httptest.NewRecorder()
			oauth.WriteError(w, httptest.NewRequest("POST", "/oauth/token", nil), slog.New(slog.NewJSONHandler(&logs, nil)), tc.err)
			var body struct{ Error, ErrorDescription string }
			_ = json.Unmarshal(w.Body.Bytes(), &body)
			if w.Code != tc.status || body.Error != tc.code {
				t.Fatalf("got %d %s, want %d %s", w.Code, w.Body, tc.status, tc.code)
			}
			if w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("Pragma") != "no-cache" {
				t.Errorf("no-store headers missing: %v", w.Header())
			}
			if w.Header().Get("WWW-Authenticate") != tc.www || w.Header().Get("Retry-After") != tc.retry {
				t.Errorf("headers = %v", w.Header())
			}
			if strings.Contains(w.Body.String(), "secret detail") {
				t.Errorf("the body leaks the cause: %s", w.Body)
			}
			if (logs.Len() > 0) != tc.logged {
				t.Errorf("logged = %q, want logged %v", logs.String(), tc.logged)
			}
		})
	}
}
