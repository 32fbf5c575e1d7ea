package signin_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"orgauth/pkg/domain"
	"orgauth/pkg/signin"
)

// fakeStore holds one application and the login transactions created; the
// methods a test does not reach panic through the nil embedded interface.
type fakeStore struct {
	signin.Store
	app domain.Application
	txs map[string]domain.LoginTransaction
}

func (f *fakeStore) GetApplication(_ context.Context, id string) (domain.Application, error) {
	if id != f.app.ClientID {
		return domain.Application{}, domain.ErrNotFound
	}
	return f.app, nil
}

func (f *fakeStore) GetOrganization(context.Context, string) (domain.Organization, error) {
	return domain.Organization{}, domain.ErrNotFound
}

func (f *fakeStore) CreateLoginTransaction(_ context.Context, tx domain.LoginTransaction) error {
	f.txs[tx.ID] = tx
	return nil
}

func (f *fakeStore) GetLoginTransaction(_ context.Context, id string, _ time.Time) (domain.LoginTransaction, error) {
	tx, ok := f.txs[id]
	if !ok {
		return tx, domain.ErrNotFound
	}
	return tx, nil
}

func (f *fakeStore) DeleteSession(context.Context, []byte) error { return domain.ErrNotFound }
func (f *fakeStore) GetSession(context.Context, []byte, time.Time) (domain.Session, error) {
	return domain.Session{}, domain.ErrNotFound
}

type noKeys struct{}

func (noKeys) Published(context.Context) (jose.JSONWebKeySet, error) {
	return jose.JSONWebKeySet{}, nil
}

type noUpstream struct{ signin.UpstreamClient }

const (
	issuer   = "https://auth.example.com"
	redirect = "https://spa.example.com/cb"
)

