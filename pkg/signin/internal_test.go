package signin

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
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

// The provider signs in only valid addresses of its verified domains: the
// address is normalized before its domain is compared, so case, IDNA and
// look-alike tricks neither add nor remove a domain.
func TestOrgSSOHasDomain(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	org := domain.Organization{ID: "o1",
		SSO: &domain.SSO{Domains: []string{"acme.example", "xn--bcher-kva.example", "pending.example"}},
		DomainClaims: []domain.DomainClaim{{Domain: "acme.example", VerifiedAt: now, Method: "dns"},
			{Domain: "xn--bcher-kva.example", VerifiedAt: now, Method: "dns"}, {Domain: "pending.example"}}}
	sso := &orgSSO{SSO: org.SSO, org: org}
	for in, want := range map[string]bool{
		"alice@acme.example": true, "alice@ACME.example": true, "bob@bücher.example": true,
		"alice@\u212Aacme.example": false, "alice@evil.example@acme.example": false,
		`"x@evil.example"@acme.example`: false, "alice@evil.example": false, "a b@acme.example": false,
		"carol@pending.example": false, // in the SSO's domains, never verified
	} {
		if got := sso.HasDomain(in); got != want {
			t.Errorf("HasDomain(%q) = %v", in, got)
		}
	}
	var none *orgSSO
	if none.HasDomain("alice@acme.example") {
		t.Error("no provider has no domain")
	}
}

// A sealed state gives back the application's own values byte for byte,
// invalid UTF-8 included, and no one else's key opens it.
func TestSealedStateRoundTrip(t *testing.T) {
	aead, err := newStateAEAD(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	s := &Service{cfg: Config{Issuer: "https://auth.example.com"}, stateAEAD: aead}
	now := time.Unix(1_700_000_000, 0).UTC()
	stx := domain.SSOTransaction{State: "st1", OrganizationID: "o1", ClientID: "c1", Nonce: "n1", BindingHash: []byte{1, 2, 3},
		CreatedAt: now, ExpiresAt: now.Add(10 * time.Minute), Issuer: "https://idp.example"}
	tx := domain.LoginTransaction{ClientID: "c1", RedirectURI: "https://app.example/cb", State: "a\xffb\xc3", Nonce: "\xfe",
		CodeChallenge: "ch", Scopes: []string{"openid"}, LoginHint: "h\x80", MaxAge: -1, CreatedAt: now}
	sealed, err := s.seal(stx, tx)
	if err != nil {
		t.Fatal(err)
	}
	gotStx, gotTx, err := s.open(sealed, now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if gotTx.State != tx.State || gotTx.Nonce != tx.Nonce || gotTx.LoginHint != tx.LoginHint || gotTx.RedirectURI != tx.RedirectURI ||
		gotStx.State != "st1" || gotStx.OrganizationID != "o1" || gotStx.RedirectURI != "https://auth.example.com/callback/o1" {
		t.Fatalf("opened %+v %+v", gotStx, gotTx)
	}
	other, _ := newStateAEAD(append(make([]byte, 31), 1))
	if _, _, err := (&Service{stateAEAD: other}).open(sealed, now); err == nil {
		t.Fatal("another key opened the state")
	}
}
