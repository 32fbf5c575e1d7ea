package oauth_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"orgauth/pkg/oauth"
)

func post(target, ctype, body string) *http.Request {
	r := httptest.NewRequest("POST", target, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	return r
}

const formType = "application/x-www-form-urlencoded"

func wantInvalidRequest(t *testing.T, err error) {
	t.Helper()
	var e *oauth.Error
	if !errors.As(err, &e) || e.Code != "invalid_request" || e.Status != 400 {
		t.Fatalf("error = %v, want invalid_request 400", err)
	}
}

func TestParseForm(t *testing.T) {
	for _, tc := range []struct {
		name, target, ctype, body string
		want                      map[string]string // nil: invalid_request
	}{
		{"ok", "/t", formType, "a=1&b=&c=x+y", map[string]string{"a": "1", "c": "x y"}},
		{"charset param", "/t", formType + "; charset=UTF-8", "a=1", map[string]string{"a": "1"}},
		{"json", "/t", "application/json", `{"a":1}`, nil},
		{"no content type", "/t", "", "a=1", nil},
		{"query string", "/t?a=1", formType, "b=2", nil},
		{"repeated", "/t", formType, "a=1&a=2", nil},
		{"malformed", "/t", formType, "a=%zz", nil},
		{"too large", "/t", formType, "a=" + strings.Repeat("x", oauth.MaxFormBytes), nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := oauth.ParseForm(post(tc.target, tc.ctype, tc.body))
			if tc.want == nil {
				wantInvalidRequest(t, err)
				return
			}
			if err != nil || len(f) != len(tc.want) {
				t.Fatalf("ParseForm = %v, %v; want %v", f, err, tc.want)
			}
			for k, v := range tc.want {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
		})
	}
}

func TestReadFormBody(t *testing.T) {
	// Empty values are kept and the query string is not the body's concern.
	p, err := oauth.ReadFormBody(post("/login?x=1", formType, "email=a%40b.example&password="))
	if err != nil || p["email"] != "a@b.example" {
		t.Fatalf("ReadFormBody = %v, %v", p, err)
	}
	if v, ok := p["password"]; !ok || v != "" {
		t.Errorf("an empty field was dropped: %v", p)
	}
	_, err = oauth.ReadFormBody(post("/login", "text/plain", "a=1"))
	wantInvalidRequest(t, err)
	_, err = oauth.ReadFormBody(post("/login", formType, "a=1&a=1"))
	wantInvalidRequest(t, err)
	r := post("/login", formType, "")
	r.Body = errReader{}
	_, err = oauth.ReadFormBody(r)
	wantInvalidRequest(t, err)
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }
func (errReader) Close() error             { return nil }

func basic(id, secret string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(id+":"+secret))
}

func TestClientAuthentication(t *testing.T) {
	for _, tc := range []struct {
		name   string
		authz  string
		body   string
		method string // "" : error
		id     string
		code   string
		www    bool
	}{
		{"basic", basic("app1", "s%3Acret"), "", "client_secret_basic", "app1", "", false},
		{"basic with matching body id", basic("app1", "s"), "client_id=app1", "client_secret_basic", "app1", "", false},
		{"post", "", "client_id=app1&client_secret=s", "client_secret_post", "app1", "", false},
		{"none", "", "client_id=app1", "none", "app1", "", false},
		{"nothing", "", "", "", "", "invalid_client", false},
		{"post without id", "", "client_secret=s", "", "", "invalid_client", false},
		{"bad id in body", "", "client_id=" + strings.Repeat("x", 300), "", "", "invalid_client", false},
		{"bearer scheme", "Bearer x", "", "", "", "invalid_client", true},
		{"two methods", basic("app1", "s"), "client_secret=s", "", "", "invalid_request", false},
		{"not base64", "Basic !!!", "", "", "", "invalid_client", true},
		{"no colon", "Basic " + base64.StdEncoding.EncodeToString([]byte("app1")), "", "", "", "invalid_client", true},
		{"empty secret", basic("app1", ""), "", "", "", "invalid_client", true},
		{"bad escape in id", basic("a%zz", "s"), "", "", "", "invalid_client", true},
		{"bad escape in secret", basic("app1", "%zz"), "", "", "", "invalid_client", true},
		{"body id differs", basic("app1", "s"), "client_id=app2", "", "", "invalid_request", false},
		{"id no application can have", basic(strings.Repeat("x", 300), "s"), "", "", "", "invalid_client", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := post("/oauth/token", formType, tc.body)
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			f, err := oauth.ParseForm(r)
			if err != nil {
				t.Fatal(err)
			}
			cc, err := oauth.ClientAuthentication(r, f)
			if tc.method != "" {
				if err != nil || cc.Method != tc.method || cc.ID != tc.id {
					t.Fatalf("ClientAuthentication = %+v, %v; want %s %s", cc, err, tc.method, tc.id)
				}
				return
			}
			var e *oauth.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("ClientAuthentication error = %v, want %s", err, tc.code)
			}
			if (e.WWWAuthenticate == oauth.BasicChallenge) != tc.www {
				t.Errorf("WWW-Authenticate = %q, want Basic challenge %v", e.WWWAuthenticate, tc.www)
			}
		})
	}
}

