package domain_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"orgauth/pkg/domain"
)

func sampleAPI() domain.API {
	return domain.API{
		Audience: "https://api.example.com",
		Name:     "Example API",
		Scopes: []domain.APIScope{
			{Name: "read", Description: "Read your data", Roles: []domain.Role{domain.RoleMember, domain.RoleAdmin}},
			{Name: "admin:all", Description: "Everything", Roles: []domain.Role{domain.RoleAdmin}},
			{Name: "reserved", Description: "Nobody holds this"},
		},
	}
}

func TestAPIValidate(t *testing.T) {
	if err := sampleAPI().Validate(); err != nil {
		t.Fatal(err)
	}
	for _, aud := range []string{"https://api.example.com", "https://api.example.com/v1", "urn:example:api", "orgauth:management", "http://127.0.0.1:8080"} {
		api := sampleAPI()
		api.Audience = aud
		if err := api.Validate(); err != nil {
			t.Errorf("audience %q: %v", aud, err)
		}
	}
	for name, tc := range map[string]struct {
		change func(*domain.API)
		field  string
	}{
		"no audience":        {func(a *domain.API) { a.Audience = "" }, "audience"},
		"relative audience":  {func(a *domain.API) { a.Audience = "api.example.com" }, "audience"},
		"https without host": {func(a *domain.API) { a.Audience = "https:///x" }, "audience"},
		"space in audience":  {func(a *domain.API) { a.Audience = "urn:a b" }, "audience"},
		"fragment":           {func(a *domain.API) { a.Audience = "https://api.example.com/#x" }, "audience"},
		"long audience":      {func(a *domain.API) { a.Audience = "urn:" + strings.Repeat("a", 200) }, "audience"},
		"bare scheme":        {func(a *domain.API) { a.Audience = "urn:" }, "audience"},
		"no name":            {func(a *domain.API) { a.Name = " " }, "name"},
		"control in name":    {func(a *domain.API) { a.Name = "a\nb" }, "name"},
		"space in scope":     {func(a *domain.API) { a.Scopes[0].Name = "read all" }, "scopes[0].name"},
		"quote in scope":     {func(a *domain.API) { a.Scopes[1].Name = `a"b` }, "scopes[1].name"},
		"backslash in scope": {func(a *domain.API) { a.Scopes[1].Name = `a\b` }, "scopes[1].name"},
		"empty scope":        {func(a *domain.API) { a.Scopes[0].Name = "" }, "scopes[0].name"},
		"openid scope":       {func(a *domain.API) { a.Scopes[0].Name = "offline_access" }, "scopes[0].name"},
		"duplicate scope":    {func(a *domain.API) { a.Scopes[1].Name = "read" }, "scopes[1].name"},
		"no description":     {func(a *domain.API) { a.Scopes[2].Description = "" }, "scopes[2].description"},
		"unknown role":       {func(a *domain.API) { a.Scopes[0].Roles = []domain.Role{"owner"} }, "scopes[0].roles"},
		"duplicate role":     {func(a *domain.API) { a.Scopes[1].Roles = []domain.Role{"admin", "admin"} }, "scopes[1].roles"},
		"too many scopes": {func(a *domain.API) {
			a.Scopes = nil
			for i := range domain.MaxAPIScopes + 1 {
				a.Scopes = append(a.Scopes, domain.APIScope{Name: "s" + strings.Repeat("x", i), Description: "d"})
			}
		}, "scopes"},
	} {
		api := sampleAPI()
		tc.change(&api)
		var ae *domain.APIError
		if err := api.Validate(); !errors.As(err, &ae) || ae.Field != tc.field {
			t.Errorf("%s: %v, want an APIError on %s", name, err, tc.field)
		}
	}
}

func TestAPIScopeRules(t *testing.T) {
	api := sampleAPI()
	if got := api.ScopesFor(domain.RoleMember); !slices.Equal(got, []string{"read"}) {
		t.Errorf("member: %v", got)
	}
	if got := api.ScopesFor(domain.RoleAdmin); !slices.Equal(got, []string{"read", "admin:all"}) {
		t.Errorf("admin: %v", got)
	}
	if got := api.ScopesFor("owner"); got != nil {
		t.Errorf("unknown role: %v", got)
	}
	if !api.Has("reserved") || !api.Has("admin:all") || api.Has("write") || api.Has("") {
		t.Error("Has")
	}
}

func TestConsent(t *testing.T) {
	const aud = "https://api.example.com"
	got := domain.ConsentScopes(aud, []string{"read", "openid", "read", "offline_access"})
	if want := []string{"https://api.example.com read", "offline_access", "openid"}; !slices.Equal(got, want) {
		t.Fatalf("ConsentScopes: %v, want %v", got, want)
	}
	c := domain.Consent{Scopes: got}
	if !c.Covers(nil) || !c.Covers(domain.ConsentScopes(aud, []string{"openid", "read"})) {
		t.Error("a subset is not covered")
	}
	if c.Covers(domain.ConsentScopes(aud, []string{"read", "write"})) {
		t.Error("a new scope is covered")
	}
	if c.Covers(domain.ConsentScopes("https://other.example.com", []string{"read"})) {
		t.Error("the same scope on another API is covered")
	}
	if m := c.Missing(domain.ConsentScopes(aud, []string{"read", "write", "email"})); !slices.Equal(m, []string{"email", "https://api.example.com write"}) {
		t.Errorf("Missing: %v", m)
	}
	if m := domain.MergeScopes([]string{"b", "a"}, []string{"a", "", "c"}); !slices.Equal(m, []string{"a", "b", "c"}) {
		t.Errorf("MergeScopes: %v", m)
	}
}
