package applications

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"orgauth/pkg/domain"
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
			var fe *fieldError
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
		case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
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
		case u.Scheme != "https" && !(u.Scheme == "http" && isLoopback(u.Hostname())):
			t.Fatalf("accepted %q: neither https nor http on loopback", s)
		case u.Scheme+"://"+u.Host != s:
			t.Fatalf("accepted %q: not in the form scheme://host[:port]", s)
		}
	})
}

// The management API's JSON decoding: one JSON object with unique members,
// read into an application. It never panics; an accepted body is valid
// JSON and yields an application that passes validation as a whole; a
// refused one names a field of the API or "body", never a member name the
// sender chose.
func FuzzDecodeApplication(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","type":"spa","callback_urls":["https://app.example.com/cb"],"allowed_origins":["https://app.example.com"]}`,
		`{"name":"m","type":"m2m","scopes":["read","write"],"access_token_lifetime":600}`,
		`{"name":"a","type":"spa","name":"b"}`, `{"name":"a","type":"spa","colour":"red"}`, `{"name":null}`,
		`{"name":"a","type":"spa"} {}`, `[]`, `{"grace_period":0}`, `{"name":"\u202e","type":"spa"}`,
		`{"name":"a","type":"spa","callback_urls":null}`, `{"name":"a","type":"spa","access_token_lifetime":1e400}`,
		`{"name":"a","type":"spa","scopes":["a","a"]}`, `{"`, ``, `{"name":"a","type":"other"}`,
	} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, body string, create bool) {
		r := httptest.NewRequest("POST", "/applications", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		obj, err := decodeObject(r)
		if err != nil {
			checkRefusal(t, body, err)
			return
		}
		if !jsonValid(body) {
			t.Fatalf("decoded invalid JSON %q", body)
		}
		a := domain.Application{Name: "existing", Type: domain.ClientSPA}
		if err := obj.apply(&a, create); err != nil {
			checkRefusal(t, body, err)
			return
		}
		if err := checkApplication(a); err != nil {
			checkRefusal(t, body, err)
			return
		}
		if a.Type != domain.ClientSPA && a.Type != domain.ClientM2M {
			t.Fatalf("%q: accepted type %q", body, a.Type)
		}
		for _, u := range slices.Concat(a.CallbackURLs, a.LogoutURLs) {
			if checkRedirectURLs("callback_urls", []string{u}) != nil {
				t.Fatalf("%q: accepted redirect URI %q that the rule refuses", body, u)
			}
		}
		if _, err := obj.gracePeriod(); err == nil && len(obj) > 0 && !(len(obj) == 1 && obj["grace_period"] != nil) {
			t.Fatalf("%q: rotate-secret accepted members other than grace_period", body)
		}
	})
}

// checkRefusal: a field error names a field of the API (possibly indexed)
// or "body".
func checkRefusal(t *testing.T, body string, err error) {
	t.Helper()
	var fe *fieldError
	if !errors.As(err, &fe) {
		return // a problem with a fixed detail
	}
	name, _, _ := strings.Cut(fe.Field, "[")
	if name != "body" && name != "type" && name != "grace_period" && !slices.Contains(settable, name) {
		t.Fatalf("%q: refused naming %q, which is not a field of the API", body, fe.Field)
	}
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }
