package applications

import (
	"encoding/json"
	"errors"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"orgauth/pkg/domain"
)

// Run briefly by make test and for longer by make fuzz. The seeds here and
// under testdata/fuzz are the committed corpus.

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
		if err := a.Validate(); err != nil {
			checkRefusal(t, body, err)
			return
		}
		if a.Type != domain.ClientSPA && a.Type != domain.ClientM2M {
			t.Fatalf("%q: accepted type %q", body, a.Type)
		}
		for _, u := range slices.Concat(a.CallbackURLs, a.LogoutURLs) {
			if (domain.Application{Name: "x", Type: domain.ClientSPA, CallbackURLs: []string{u}}).Validate() != nil {
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
	var fe *domain.FieldError
	if !errors.As(err, &fe) {
		return // a problem with a fixed detail
	}
	name, _, _ := strings.Cut(fe.Field, "[")
	if name != "body" && name != "type" && name != "grace_period" && !slices.Contains(settable, name) {
		t.Fatalf("%q: refused naming %q, which is not a field of the API", body, fe.Field)
	}
}

func jsonValid(s string) bool { return json.Valid([]byte(s)) }
