package domain

import (
	"errors"
	"net/url"
	"strings"
	"testing"
)

// Run briefly by make test and for longer by make fuzz. The seeds here and
// under testdata/fuzz are the committed corpus.

var urlSeeds = []string{
	"https://app.example.com/callback", "http://127.0.0.1:8080/cb", "http://localhost/cb", "http://[::1]:3000/cb",
	"http://app.example.com/cb", "https://app.example.com/cb#frag", "https://app.example.com/cb#", "https://*.example.com/cb",
	"https://user:pw@app.example.com/cb", "javascript:alert(1)", "//app.example.com/cb", "https:///cb",
	"HTTPS://APP.EXAMPLE.COM", "https://app.example.com:8443", "http://127.0.0.1.nip.io/cb", "https://app.example.com/\u202ecb",
	"https://app.example.com/a b", "custom.scheme:/cb", "http://localhost.evil.example/cb", "https://app.example.com?x=1",
}

// An accepted redirect URI is absolute, https (http only on a loopback
// host), with a host, no fragment, no userinfo, no wildcard, no space and
// no control character.
func FuzzRedirectURI(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := checkRedirectURLs("callback_urls", []string{s})
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != "callback_urls[0]" {
				t.Fatalf("%q: refused with %v, not a field error of callback_urls[0]", s, err)
			}
			return
		}
		u, perr := url.Parse(s)
		switch {
		case perr != nil || !u.IsAbs() || u.Host == "":
			t.Fatalf("accepted %q: not an absolute URL with a host", s)
		case strings.Contains(s, "#") || u.Fragment != "":
			t.Fatalf("accepted %q: has a fragment", s)
		case u.User != nil:
			t.Fatalf("accepted %q: has userinfo", s)
		case strings.ContainsAny(s, "* ") || hasControl(s):
			t.Fatalf("accepted %q: wildcard, space or control character", s)
		case u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())):
			t.Fatalf("accepted %q: neither https nor http on loopback", s)
		}
	})
}

// An accepted origin is scheme://host[:port] only, lower case, https (http
// only on a loopback host).
func FuzzOrigin(f *testing.F) {
	for _, s := range urlSeeds {
		f.Add(s)
	}
	f.Add("https://app.example.com")
	f.Add("https://app.example.com/")
	f.Add("https://app.example.com?")
	f.Fuzz(func(t *testing.T, s string) {
		if err := checkOrigins([]string{s}); err != nil {
			return
		}
		u, perr := url.Parse(s)
		switch {
		case perr != nil || !u.IsAbs() || u.Host == "":
			t.Fatalf("accepted %q: not an absolute URL with a host", s)
		case u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil || strings.ContainsAny(s, "?#*"):
			t.Fatalf("accepted %q: more than scheme, host and port", s)
		case strings.ToLower(s) != s || hasControl(s):
			t.Fatalf("accepted %q: upper case or control character", s)
		case u.Scheme != "https" && !(u.Scheme == "http" && IsLoopback(u.Hostname())):
			t.Fatalf("accepted %q: neither https nor http on loopback", s)
		case u.Scheme+"://"+u.Host != s:
			t.Fatalf("accepted %q: not in the form scheme://host[:port]", s)
		}
	})
}
