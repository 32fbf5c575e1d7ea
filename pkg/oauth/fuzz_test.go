package oauth

import (
	"encoding/base64"
	"errors"
	"mime"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"orgauth/pkg/domain"
)

// Run briefly by make test and for longer by make fuzz. The seeds here and
// under testdata/fuzz are the committed corpus.

// refusal checks that err is an OAuth error of the codes the parsers use,
// with a 4xx status.
func refusal(t *testing.T, err error) *Error {
	t.Helper()
	var oe *Error
	if !errors.As(err, &oe) {
		t.Fatalf("refused with %v, not an *oauth.Error", err)
	}
	if (oe.Code != "invalid_request" && oe.Code != "invalid_client") || oe.Status < 400 || oe.Status > 499 {
		t.Fatalf("refused with %s %d", oe.Code, oe.Status)
	}
	return oe
}

// The token endpoint's form parser accepts only a urlencoded body without a
// query string, each parameter at most once, no empty value kept; a
// refusal is invalid_request and never repeats a parameter name that is
// not one of ours.
func FuzzParseForm(f *testing.F) {
	for _, s := range []struct{ ctype, query, body string }{
		{"application/x-www-form-urlencoded", "", "grant_type=client_credentials&client_id=abc&client_secret=s&audience=https%3A%2F%2Fapi.example.com"},
		{"application/x-www-form-urlencoded; charset=utf-8", "", "grant_type=authorization_code&code=x&code_verifier=y&redirect_uri=https%3A%2F%2Fa%2Fcb"},
		{"application/x-www-form-urlencoded", "", "scope=a&scope=b"},
		{"application/x-www-form-urlencoded", "", "Your+session+expired=1&Your+session+expired=2"},
		{"application/x-www-form-urlencoded", "code=x", "grant_type=a"},
		{"application/json", "", `{"grant_type":"client_credentials"}`},
		{"application/x-www-form-urlencoded", "", "a=%zz"},
		{"application/x-www-form-urlencoded", "", "a=&b=1;c=2"},
		{"", "", ""},
	} {
		f.Add(s.ctype, s.query, s.body)
	}
	f.Fuzz(func(t *testing.T, ctype, query, body string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ctype)
		form, err := ParseForm(r)
		if err != nil {
			oe := refusal(t, err)
			if name, ok := strings.CutPrefix(oe.Description, "parameter "); ok {
				if name, _ = strings.CutSuffix(name, " is repeated"); !knownParameters[name] {
					t.Fatalf("description %q repeats a parameter name that is not ours", oe.Description)
				}
			}
			return
		}
		if mt, _, _ := mime.ParseMediaType(ctype); mt != "application/x-www-form-urlencoded" {
			t.Fatalf("accepted content type %q", ctype)
		}
		if query != "" || len(body) > MaxFormBytes {
			t.Fatalf("accepted a query string %q or a body of %d bytes", query, len(body))
		}
		values, perr := url.ParseQuery(body)
		if perr != nil {
			t.Fatalf("accepted malformed body %q", body)
		}
		for name, v := range form {
			if v == "" || len(values[name]) != 1 || values[name][0] != v {
				t.Fatalf("parameter %q = %q, body %q", name, v, body)
			}
		}
	})
}

// Client authentication accepts one method: Basic with a valid client id
// and a secret, or client_id (and client_secret) in the body. What it
// accepts names a client id that can be a table key.
func FuzzClientAuthentication(f *testing.F) {
	basic := func(id, secret string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id)+":"+url.QueryEscape(secret)))
	}
	for _, s := range []struct{ authz, id, secret string }{
		{basic("client-1", "s3cret"), "", ""},
		{basic("client-1", "s3cret"), "client-1", ""},
		{basic("client-1", "s3cret"), "client-2", ""},
		{basic("client-1", "s3cret"), "", "other"},
		{"", "client-1", "s3cret"},
		{"", "client-1", ""},
		{"", "", "s3cret"},
		{"Bearer abc", "client-1", ""},
		{"Basic !!!", "", ""},
		{"Basic " + base64.StdEncoding.EncodeToString([]byte("nocolon")), "", ""},
		{basic("client\x00", "x"), "", ""},
		{basic(strings.Repeat("a", 300), "x"), "", ""},
		{"basic " + base64.StdEncoding.EncodeToString([]byte("a%zz:b")), "", ""},
	} {
		f.Add(s.authz, s.id, s.secret)
	}
	f.Fuzz(func(t *testing.T, authz, id, secret string) {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", nil)
		if authz != "" {
			r.Header.Set("Authorization", authz)
		}
		form := Form{}
		if id != "" {
			form["client_id"] = id
		}
		if secret != "" {
			form["client_secret"] = secret
		}
		creds, err := ClientAuthentication(r, form)
		if err != nil {
			refusal(t, err)
			return
		}
		if !domain.ValidID(creds.ID) {
			t.Fatalf("accepted client id %q", creds.ID)
		}
		switch creds.Method {
		case "client_secret_basic":
			if authz == "" || creds.Secret == "" || secret != "" || (id != "" && id != creds.ID) {
				t.Fatalf("Basic accepted with %+v from %q, body id %q secret %q", creds, authz, id, secret)
			}
		case "client_secret_post":
			if authz != "" || creds.Secret != secret || creds.ID != id || secret == "" {
				t.Fatalf("post accepted with %+v", creds)
			}
		case "none":
			if authz != "" || creds.Secret != "" || secret != "" || creds.ID != id {
				t.Fatalf("none accepted with %+v", creds)
			}
		default:
			t.Fatalf("method %q", creds.Method)
		}
	})
}

// formParams is url.ParseQuery with repeats refused: whatever the body, it
// refuses what ParseQuery refuses or finds repeated, and otherwise gives
// ParseQuery's parameters.
func FuzzFormParamsIsParseQuery(f *testing.F) {
	for _, body := range []string{
		"grant_type=client_credentials&client_id=abc&client_secret=s&audience=https%3A%2F%2Fapi.example.com",
		"a=1&&b=2&", "a", "=x", "a=&a=", "a=1;b=2", "a=%zz", "%zz=1", "a+b=c+d&e=%20", "a=1&a=2", "a=%", "&&&", "a==b",
		"a=1" + strings.Repeat("&", 9999), "a=1" + strings.Repeat("&", 10000), // ParseQuery's limit, and one over
	} {
		f.Add(body)
	}
	f.Fuzz(func(t *testing.T, body string) {
		got, err := formParams([]byte(body))
		want, qerr := url.ParseQuery(body)
		repeated := false
		for _, vs := range want {
			repeated = repeated || len(vs) > 1
		}
		if qerr != nil || repeated {
			if err == nil {
				t.Fatalf("%q accepted: %v (ParseQuery: %v, %v)", body, got, want, qerr)
			}
			refusal(t, err)
			return
		}
		if err != nil {
			t.Fatalf("%q refused (%v); ParseQuery gives %v", body, err, want)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %v, ParseQuery %v", body, got, want)
		}
		for name, vs := range want {
			if v, ok := got[name]; !ok || v != vs[0] {
				t.Fatalf("%q: %v, ParseQuery %v", body, got, want)
			}
		}
	})
}
