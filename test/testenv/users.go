package testenv

import (
	"context"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/password"
)

// AddSPA creates a single-page application of orgID with one callback URL
// and one logout URL, and returns its client id.
func (s *Stack) AddSPA(t testing.TB, orgID, callback, logout string) string {
	t.Helper()
	now := time.Now().UTC()
	app := domain.Application{ClientID: domain.NewID(), OrganizationID: orgID, Name: "spa", Type: domain.ClientSPA,
		CallbackURLs: []string{callback}, LogoutURLs: []string{logout}, AllowedOrigins: []string{origin(callback)},
		Scopes: []string{"read"}, CreatedBy: s.OwnerID, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := s.Stage.Store.CreateApplication(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app.ClientID
}

// AddUserWithPassword creates a member of orgID who signs in with pw, and
// returns its id.
func (s *Stack) AddUserWithPassword(t testing.TB, orgID, email, pw string) string {
	t.Helper()
	hash, err := password.Hash(pw)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	u := domain.User{ID: domain.NewID(), OrganizationID: orgID, Email: email, Name: email, Role: domain.RoleMember,
		PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	if err := s.Stage.Store.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// origin is scheme://host of a URL.
func origin(u string) string {
	for i, n := 0, 0; i < len(u); i++ {
		if u[i] == '/' {
			if n++; n == 3 {
				return u[:i]
			}
		}
	}
	return u
}
