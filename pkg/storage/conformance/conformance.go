package conformance

import (
	"encoding/base64"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

// base is the suite's clock: every timestamp is base plus an offset. It has
// nanoseconds and a non-UTC zone, so both must survive a round trip.
var base = time.Date(2031, 3, 4, 5, 6, 7, 123456789, time.FixedZone("UTC+2", 2*3600))

// testCase is one case of a group, run on a fresh store that offers the
// part of storage.Store the group exercises.
type testCase[S any] struct {
	name string
	fn   func(t *testing.T, s S)
}

// RunTests runs every group of the suite on stores from newStore. newStore
// must return an empty store, independent of every other one it returns:
// cases run in parallel.
func RunTests(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Run("Organization", func(t *testing.T) {
		run(t, organizationCases, func(t *testing.T) storage.Store { return newStore(t) })
	})
	t.Run("Application", func(t *testing.T) {
		run(t, applicationCases, func(t *testing.T) storage.Store { return newStore(t) })
	})
	t.Run("User", func(t *testing.T) {
		run(t, userCases, func(t *testing.T) storage.Store { return newStore(t) })
	})
	t.Run("Origins", func(t *testing.T) {
		run(t, originCases, func(t *testing.T) storage.Store { return newStore(t) })
	})
	t.Run("Sessions", func(t *testing.T) {
		run(t, sessionCases, func(t *testing.T) storage.Sessions { return newStore(t) })
	})
	t.Run("Codes", func(t *testing.T) {
		run(t, codeCases, func(t *testing.T) storage.Codes { return newStore(t) })
	})
	t.Run("KeySets", func(t *testing.T) {
		run(t, keySetCases, func(t *testing.T) storage.KeySets { return newStore(t) })
	})
	t.Run("SSO", func(t *testing.T) {
		run(t, ssoCases, func(t *testing.T) storage.SSO { return newStore(t) })
	})
	t.Run("APIs", func(t *testing.T) {
		run(t, apiCases, func(t *testing.T) storage.APIs { return newStore(t) })
	})
	t.Run("Consents", func(t *testing.T) {
		run(t, consentCases, func(t *testing.T) storage.Consents { return newStore(t) })
	})
	t.Run("Holdings", func(t *testing.T) {
		run(t, holdingCases, func(t *testing.T) storage.Store { return newStore(t) })
		run(t, transferCases, func(t *testing.T) storage.Store { return newStore(t) })
	})
	t.Run("Usage", func(t *testing.T) {
		run(t, usageCases, func(t *testing.T) storage.Usage { return newStore(t) })
	})
	t.Run("WrappedKeys", func(t *testing.T) {
		run(t, wrappedKeyCases, func(t *testing.T) storage.WrappedKeys { return newStore(t) })
	})
}

func run[S any](t *testing.T, cases []testCase[S], newStore func(t *testing.T) S) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

// ---------------------------------------------------------------- fixtures

func newOrg(id string) domain.Organization {
	return domain.Organization{ID: id, Name: "Org " + id, Plan: domain.PlanTeam, TokenQuota: 5000, CreatedAt: base, UpdatedAt: base}
}

// newApp returns a fully populated application created n minutes after base.
func newApp(orgID, clientID string, n int) domain.Application {
	at := base.Add(time.Duration(n) * time.Minute)
	return domain.Application{
		ClientID:                clientID,
		OrganizationID:          orgID,
		Name:                    "App " + clientID,
		Description:             "for tests",
		Type:                    domain.ClientM2M,
		CallbackURLs:            []string{"https://a.example/cb", "http://127.0.0.1:8080/cb"},
		AllowedOrigins:          []string{"https://a.example"},
		LogoutURLs:              []string{"https://a.example/bye"},
		Scopes:                  []string{"read", "write"},
		AccessTokenLifetime:     15 * time.Minute,
		TokenReuseOff:           n%2 == 1,
		SecretHash:              domain.HashSecret("current-" + clientID),
		PreviousSecretHash:      domain.HashSecret("previous-" + clientID),
		PreviousSecretExpiresAt: at.Add(24*time.Hour + 987654321),
		CreatedBy:               "user-creator",
		CreatedAt:               at,
		UpdatedAt:               at,
	}
}

func newUser(orgID, id, email string) domain.User {
	return domain.User{
		ID: id, OrganizationID: orgID, Email: email, Name: "User " + id, Role: domain.RoleMember,
		PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedAt: base, UpdatedAt: base,
	}
}

// ---------------------------------------------------------------- helpers

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

// concurrently runs write(0) to write(n-1) at once, each again while it
// fails with ErrConflict (the contract allows losing every round of a
// compare-and-swap, not losing an update), and fails t if any ends in
// another error.
func concurrently(t *testing.T, n int, write func(i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			for {
				if errs[i] = write(i); !errors.Is(errs[i], domain.ErrConflict) {
					return
				}
			}
		})
	}
	wg.Wait()
	must(t, errors.Join(errs...))
}

