package signin

import (
	"slices"
	"testing"

	"orgauth/pkg/domain"
)

// The consent decision: who is asked, and for what.
func TestConsentToAsk(t *testing.T) {
	const aud = "https://api.example.com"
	app := domain.Application{ClientID: "app", CreatedBy: "creator"}
	member := domain.User{ID: "member"}
	creator := domain.User{ID: "creator"}
	requested := domain.ConsentScopes(aud, []string{"openid", "email", "read"})
	approved := &domain.Consent{Scopes: domain.ConsentScopes(aud, []string{"openid", "email", "read"})}
	partial := &domain.Consent{Scopes: domain.ConsentScopes(aud, []string{"openid"})}
	otherAPI := &domain.Consent{Scopes: domain.ConsentScopes("https://other.example.com", []string{"openid", "email", "read"})}
	for _, tc := range []struct {
		name   string
		app    domain.Application
		stack  bool
		user   domain.User
		prompt string
		have   *domain.Consent
		want   []string
	}{
		{"first sign-in asks for all", app, false, member, "", nil, requested},
		{"prompt=none without consent still needs it", app, false, member, "none", nil, requested},
		{"an approved request goes on", app, false, member, "", approved, nil},
		{"a new scope asks for what is new", app, false, member, "", partial, domain.ConsentScopes(aud, []string{"email", "read"})},
		{"a scope approved for another API is not this one", app, false, member, "", otherAPI, domain.ConsentScopes(aud, []string{"read"})},
		{"prompt=consent asks again", app, false, member, "consent", approved, requested},
		{"the creator is not asked", app, false, creator, "consent", nil, nil},
		{"the stack's console is not asked", app, true, member, "consent", nil, nil},
		{"an application without creator asks everyone", domain.Application{ClientID: "x"}, false, domain.User{}, "", nil, requested},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := consentToAsk(tc.app, tc.stack, tc.user, tc.prompt, requested, tc.have); !slices.Equal(got, tc.want) {
				t.Fatalf("asks %v, want %v", got, tc.want)
			}
		})
	}
}

// Only the stack's console is the stack's own client.
func TestStackClient(t *testing.T) {
	s := &Service{}
	if !s.stackClient(domain.Application{ClientID: domain.ConsoleClientID}) || s.stackClient(domain.Application{ClientID: "other"}) {
		t.Fatal("stackClient")
	}
}
