package domain_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

func TestApplicationValidate(t *testing.T) {
	spa := func(edit func(*domain.Application)) domain.Application {
		a := domain.Application{Name: "App", Type: domain.ClientSPA,
			CallbackURLs: []string{"https://app.example/cb", "http://127.0.0.1:8080/cb"}, AllowedOrigins: []string{"https://app.example"},
			LogoutURLs: []string{"https://app.example/"}, Scopes: []string{"read:x"}}
		if edit != nil {
			edit(&a)
		}
		return a
	}
	m2m := domain.Application{Name: "Worker", Type: domain.ClientM2M, Scopes: []string{"read:x"}, AccessTokenLifetime: 24 * time.Hour}
	for _, tc := range []struct {
		name  string
		app   domain.Application
		field string // "" means valid
	}{
		{"valid spa", spa(nil), ""},
		{"valid m2m", m2m, ""},
		{"blank name", spa(func(a *domain.Application) { a.Name = "  " }), "name"},
		{"long name", spa(func(a *domain.Application) { a.Name = strings.Repeat("n", domain.MaxNameLen+1) }), "name"},
		{"control in name", spa(func(a *domain.Application) { a.Name = "a\x00b" }), "name"},
		{"long description", spa(func(a *domain.Application) { a.Description = strings.Repeat("d", domain.MaxDescriptionLen+1) }), "description"},
		{"control in description", spa(func(a *domain.Application) { a.Description = "a\tb" }), "description"},
		{"newline in description", spa(func(a *domain.Application) { a.Description = "line one\nline two" }), ""},
		{"right-to-left override in name", spa(func(a *domain.Application) { a.Name = "Pay\u202Egnp.exe" }), "name"},
		{"zero-width space in name", spa(func(a *domain.Application) { a.Name = "Pay\u200Bpal" }), "name"},
		{"bidi isolate in name", spa(func(a *domain.Application) { a.Name = "a\u2067b\u2069" }), "name"},
		{"left-to-right mark in name", spa(func(a *domain.Application) { a.Name = "a\u200Eb" }), "name"},
		{"byte order mark in name", spa(func(a *domain.Application) { a.Name = "\uFEFFApp" }), "name"},
		{"line separator in name", spa(func(a *domain.Application) { a.Name = "a\u2028b" }), "name"},
		{"C1 control in name", spa(func(a *domain.Application) { a.Name = "a\u0085b" }), "name"},
		{"right-to-left override in description", spa(func(a *domain.Application) { a.Description = "x\u202Ey" }), "description"},
		{"zero-width joiner in description", spa(func(a *domain.Application) { a.Description = "x\u200Dy" }), "description"},
		{"arabic letter mark in description", spa(func(a *domain.Application) { a.Description = "x\u061Cy" }), "description"},
		{"non-latin name", spa(func(a *domain.Application) { a.Name = "Приложение 应用 تطبيق" }), ""},
		{"http callback off loopback", spa(func(a *domain.Application) { a.CallbackURLs = []string{"http://app.example/cb"} }), "callback_urls[0]"},
		{"http callback on localhost", spa(func(a *domain.Application) { a.CallbackURLs = []string{"http://localhost:3000/cb"} }), ""},
		{"custom scheme", spa(func(a *domain.Application) { a.CallbackURLs = []string{"ftp://app.example/cb"} }), "callback_urls[0]"},
		{"wildcard", spa(func(a *domain.Application) { a.CallbackURLs = []string{"https://*.example/cb"} }), "callback_urls[0]"},
		{"fragment", spa(func(a *domain.Application) { a.CallbackURLs = []string{"https://app.example/cb#x"} }), "callback_urls[0]"},
		{"userinfo", spa(func(a *domain.Application) { a.CallbackURLs = []string{"https://u@app.example/cb"} }), "callback_urls[0]"},
		{"relative", spa(func(a *domain.Application) { a.CallbackURLs = []string{"/cb"} }), "callback_urls[0]"},
		{"spaces", spa(func(a *domain.Application) { a.CallbackURLs = []string{"https://app.example/a b"} }), "callback_urls[0]"},
		{"duplicate", spa(func(a *domain.Application) { a.LogoutURLs = []string{"https://app.example/", "https://app.example/"} }), "logout_urls[1]"},
		{"too many", spa(func(a *domain.Application) { a.LogoutURLs = make([]string, domain.MaxURLs+1) }), "logout_urls"},
		{"origin with path", spa(func(a *domain.Application) { a.AllowedOrigins = []string{"https://app.example/x"} }), "allowed_origins[0]"},
		{"origin upper case", spa(func(a *domain.Application) { a.AllowedOrigins = []string{"https://App.example"} }), "allowed_origins[0]"},
		{"origin wildcard", spa(func(a *domain.Application) { a.AllowedOrigins = []string{"https://*.example"} }), "allowed_origins[0]"},
		{"origin not a url", spa(func(a *domain.Application) { a.AllowedOrigins = []string{"app.example"} }), "allowed_origins[0]"},
		{"origin http off loopback", spa(func(a *domain.Application) { a.AllowedOrigins = []string{"http://app.example"} }), "allowed_origins[0]"},
		{"scope with space", spa(func(a *domain.Application) { a.Scopes = []string{"a b"} }), "scopes[0]"},
		{"scope with quote", spa(func(a *domain.Application) { a.Scopes = []string{`a"b`} }), "scopes[0]"},
		{"too many scopes", spa(func(a *domain.Application) { a.Scopes = make([]string, domain.MaxScopes+1) }), "scopes"},
		{"duplicate scope", spa(func(a *domain.Application) { a.Scopes = []string{"x", "x"} }), "scopes[1]"},
		{"spa lifetime over an hour", spa(func(a *domain.Application) { a.AccessTokenLifetime = 2 * time.Hour }), "access_token_lifetime"},
		{"lifetime under a minute", spa(func(a *domain.Application) { a.AccessTokenLifetime = time.Second }), "access_token_lifetime"},
		{"m2m with callbacks", func() domain.Application { a := m2m; a.CallbackURLs = []string{"https://x.example/cb"}; return a }(), "callback_urls"},
		{"m2m with origins", func() domain.Application { a := m2m; a.AllowedOrigins = []string{"https://x.example"}; return a }(), "allowed_origins"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.app.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			var fe *domain.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || fe.Reason == "" {
				t.Fatalf("Validate() = %v, want a field error on %s", err, tc.field)
			}
		})
	}
}
