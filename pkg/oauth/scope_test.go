package oauth_test

import (
	"slices"
	"testing"

	"orgauth/pkg/oauth"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want oauth.Scope
		str  string
	}{
		{"", nil, ""},
		{"   ", nil, ""},
		{"openid", oauth.Scope{"openid"}, "openid"},
		{"openid  email openid", oauth.Scope{"openid", "email"}, "openid email"},
		{" read:a write:a ", oauth.Scope{"read:a", "write:a"}, "read:a write:a"},
		{"Read read", oauth.Scope{"Read", "read"}, "Read read"}, // case-sensitive
		{"a\tb", oauth.Scope{"a\tb"}, "a\tb"},                   // only %x20 delimits
	} {
		got := oauth.ParseScope(tc.in)
		if !slices.Equal(got, tc.want) {
			t.Errorf("ParseScope(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got.String() != tc.str {
			t.Errorf("ParseScope(%q).String() = %q, want %q", tc.in, got.String(), tc.str)
		}
	}
}

func TestScopeSetOperations(t *testing.T) {
	s := oauth.ParseScope("openid email read:a")
	if !s.Contains("email") || s.Contains("profile") || s.Contains("") {
		t.Errorf("Contains is wrong for %q", s)
	}
	for _, tc := range []struct {
		name    string
		allowed [][]string
		bad     string
	}{
		{"all in one list", [][]string{{"read:a", "email", "openid"}}, ""},
		{"spread over two lists", [][]string{{"openid", "email"}, {"read:a"}}, ""},
		{"first missing named", [][]string{{"openid"}}, "email"},
		{"no lists", nil, "openid"},
	} {
		bad, ok := s.NotIn(tc.allowed...)
		if bad != tc.bad || ok != (tc.bad != "") {
			t.Errorf("%s: NotIn = %q, %v; want %q", tc.name, bad, ok, tc.bad)
		}
	}
	if got := s.Intersect([]string{"read:a", "openid", "other"}); !slices.Equal(got, oauth.Scope{"openid", "read:a"}) {
		t.Errorf("Intersect = %q, want [openid read:a] in s's order", got)
	}
	if got := s.Intersect(nil); len(got) != 0 {
		t.Errorf("Intersect(nil) = %q, want empty", got)
	}
}