func newService(t *testing.T) (*signin.Service, *fakeStore) {
	t.Helper()
	st := &fakeStore{txs: map[string]domain.LoginTransaction{}, app: domain.Application{
		ClientID: "spa1", OrganizationID: "org1", Name: "SPA", Type: domain.ClientSPA,
		CallbackURLs: []string{redirect}, LogoutURLs: []string{"https://spa.example.com/bye"}, Scopes: []string{"read"},
	}}
	s, err := signin.New(signin.Deps{Store: st, Keys: noKeys{}, Upstream: noUpstream{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now},
		signin.Config{Issuer: issuer, Audiences: []string{"https://api.example.com"}, DefaultAudience: "https://api.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

func query(change func(url.Values)) string {
	sum := sha256.Sum256([]byte("verifier"))
	q := url.Values{"client_id": {"spa1"}, "redirect_uri": {redirect}, "response_type": {"code"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}, "state": {"s1"}}
	if change != nil {
		change(q)
	}
	return q.Encode()
}

// Requests whose client or redirect_uri are in doubt are refused to the
// user; once both are good, errors go back to the application.
func TestAuthorizeOutcomes(t *testing.T) {
	s, _ := newService(t)
	for name, tc := range map[string]struct {
		query        string
		refusal      string // the Refusal's title, or "" for an outcome
		redirectErr  string // error= of a Redirect
		wantLoginTx  bool
		wantStatus   int
		wantNoCookie bool
	}{
		"malformed":           {query: "%zz", refusal: "Invalid request", wantStatus: 400},
		"no client":           {query: query(func(q url.Values) { q.Del("client_id") }), refusal: "Invalid request", wantStatus: 400},
		"unknown client":      {query: query(func(q url.Values) { q.Set("client_id", "nope") }), refusal: "Unknown application", wantStatus: 400},
		"unregistered uri":    {query: query(func(q url.Values) { q.Set("redirect_uri", redirect+"/x") }), refusal: "Invalid redirect URI", wantStatus: 400},
		"repeated client":     {query: query(nil) + "&client_id=spa1", refusal: "Invalid request", wantStatus: 400},
		"no PKCE":             {query: query(func(q url.Values) { q.Del("code_challenge") }), redirectErr: "invalid_request"},
		"plain PKCE":          {query: query(func(q url.Values) { q.Set("code_challenge_method", "plain") }), redirectErr: "invalid_request"},
		"implicit":            {query: query(func(q url.Values) { q.Set("response_type", "token") }), redirectErr: "unsupported_response_type"},
		"foreign scope":       {query: query(func(q url.Values) { q.Set("scope", "openid write") }), redirectErr: "invalid_scope"},
		"unknown audience":    {query: query(func(q url.Values) { q.Set("audience", "https://other") }), redirectErr: "invalid_target"},
		"prompt=none, no SSO": {query: query(func(q url.Values) { q.Set("prompt", "none") }), redirectErr: "login_required"},
		"good":                {query: query(nil), wantLoginTx: true},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := s.Authorize(context.Background(), tc.query, signin.Browser{SourceIP: "192.0.2.1"})
			var refusal *signin.Refusal
			if tc.refusal != "" {
				if !errors.As(err, &refusal) || refusal.Title != tc.refusal || refusal.Status != tc.wantStatus {
					t.Fatalf("want refusal %q, got %+v, %v", tc.refusal, res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			switch o := res.Outcome.(type) {
			case signin.Redirect:
				u, _ := url.Parse(o.URL)
				q := u.Query()
				if tc.redirectErr == "" || q.Get("error") != tc.redirectErr || q.Get("state") != "s1" || q.Get("iss") != issuer ||
					!strings.HasPrefix(o.URL, redirect+"?") {
					t.Fatalf("redirect %s, want error %q", o.URL, tc.redirectErr)
				}
			case signin.Page:
				if !tc.wantLoginTx || o.Login == nil || o.Login.Transaction == "" || o.Login.EmailOnly {
					t.Fatalf("page %+v", o)
				}
				if len(res.Cookies) != 1 || res.Cookies[0].Name != signin.CSRFCookie || res.Cookies[0].Value != o.Login.CSRFToken {
					t.Fatalf("the CSRF token of the form must be the cookie's: %+v", res.Cookies)
				}
			default:
				t.Fatalf("outcome %T", o)
			}
		})
	}
}

// The login form is refused before any password is read when it comes
// from another site, names no live transaction, or fails the CSRF check.
func TestLoginRefusals(t *testing.T) {
	s, _ := newService(t)
	res, err := s.Authorize(context.Background(), query(nil), signin.Browser{})
	if err != nil {
		t.Fatal(err)
	}
	form := res.Outcome.(signin.Page).Login
	good := signin.LoginValues{Transaction: form.Transaction, CSRFToken: form.CSRFToken, Email: "a@example.com", Password: "pw", HasPassword: true}
	browser := signin.Browser{Cookies: signin.Cookies{CSRF: form.CSRFToken}}
	for name, tc := range map[string]struct {
		in     signin.Login
		status int
		title  string
	}{
		"other site":       {signin.Login{Origin: "https://evil.example", Form: good, Browser: browser}, 403, "Sign-in refused"},
		"no transaction":   {signin.Login{Form: signin.LoginValues{CSRFToken: form.CSRFToken}, Browser: browser}, 400, "Sign-in expired"},
		"gone transaction": {signin.Login{Form: signin.LoginValues{Transaction: "x", CSRFToken: form.CSRFToken}, Browser: browser}, 400, "Sign-in expired"},
		"no CSRF cookie":   {signin.Login{Origin: issuer, Form: good}, 403, "Sign-in refused"},
		"other CSRF token": {signin.Login{Form: good, Browser: signin.Browser{Cookies: signin.Cookies{CSRF: strings.Repeat("a", 43)}}}, 403, "Sign-in refused"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := s.Login(context.Background(), tc.in)
			var refusal *signin.Refusal
			if !errors.As(err, &refusal) || refusal.Status != tc.status || refusal.Title != tc.title {
				t.Fatalf("want %d %q, got %v", tc.status, tc.title, err)
			}
		})
	}
}

// Logout returns only to a registered logout URL, and always drops the
// session cookie once the request is good.
func TestLogoutOutcomes(t *testing.T) {
	s, _ := newService(t)
	for name, tc := range map[string]struct {
		query   string
		refused bool
		to      string // a Redirect's URL; "" for the signed-out page
	}{
		"no target":       {query: ""},
		"registered":      {query: "client_id=spa1&post_logout_redirect_uri=https://spa.example.com/bye&state=x", to: "https://spa.example.com/bye?state=x"},
		"unregistered":    {query: "client_id=spa1&post_logout_redirect_uri=https://evil.example/", refused: true},
		"no application":  {query: "post_logout_redirect_uri=https://spa.example.com/bye", refused: true},
		"unknown app":     {query: "client_id=nope&post_logout_redirect_uri=https://spa.example.com/bye", refused: true},
		"repeated":        {query: "client_id=spa1&client_id=spa1", refused: true},
		"not an ID token": {query: "id_token_hint=abc", refused: true},
		"malformed query": {query: "%zz", refused: true},
	} {
		t.Run(name, func(t *testing.T) {
			res, err := s.Logout(context.Background(), tc.query, signin.Browser{Cookies: signin.Cookies{Session: "s"}})
			var refusal *signin.Refusal
			if tc.refused {
				if !errors.As(err, &refusal) || refusal.Status != 400 || len(res.Cookies) != 0 {
					t.Fatalf("want a refusal, got %+v, %v", res, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Cookies) != 1 || res.Cookies[0].Name != signin.SessionCookie || res.Cookies[0].MaxAge >= 0 {
				t.Fatalf("cookies %+v", res.Cookies)
			}
			switch o := res.Outcome.(type) {
			case signin.Redirect:
				if o.URL != tc.to {
					t.Fatalf("redirect %s, want %s", o.URL, tc.to)
				}
			case signin.Page:
				if tc.to != "" || o.Title != "Signed out" {
					t.Fatalf("page %+v", o)
				}
			}
		})
	}
}

func TestParseCallback(t *testing.T) {
	p, err := signin.ParseCallback("state=s&code=c&iss=https%3A%2F%2Fidp.example", "org-1")
	if err != nil || p != (signin.CallbackParams{State: "s", Code: "c", Iss: "https://idp.example", Org: "org-1"}) {
		t.Fatalf("%+v %v", p, err)
	}
	var refusal *signin.Refusal
	if _, err := signin.ParseCallback("state=s&code=c&code=d", ""); !errors.As(err, &refusal) || refusal.Status != 400 {
		t.Fatalf("repeated code: %v", err)
	}
}

// Every dependency is required.
func TestNewRequiresDependencies(t *testing.T) {
	if _, err := signin.New(signin.Deps{}, signin.Config{}); err == nil {
		t.Fatal("New without dependencies")
	}
	if _, err := signin.NewCallback(signin.Deps{Store: &fakeStore{}, Keys: noKeys{}, Upstream: noUpstream{},
		Log: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: time.Now}, nil, signin.Config{}); err == nil {
		t.Fatal("NewCallback without a secret opener")
	}
}