// A JSON body (as Auth0 accepts on /oauth/token) gives the same Form as the
// form encoding, under the same limits: no query string, the size bound, no
// repeated parameter, and only string values.
func TestParseBodyJSON(t *testing.T) {
	const jsonType = "application/json"
	for _, tc := range []struct {
		name, target, ctype, body string
		want                      map[string]string // nil: invalid_request
	}{
		{"json", "/t", jsonType, `{"grant_type":"client_credentials","audience":"https://api","empty":""}`,
			map[string]string{"grant_type": "client_credentials", "audience": "https://api"}},
		{"json charset", "/t", jsonType + "; charset=utf-8", ` { "a" : "x y" } `, map[string]string{"a": "x y"}},
		{"form still", "/t", formType, "a=1", map[string]string{"a": "1"}},
		{"escapes", "/t", jsonType, `{"a":"\u00e9\n"}`, map[string]string{"a": "é\n"}},
		{"other type", "/t", "text/plain", `{"a":"1"}`, nil},
		{"no content type", "/t", "", `{"a":"1"}`, nil},
		{"query string", "/t?a=1", jsonType, `{"b":"2"}`, nil},
		{"repeated", "/t", jsonType, `{"a":"1","a":"1"}`, nil},
		{"number", "/t", jsonType, `{"a":1}`, nil},
		{"null", "/t", jsonType, `{"a":null}`, nil},
		{"bool", "/t", jsonType, `{"a":true}`, nil},
		{"array", "/t", jsonType, `{"a":["1"]}`, nil},
		{"object", "/t", jsonType, `{"a":{"b":"1"}}`, nil},
		{"not an object", "/t", jsonType, `["a"]`, nil},
		{"trailing", "/t", jsonType, `{"a":"1"}{"b":"2"}`, nil},
		{"truncated", "/t", jsonType, `{"a":"1"`, nil},
		{"empty", "/t", jsonType, ``, nil},
		{"too large", "/t", jsonType, `{"a":"` + strings.Repeat("x", oauth.MaxFormBytes) + `"}`, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := oauth.ParseBody(post(tc.target, tc.ctype, tc.body))
			if tc.want == nil {
				wantInvalidRequest(t, err)
				return
			}
			if err != nil || len(f) != len(tc.want) {
				t.Fatalf("ParseBody = %v, %v; want %v", f, err, tc.want)
			}
			for k, v := range tc.want {
				if f.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, f.Get(k), v)
				}
			}
		})
	}
}

// Two Authorization headers are ambiguous: the request is refused, whichever
// of them would have authenticated.
func TestClientAuthenticationRefusesTwoAuthorizationHeaders(t *testing.T) {
	r := httptest.NewRequest("POST", "/oauth/token", nil)
	r.Header.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("a:b")))
	r.Header.Add("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte("c:d")))
	_, err := oauth.ClientAuthentication(r, oauth.Form{})
	var oe *oauth.Error
	if !errors.As(err, &oe) || oe.Code != "invalid_request" {
		t.Fatalf("two Authorization headers: %v", err)
	}
}
