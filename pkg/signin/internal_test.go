package signin

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedirectURLKeepsQueryAndAddsIss(t *testing.T) {
	s := &Service{cfg: Config{Issuer: "https://auth.example.com"}}
	got, _ := url.Parse(s.redirectURL("https://app.example.com/cb?tenant=a#frag", url.Values{"code": {"c1"}, "state": {""}}))
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