// oneWins runs call n times at once and fails t unless exactly one
// succeeds and every other fails with loss: the single use of a
// conditional write.
func oneWins(t *testing.T, n int, loss error, call func() error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() { errs[i] = call() })
	}
	wg.Wait()
	wins := 0
	for _, err := range errs {
		switch {
		case err == nil:
			wins++
		case !errors.Is(err, loss):
			t.Fatalf("unexpected error %v, want nil or %v", err, loss)
		}
	}
	if wins != 1 {
		t.Fatalf("%d of %d concurrent calls succeeded, want exactly 1 (the others: %v)", wins, n, loss)
	}
}

// canon makes two values comparable with reflect.DeepEqual: times lose their
// zone and monotonic reading, empty slices become nil.
func canon[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	for i := range rv.NumField() {
		f := rv.Field(i)
		switch x := f.Interface().(type) {
		case time.Time:
			f.Set(reflect.ValueOf(x.UTC()))
		case []string:
			if len(x) == 0 {
				f.Set(reflect.Zero(f.Type()))
			}
		case []byte:
			if len(x) == 0 {
				f.Set(reflect.Zero(f.Type()))
			}
		}
	}
	return v
}

func same[T any](t *testing.T, got, want T) {
	t.Helper()
	if g, w := canon(got), canon(want); !reflect.DeepEqual(g, w) {
		t.Fatalf("mismatch\n got: %+v\nwant: %+v", g, w)
	}
}

func sameList[T any](t *testing.T, got, want []T) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d items, want %d:\n got: %+v\nwant: %+v", len(got), len(want), got, want)
	}
	for i := range got {
		same(t, got[i], want[i])
	}
}

var errAbort = errors.New("abort from fn")

// ---------------------------------------------------------------- organizations

