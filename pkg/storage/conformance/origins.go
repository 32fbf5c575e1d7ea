package conformance

import (
	"context"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// originCases check that OriginAllowed follows the applications' allowed
// origins through create, update and delete.
var originCases = []testCase[storage.Store]{
	{"OriginIndex", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		want := func(origin string, allowed bool) {
			t.Helper()
			got, err := s.OriginAllowed(ctx, origin)
			if err != nil || got != allowed {
				t.Fatalf("OriginAllowed(%s) = %v, %v; want %v", origin, got, err, allowed)
			}
		}
		now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
		app := func(id string, origins ...string) domain.Application {
			return domain.Application{ClientID: id, OrganizationID: "org", Name: id, Type: domain.ClientSPA,
				AllowedOrigins: origins, CreatedBy: "u", CreatedAt: now, UpdatedAt: now}
		}
		want("https://a.example.com", false)
		if err := s.CreateApplication(ctx, app("one", "https://a.example.com", "https://b.example.com")); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateApplication(ctx, app("two", "https://b.example.com")); err != nil {
			t.Fatal(err)
		}
		want("https://a.example.com", true)
		want("https://b.example.com", true)
		want("https://c.example.com", false)

		if _, err := s.UpdateApplication(ctx, "one", func(a domain.Application) (domain.Application, error) {
			a.AllowedOrigins = []string{"https://c.example.com", "https://b.example.com"}
			return a, nil
		}); err != nil {
			t.Fatal(err)
		}
		want("https://a.example.com", false) // lost by its only application
		want("https://c.example.com", true)

		if err := s.DeleteApplication(ctx, "one"); err != nil {
			t.Fatal(err)
		}
		want("https://c.example.com", false)
		want("https://b.example.com", true) // still listed by "two"
		if err := s.DeleteApplication(ctx, "two"); err != nil {
			t.Fatal(err)
		}
		want("https://b.example.com", false)
	}},
}