var organizationCases = []testCase[storage.Store]{
	{"CreateGet", func(t *testing.T, s storage.Store) {
		o := newOrg("org-a")
		o.Version = 42 // ignored: a new item starts at version 1
		must(t, s.CreateOrganization(t.Context(), o))
		got, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		o.Version = 1
		same(t, got, o)
	}},
	{"GetMissing", func(t *testing.T, s storage.Store) {
		_, err := s.GetOrganization(t.Context(), "nope")
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"SSOSettings", func(t *testing.T, s storage.Store) {
		o := newOrg("org-a")
		must(t, s.CreateOrganization(t.Context(), o))
		sso := &domain.SSO{Issuer: "https://idp.example.com", ClientID: "orgauth", ClientSecretCiphertext: []byte{1, 2, 3},
			Scopes: []string{"email", "profile"}, Domains: []string{"example.com", "example.org"}, Enforced: true,
			Provision: true, ProvisionRole: domain.RoleMember, Applications: []string{"app-1"}}
		got, err := s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
			o.SSO = sso
			return o, nil
		})
		must(t, err)
		sso.ClientSecretCiphertext[0] = 9 // the store kept its own copy
		read, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		want := &domain.SSO{Issuer: "https://idp.example.com", ClientID: "orgauth", ClientSecretCiphertext: []byte{1, 2, 3},
			Scopes: []string{"email", "profile"}, Domains: []string{"example.com", "example.org"}, Enforced: true,
			Provision: true, ProvisionRole: domain.RoleMember, Applications: []string{"app-1"}}
		same(t, *read.SSO, *want)
		same(t, *got.SSO, *want)
		// The minimal settings read back without the optional ones, and
		// removing SSO removes every setting.
		_, err = s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
			o.SSO = &domain.SSO{Issuer: "https://idp.example.com", ClientID: "orgauth"}
			return o, nil
		})
		must(t, err)
		read, err = s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		same(t, *read.SSO, domain.SSO{Issuer: "https://idp.example.com", ClientID: "orgauth"})
		_, err = s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
			o.SSO = nil
			return o, nil
		})
		must(t, err)
		read, err = s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		if read.SSO != nil {
			t.Fatalf("SSO after removal: %+v", read.SSO)
		}
	}},
	{"Duplicate", func(t *testing.T, s storage.Store) {
		must(t, s.CreateOrganization(t.Context(), newOrg("org-a")))
		o := newOrg("org-a")
		o.Name = "other"
		wantErr(t, s.CreateOrganization(t.Context(), o), domain.ErrAlreadyExists)
		got, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		if got.Name != "Org org-a" {
			t.Fatalf("duplicate create overwrote the name: %q", got.Name)
		}
	}},
	{"Update", func(t *testing.T, s storage.Store) {
		must(t, s.CreateOrganization(t.Context(), newOrg("org-a")))
		later := base.Add(time.Hour)
		got, err := s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
			o.Name, o.Plan, o.UpdatedAt = "Renamed", domain.PlanEnterpriseLarge, later
			o.Version = 99 // ignored
			return o, nil
		})
		must(t, err)
		want := newOrg("org-a")
		want.Name, want.Plan, want.UpdatedAt, want.Version = "Renamed", domain.PlanEnterpriseLarge, later, 2
		same(t, got, want)
		stored, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		same(t, stored, want)
	}},
	{"UpdateAbort", func(t *testing.T, s storage.Store) {
		must(t, s.CreateOrganization(t.Context(), newOrg("org-a")))
		_, err := s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
			o.Name = "never written"
			return o, errAbort
		})
		if err != errAbort { // returned as is, not even wrapped
			t.Fatalf("got %v, want the fn's error", err)
		}
		got, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		if got.Name != "Org org-a" || got.Version != 1 {
			t.Fatalf("aborted update was written: %+v", got)
		}
	}},
	{"UpdateKeys", func(t *testing.T, s storage.Store) {
		must(t, s.CreateOrganization(t.Context(), newOrg("org-a")))
		for name, change := range map[string]func(*domain.Organization){
			"ID":        func(o *domain.Organization) { o.ID = "org-b" },
			"CreatedAt": func(o *domain.Organization) { o.CreatedAt = o.CreatedAt.Add(time.Nanosecond) },
		} {
			_, err := s.UpdateOrganization(t.Context(), "org-a", func(o domain.Organization) (domain.Organization, error) {
				change(&o)
				return o, nil
			})
			if err == nil {
				t.Errorf("changing %s was accepted", name)
			}
		}
		got, err := s.GetOrganization(t.Context(), "org-a")
		must(t, err)
		same(t, got, domain.Organization{ID: "org-a", Name: "Org org-a", Plan: domain.PlanTeam, TokenQuota: 5000, CreatedAt: base, UpdatedAt: base, Version: 1})
		if _, err := s.GetOrganization(t.Context(), "org-b"); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("org-b: %v", err)
		}
	}},
	{"UpdateMissing", func(t *testing.T, s storage.Store) {
		_, err := s.UpdateOrganization(t.Context(), "nope", func(o domain.Organization) (domain.Organization, error) {
			t.Error("fn called for a missing organization")
			return o, nil
		})
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"List", func(t *testing.T, s storage.Store) {
		got, err := s.ListOrganizations(t.Context())
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("empty store lists %d organizations", len(got))
		}
		var want []domain.Organization
		for _, id := range []string{"org-c", "org-a", "org-b"} {
			must(t, s.CreateOrganization(t.Context(), newOrg(id)))
		}
		for _, id := range []string{"org-a", "org-b", "org-c"} {
			o := newOrg(id)
			o.Version = 1
			want = append(want, o)
		}
		got, err = s.ListOrganizations(t.Context())
		must(t, err)
		sameList(t, got, want)
	}},
}

// ---------------------------------------------------------------- applications

var applicationCases = []testCase[storage.Store]{
	{"CreateGet", func(t *testing.T, s storage.Store) {
		a := newApp("org-a", "app-1", 0)
		must(t, s.CreateApplication(t.Context(), a))
		// The store copied what it was given and hands out copies.
		a.Scopes[0], a.SecretHash[0] = "mutated", a.SecretHash[0]^0xff
		got, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		want := newApp("org-a", "app-1", 0)
		want.Version = 1
		same(t, got, want)
		got.CallbackURLs[0], got.PreviousSecretHash[0] = "mutated", got.PreviousSecretHash[0]^0xff
		again, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		same(t, again, want)
	}},
	{"SparseRoundTrip", func(t *testing.T, s storage.Store) {
		// A public client without secrets, lists or lifetime: zero values
		// come back as zero values.
		a := domain.Application{ClientID: "spa-1", OrganizationID: "org-a", Name: "SPA", Type: domain.ClientSPA,
			CreatedBy: "user-1", CreatedAt: base, UpdatedAt: base}
		must(t, s.CreateApplication(t.Context(), a))
		got, err := s.GetApplication(t.Context(), "spa-1")
		must(t, err)
		a.Version = 1
		same(t, got, a)
		if !got.PreviousSecretExpiresAt.IsZero() || got.SecretHash != nil || got.Scopes != nil {
			t.Fatalf("zero values did not round-trip: %+v", got)
		}
	}},
	{"Throttle", func(t *testing.T, s storage.Store) {
		ctx := t.Context()
		must(t, s.CreateApplication(ctx, newApp("org-a", "app-1", 0)))
		until := base.Add(15 * time.Minute).Truncate(time.Second) // kept in whole seconds
		must(t, s.ThrottleApplication(ctx, "app-1", until))
		must(t, s.ThrottleApplication(ctx, "app-1", until.Add(-time.Minute))) // earlier: kept later
		got, err := s.GetApplication(ctx, "app-1")
		must(t, err)
		if !got.ThrottledUntil.Equal(until) || got.Version != 1 {
			t.Fatalf("throttled until %v (version %d), want %v and no new version", got.ThrottledUntil, got.Version, until)
		}
		// An update keeps it, whatever its function returns.
		got, err = s.UpdateApplication(ctx, "app-1", func(a domain.Application) (domain.Application, error) {
			a.Name, a.ThrottledUntil = "renamed", time.Time{}
			return a, nil
		})
		must(t, err)
		if !got.ThrottledUntil.Equal(until) {
			t.Fatalf("update returned throttled until %v", got.ThrottledUntil)
		}
		got, err = s.GetApplication(ctx, "app-1")
		must(t, err)
		if !got.ThrottledUntil.Equal(until) || got.Name != "renamed" {
			t.Fatalf("after update: %q throttled until %v", got.Name, got.ThrottledUntil)
		}
		later := until.Add(15 * time.Minute)
		must(t, s.ThrottleApplication(ctx, "app-1", later))
		if got, err = s.GetApplication(ctx, "app-1"); err != nil || !got.ThrottledUntil.Equal(later) {
			t.Fatalf("raised to %v, %v", got.ThrottledUntil, err)
		}
		// An unknown client: no error, nothing created.
		must(t, s.ThrottleApplication(ctx, "app-unknown", until))
		_, err = s.GetApplication(ctx, "app-unknown")
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"GetMissing", func(t *testing.T, s storage.Store) {
		_, err := s.GetApplication(t.Context(), "nope")
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"Duplicate", func(t *testing.T, s storage.Store) {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		wantErr(t, s.CreateApplication(t.Context(), newApp("org-b", "app-1", 1)), domain.ErrAlreadyExists)
		apps, _, err := s.ListApplications(t.Context(), "org-b", 0, "")
		must(t, err)
		if len(apps) != 0 {
			t.Fatalf("failed create is listed: %+v", apps)
		}
	}},
	{"Update", func(t *testing.T, s storage.Store) {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		_, newHash := domain.NewSecret()
		later := base.Add(time.Hour)
		expires := later.Add(time.Hour + 1)
		fn := func(a domain.Application) (domain.Application, error) {
			a.PreviousSecretHash, a.PreviousSecretExpiresAt, a.SecretHash = a.SecretHash, expires, newHash
			a.Scopes = append(a.Scopes, "admin")
			a.Name, a.AccessTokenLifetime, a.UpdatedAt = "Renamed", time.Hour, later
			return a, nil
		}
		got, err := s.UpdateApplication(t.Context(), "app-1", fn)
		must(t, err)
		want, _ := fn(newApp("org-a", "app-1", 0))
		want.Version = 2
		same(t, got, want)
		stored, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		same(t, stored, want)
		got, err = s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) { return a, nil })
		must(t, err)
		if got.Version != 3 {
			t.Fatalf("version after second update = %d, want 3", got.Version)
		}
	}},
	{"UpdateAbort", func(t *testing.T, s storage.Store) {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		_, err := s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) {
			a.Scopes[0] = "mutated in place" // must not reach the store's copy
			a.Name = "never written"
			return a, fmt.Errorf("wrapped: %w", errAbort)
		})
		wantErr(t, err, errAbort)
		got, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		want := newApp("org-a", "app-1", 0)
		want.Version = 1
		same(t, got, want)
	}},
	{"UpdateKeys", func(t *testing.T, s storage.Store) {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		for name, change := range map[string]func(*domain.Application){
			"ClientID":       func(a *domain.Application) { a.ClientID = "app-2" },
			"OrganizationID": func(a *domain.Application) { a.OrganizationID = "org-b" },
			"Type":           func(a *domain.Application) { a.Type = domain.ClientSPA },
			"CreatedBy":      func(a *domain.Application) { a.CreatedBy = "someone-else" },
			"CreatedAt":      func(a *domain.Application) { a.CreatedAt = a.CreatedAt.Add(-time.Second) },
		} {
			_, err := s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) {
				change(&a)
				return a, nil
			})
			if err == nil {
				t.Errorf("changing %s was accepted", name)
			}
		}
		got, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		want := newApp("org-a", "app-1", 0)
		want.Version = 1
		same(t, got, want)
		// The same instant in another zone is not a change.
		_, err = s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) {
			a.CreatedAt = a.CreatedAt.In(time.FixedZone("UTC-7", -7*3600))
			return a, nil
		})
		must(t, err)
	}},
	{"UpdateMissing", func(t *testing.T, s storage.Store) {
		_, err := s.UpdateApplication(t.Context(), "nope", func(a domain.Application) (domain.Application, error) { return a, nil })
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"ConcurrentUpdates", func(t *testing.T, s storage.Store) {
		// Every writer appends its own scope. Compare-and-swap must keep
		// every append: a lost update would drop one. A writer that gets
		// ErrConflict (retries exhausted) tries again, as a caller would.
		const writers = 12
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		var wg sync.WaitGroup
		for i := range writers {
			wg.Go(func() {
				scope := fmt.Sprintf("scope-%02d", i)
				for attempt := 0; ; attempt++ {
					_, err := s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) {
						a.Scopes = append(a.Scopes, scope)
						return a, nil
					})
					if err == nil {
						return
					}
					if !errors.Is(err, domain.ErrConflict) || attempt == 20 {
						t.Errorf("writer %d: %v", i, err)
						return
					}
				}
			})
		}
		wg.Wait()
		got, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		if got.Version != 1+writers {
			t.Errorf("version = %d, want %d", got.Version, 1+writers)
		}
		want := []string{"read", "write"}
		for i := range writers {
			want = append(want, fmt.Sprintf("scope-%02d", i))
		}
		scopes := slices.Clone(got.Scopes)
		slices.Sort(scopes)
		slices.Sort(want)
		if !slices.Equal(scopes, want) {
			t.Fatalf("scopes = %v\nwant (any order) %v", got.Scopes, want)
		}
	}},
	{"Delete", func(t *testing.T, s storage.Store) {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 0)))
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-2", 1)))
		must(t, s.DeleteApplication(t.Context(), "app-1"))
		_, err := s.GetApplication(t.Context(), "app-1")
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.UpdateApplication(t.Context(), "app-1", func(a domain.Application) (domain.Application, error) { return a, nil })
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.DeleteApplication(t.Context(), "app-1"), domain.ErrNotFound)
		apps, _, err := s.ListApplications(t.Context(), "org-a", 0, "")
		must(t, err)
		if len(apps) != 1 || apps[0].ClientID != "app-2" {
			t.Fatalf("after delete, listed %+v", apps)
		}
		// The id is free again, and the new item starts over.
		must(t, s.CreateApplication(t.Context(), newApp("org-a", "app-1", 5)))
		got, err := s.GetApplication(t.Context(), "app-1")
		must(t, err)
		if got.Version != 1 || !got.CreatedAt.Equal(base.Add(5*time.Minute)) {
			t.Fatalf("re-created: %+v", got)
		}
	}},
	{"DeleteMissing", func(t *testing.T, s storage.Store) {
		wantErr(t, s.DeleteApplication(t.Context(), "nope"), domain.ErrNotFound)
	}},
	{"MalformedIDsAreMisses", func(t *testing.T, s storage.Store) {
		// Ids from requests may be anything: one longer than a table key
		// may be, or with characters no id has, is a miss, not an error.
		for _, id := range []string{strings.Repeat("a", 3000), "app\x00", "äpp", ""} {
			_, err := s.GetApplication(t.Context(), id)
			wantErr(t, err, domain.ErrNotFound)
			_, err = s.GetUser(t.Context(), id)
			wantErr(t, err, domain.ErrNotFound)
			_, err = s.GetOrganization(t.Context(), id)
			wantErr(t, err, domain.ErrNotFound)
			_, err = s.UpdateApplication(t.Context(), id, func(a domain.Application) (domain.Application, error) { return a, nil })
			wantErr(t, err, domain.ErrNotFound)
			wantErr(t, s.DeleteApplication(t.Context(), id), domain.ErrNotFound)
		}
	}},
	{"List", func(t *testing.T, s storage.Store) {
		apps, next, err := s.ListApplications(t.Context(), "org-a", 0, "")
		must(t, err)
		if len(apps) != 0 || next != "" {
			t.Fatalf("empty organization: %d apps, next %q", len(apps), next)
		}
		want := createFive(t, s)
		for _, limit := range []int{0, 5, 6, 1000} {
			got, next, err := s.ListApplications(t.Context(), "org-a", limit, "")
			must(t, err)
			sameList(t, got, want)
			if next != "" {
				t.Fatalf("limit %d: next = %q on the only page", limit, next)
			}
		}
	}},
	{"ListPages", func(t *testing.T, s storage.Store) {
		want := createFive(t, s)
		var got []domain.Application
		cursor, pages := "", 0
		for {
			page, next, err := s.ListApplications(t.Context(), "org-a", 2, cursor)
			must(t, err)
			pages++
			if len(page) > 2 || pages > 3 {
				t.Fatalf("page %d has %d items", pages, len(page))
			}
			got = append(got, page...)
			if next == "" {
				break
			}
			cursor = next
		}
		if pages != 3 {
			t.Fatalf("%d pages, want 3", pages)
		}
		sameList(t, got, want)
	}},
	{"ListInvalidCursor", func(t *testing.T, s storage.Store) {
		createFive(t, s)
		_, good, err := s.ListApplications(t.Context(), "org-a", 1, "")
		must(t, err)
		b64 := base64.RawURLEncoding.EncodeToString
		for _, c := range []string{
			"!!!",
			good + "=",
			b64([]byte("not-a-cursor")),
			b64([]byte("2031-03-04T03:06:07Z#app-a")), // not fixed width
			b64([]byte("2031-03-04T03:06:07.123456789+02:00#app-a")),
			storage.EncodeCursor(base, ""), // no id
			b64([]byte("app-a")),
		} {
			_, _, err := s.ListApplications(t.Context(), "org-a", 2, c)
			if !errors.Is(err, storage.ErrInvalidCursor) {
				t.Errorf("cursor %q: got %v, want ErrInvalidCursor", c, err)
			}
		}
	}},
}

// createFive creates five applications of org-a, in an order that is not
// their creation order, two of them in the same nanosecond, and two of
// org-b. It returns org-a's in the order the store must list them.
func createFive(t *testing.T, s storage.Store) []domain.Application {
	t.Helper()
	mins := map[string]int{"app-e": 1, "app-b": 4, "app-d": 2, "app-a": 3, "app-c": 2}
	for _, id := range []string{"app-a", "app-b", "app-c", "app-d", "app-e"} {
		must(t, s.CreateApplication(t.Context(), newApp("org-a", id, mins[id])))
	}
	must(t, s.CreateApplication(t.Context(), newApp("org-b", "app-x", 0)))
	must(t, s.CreateApplication(t.Context(), newApp("org-b", "app-y", 3)))
	var want []domain.Application
	for _, id := range []string{"app-e", "app-c", "app-d", "app-a", "app-b"} {
		a := newApp("org-a", id, mins[id])
		a.Version = 1
		want = append(want, a)
	}
	return want
}

// ---------------------------------------------------------------- users

var userCases = []testCase[storage.Store]{
	{"CreateGet", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "Alice@Example.COM")))
		got, err := s.GetUser(t.Context(), "user-1")
		must(t, err)
		want := newUser("org-a", "user-1", "alice@example.com") // stored lower-cased
		want.Version = 1
		same(t, got, want)
	}},
	{"EmailVerified", func(t *testing.T, s storage.Store) {
		u := newUser("org-a", "user-1", "alice@example.com")
		u.EmailVerified = true
		must(t, s.CreateUser(t.Context(), u))
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-2", "bob@example.com")))
		for _, c := range []struct {
			id   string
			want bool
		}{{"user-1", true}, {"user-2", false}} {
			got, err := s.GetUser(t.Context(), c.id)
			must(t, err)
			if got.EmailVerified != c.want {
				t.Fatalf("%s: email verified %v, want %v", c.id, got.EmailVerified, c.want)
			}
		}
		// Set and cleared by an update; read the same way by email.
		got, err := s.UpdateUser(t.Context(), "user-2", func(u domain.User) (domain.User, error) {
			u.EmailVerified = true
			return u, nil
		})
		must(t, err)
		stored, err := s.GetUserByEmail(t.Context(), "bob@example.com")
		must(t, err)
		if !got.EmailVerified || !stored.EmailVerified {
			t.Fatalf("after setting: %+v %+v", got, stored)
		}
		_, err = s.UpdateUser(t.Context(), "user-1", func(u domain.User) (domain.User, error) {
			u.EmailVerified = false
			return u, nil
		})
		must(t, err)
		stored, err = s.GetUser(t.Context(), "user-1")
		must(t, err)
		if stored.EmailVerified {
			t.Fatalf("after clearing: %+v", stored)
		}
	}},
	{"GetByEmail", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "alice@example.com")))
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-2", "bob@example.com")))
		for _, email := range []string{"alice@example.com", "ALICE@example.COM"} {
			got, err := s.GetUserByEmail(t.Context(), email)
			must(t, err)
			if got.ID != "user-1" || got.Version != 1 {
				t.Fatalf("%s: got %+v", email, got)
			}
		}
		_, err := s.GetUserByEmail(t.Context(), "carol@example.com")
		wantErr(t, err, domain.ErrNotFound)
		// Email keys are lower-cased in ASCII only: a Kelvin sign is not k,
		// a dotted capital I is not i.
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-3", "kim@inc.example")))
		for _, email := range []string{"\u212Aim@inc.example", "kim@\u0130nc.example"} {
			_, err := s.GetUserByEmail(t.Context(), email)
			wantErr(t, err, domain.ErrNotFound)
		}
	}},
	{"GetMissing", func(t *testing.T, s storage.Store) {
		_, err := s.GetUser(t.Context(), "nope")
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"DuplicateID", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "alice@example.com")))
		wantErr(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "bob@example.com")), domain.ErrAlreadyExists)
		// The failed create released its claim on bob's email.
		_, err := s.GetUserByEmail(t.Context(), "bob@example.com")
		wantErr(t, err, domain.ErrNotFound)
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-2", "bob@example.com")))
		got, err := s.GetUser(t.Context(), "user-1")
		must(t, err)
		if got.Email != "alice@example.com" {
			t.Fatalf("duplicate create overwrote user-1: %+v", got)
		}
	}},
	{"DuplicateEmail", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "alice@example.com")))
		// Emails are unique across organizations, whatever their case.
		wantErr(t, s.CreateUser(t.Context(), newUser("org-b", "user-2", "ALICE@example.com")), domain.ErrAlreadyExists)
		_, err := s.GetUser(t.Context(), "user-2")
		wantErr(t, err, domain.ErrNotFound)
		got, err := s.GetUserByEmail(t.Context(), "alice@example.com")
		must(t, err)
		if got.ID != "user-1" {
			t.Fatalf("email now belongs to %q", got.ID)
		}
	}},
	{"Update", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "alice@example.com")))
		later := base.Add(time.Hour)
		got, err := s.UpdateUser(t.Context(), "user-1", func(u domain.User) (domain.User, error) {
			u.Name, u.Role, u.Disabled, u.PasswordHash, u.UpdatedAt = "Alice A.", domain.RoleAdmin, true, "", later
			u.Email = "ALICE@example.com" // same address: not a change
			return u, nil
		})
		must(t, err)
		want := newUser("org-a", "user-1", "alice@example.com")
		want.Name, want.Role, want.Disabled, want.PasswordHash, want.UpdatedAt, want.Version = "Alice A.", domain.RoleAdmin, true, "", later, 2
		same(t, got, want)
		stored, err := s.GetUserByEmail(t.Context(), "alice@example.com")
		must(t, err)
		same(t, stored, want)
		_, err = s.UpdateUser(t.Context(), "user-1", func(u domain.User) (domain.User, error) { return u, errAbort })
		wantErr(t, err, errAbort)
		_, err = s.UpdateUser(t.Context(), "nope", func(u domain.User) (domain.User, error) { return u, nil })
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"UpdateKeys", func(t *testing.T, s storage.Store) {
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "alice@example.com")))
		for name, change := range map[string]func(*domain.User){
			"ID":             func(u *domain.User) { u.ID = "user-2" },
			"OrganizationID": func(u *domain.User) { u.OrganizationID = "org-b" },
			"Email":          func(u *domain.User) { u.Email = "mallory@example.com" },
			"CreatedAt":      func(u *domain.User) { u.CreatedAt = time.Time{} },
		} {
			_, err := s.UpdateUser(t.Context(), "user-1", func(u domain.User) (domain.User, error) {
				change(&u)
				return u, nil
			})
			if err == nil {
				t.Errorf("changing %s was accepted", name)
			}
		}
		got, err := s.GetUser(t.Context(), "user-1")
		must(t, err)
		want := newUser("org-a", "user-1", "alice@example.com")
		want.Version = 1
		same(t, got, want)
		_, err = s.GetUserByEmail(t.Context(), "mallory@example.com")
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"List", func(t *testing.T, s storage.Store) {
		got, err := s.ListUsers(t.Context(), "org-a")
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("empty organization lists %d users", len(got))
		}
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-1", "carol@example.com")))
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-2", "alice@example.com")))
		must(t, s.CreateUser(t.Context(), newUser("org-b", "user-3", "bob@example.com")))
		must(t, s.CreateUser(t.Context(), newUser("org-a", "user-4", "Bea@example.com")))
		got, err = s.ListUsers(t.Context(), "org-a")
		must(t, err)
		var want []domain.User
		for _, u := range []domain.User{
			newUser("org-a", "user-2", "alice@example.com"),
			newUser("org-a", "user-4", "bea@example.com"),
			newUser("org-a", "user-1", "carol@example.com"),
		} {
			u.Version = 1
			want = append(want, u)
		}
		sameList(t, got, want)
	}},
}
