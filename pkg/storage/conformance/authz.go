package conformance

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage"
)

func newAPI(audience string) domain.API {
	return domain.API{
		Audience: audience,
		Name:     "API " + audience,
		Scopes: []domain.APIScope{
			{Name: "write", Description: "Change your data", Roles: []domain.Role{domain.RoleAdmin}},
			{Name: "read", Description: "Read your data", Roles: []domain.Role{domain.RoleMember, domain.RoleAdmin}},
			{Name: "reserved", Description: "Held by nobody"},
		},
		CreatedAt: base, UpdatedAt: base,
	}
}

func sameAPI(t *testing.T, got, want domain.API) {
	t.Helper()
	if got.Audience != want.Audience || got.Name != want.Name || got.Version != want.Version ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || len(got.Scopes) != len(want.Scopes) {
		t.Fatalf("api mismatch\n got: %+v\nwant: %+v", got, want)
	}
	for i := range got.Scopes {
		g, w := got.Scopes[i], want.Scopes[i]
		if g.Name != w.Name || g.Description != w.Description || !slices.Equal(g.Roles, w.Roles) {
			t.Fatalf("scope %d mismatch\n got: %+v\nwant: %+v", i, g, w)
		}
	}
}

// apiCases check storage.APIs.
var apiCases = []testCase[storage.APIs]{
	{"CreateGetListDelete", func(t *testing.T, s storage.APIs) {
		ctx := context.Background()
		b, a := newAPI("urn:example:b"), newAPI("https://a.example.com")
		a.Version = 7 // ignored
		must(t, s.CreateAPI(ctx, b))
		must(t, s.CreateAPI(ctx, a))
		wantErr(t, s.CreateAPI(ctx, newAPI("urn:example:b")), domain.ErrAlreadyExists)
		a.Version, b.Version = 1, 1
		got, err := s.GetAPI(ctx, a.Audience)
		must(t, err)
		sameAPI(t, got, a)
		got.Scopes[1].Roles[0] = "owner" // the store kept its own copy
		got, err = s.GetAPI(ctx, a.Audience)
		must(t, err)
		sameAPI(t, got, a)

		list, err := s.ListAPIs(ctx)
		must(t, err)
		if len(list) != 2 {
			t.Fatalf("listed %d APIs", len(list))
		}
		sameAPI(t, list[0], a)
		sameAPI(t, list[1], b)

		_, err = s.GetAPI(ctx, "urn:example:missing")
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetAPI(ctx, "not an audience")
		wantErr(t, err, domain.ErrNotFound)
		must(t, s.DeleteAPI(ctx, b.Audience))
		_, err = s.GetAPI(ctx, b.Audience)
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.DeleteAPI(ctx, b.Audience), domain.ErrNotFound)
		wantErr(t, s.DeleteAPI(ctx, ""), domain.ErrNotFound)
	}},
	{"NoScopesAndLongAudience", func(t *testing.T, s storage.APIs) {
		ctx := context.Background()
		api := domain.API{Audience: "https://api.example.com/" + strings.Repeat("a", domain.MaxAudienceLength-24), Name: "Long", CreatedAt: base, UpdatedAt: base}
		must(t, s.CreateAPI(ctx, api))
		got, err := s.GetAPI(ctx, api.Audience)
		must(t, err)
		api.Version = 1
		sameAPI(t, got, api)
	}},
	{"InvalidRefused", func(t *testing.T, s storage.APIs) {
		ctx := context.Background()
		bad := newAPI("https://a.example.com")
		bad.Scopes[0].Name = "has space"
		if err := s.CreateAPI(ctx, bad); err == nil {
			t.Fatal("an invalid API was stored")
		}
		_, err := s.GetAPI(ctx, bad.Audience)
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"Update", func(t *testing.T, s storage.APIs) {
		ctx := context.Background()
		api := newAPI("https://a.example.com")
		must(t, s.CreateAPI(ctx, api))
		later := base.Add(time.Hour)
		got, err := s.UpdateAPI(ctx, api.Audience, func(a domain.API) (domain.API, error) {
			a.Name = "Renamed"
			a.Scopes = append(a.Scopes[:1], domain.APIScope{Name: "admin:all", Description: "All", Roles: []domain.Role{domain.RoleAdmin}})
			a.UpdatedAt = later
			a.Version = 99 // ignored
			return a, nil
		})
		must(t, err)
		want := api
		want.Name, want.UpdatedAt, want.Version = "Renamed", later, 2
		want.Scopes = []domain.APIScope{api.Scopes[0], {Name: "admin:all", Description: "All", Roles: []domain.Role{domain.RoleAdmin}}}
		sameAPI(t, got, want)
		read, err := s.GetAPI(ctx, api.Audience)
		must(t, err)
		sameAPI(t, read, want)

		_, err = s.UpdateAPI(ctx, api.Audience, func(a domain.API) (domain.API, error) { return a, errAbort })
		wantErr(t, err, errAbort)
		for name, change := range map[string]func(*domain.API){
			"audience":  func(a *domain.API) { a.Audience = "urn:other" },
			"createdAt": func(a *domain.API) { a.CreatedAt = later },
			"invalid":   func(a *domain.API) { a.Scopes[0].Roles = []domain.Role{"owner"} },
		} {
			if _, err := s.UpdateAPI(ctx, api.Audience, func(a domain.API) (domain.API, error) { change(&a); return a, nil }); err == nil {
				t.Errorf("changing %s succeeded", name)
			}
		}
		read, err = s.GetAPI(ctx, api.Audience)
		must(t, err)
		sameAPI(t, read, want)
		_, err = s.UpdateAPI(ctx, "urn:example:missing", func(a domain.API) (domain.API, error) { return a, nil })
		wantErr(t, err, domain.ErrNotFound)
	}},
	{"ConcurrentUpdates", func(t *testing.T, s storage.APIs) {
		ctx := context.Background()
		api := newAPI("https://a.example.com")
		api.Scopes = nil
		must(t, s.CreateAPI(ctx, api))
		const n = 4
		concurrently(t, n, func(i int) error {
			_, err := s.UpdateAPI(ctx, api.Audience, func(a domain.API) (domain.API, error) {
				a.Scopes = append(a.Scopes, domain.APIScope{Name: fmt.Sprintf("s%d", i), Description: "d"})
				return a, nil
			})
			return err
		})
		got, err := s.GetAPI(ctx, api.Audience)
		must(t, err)
		if len(got.Scopes) != n || got.Version != n+1 {
			t.Fatalf("after %d updates: version %d, scopes %+v", n, got.Version, got.Scopes)
		}
	}},
}

// ---------------------------------------------------------------- consents

var consentCases = []testCase[storage.Consents]{
	{"PutMergesGetListDelete", func(t *testing.T, s storage.Consents) {
		ctx := context.Background()
		const aud = "https://api.example.com"
		first := domain.Consent{UserID: "user-1", ClientID: "spa-b", OrganizationID: "org-1",
			Scopes: domain.ConsentScopes(aud, []string{"openid", "read"}), GrantedAt: base}
		got, err := s.PutConsent(ctx, first)
		must(t, err)
		want := first
		want.UpdatedAt = base
		same(t, got, want)

		later := base.Add(time.Hour)
		got, err = s.PutConsent(ctx, domain.Consent{UserID: "user-1", ClientID: "spa-b", OrganizationID: "org-1",
			Scopes: domain.ConsentScopes(aud, []string{"write", "read"}), GrantedAt: later})
		must(t, err)
		want.Scopes = domain.ConsentScopes(aud, []string{"openid", "read", "write"})
		want.UpdatedAt = later
		same(t, got, want)
		read, err := s.GetConsent(ctx, "user-1", "spa-b")
		must(t, err)
		same(t, read, want)
		if !read.Covers(domain.ConsentScopes(aud, []string{"write"})) {
			t.Fatal("merged consent does not cover a merged scope")
		}

		other := domain.Consent{UserID: "user-1", ClientID: "spa-a", OrganizationID: "org-1", Scopes: []string{"openid"}, GrantedAt: base}
		_, err = s.PutConsent(ctx, other)
		must(t, err)
		_, err = s.PutConsent(ctx, domain.Consent{UserID: "user-2", ClientID: "spa-a", OrganizationID: "org-1", Scopes: []string{"openid"}, GrantedAt: base})
		must(t, err)
		list, err := s.ListConsents(ctx, "user-1")
		must(t, err)
		other.UpdatedAt = base
		sameList(t, list, []domain.Consent{other, want})

		_, err = s.GetConsent(ctx, "user-1", "spa-c")
		wantErr(t, err, domain.ErrNotFound)
		_, err = s.GetConsent(ctx, "", "spa-a")
		wantErr(t, err, domain.ErrNotFound)
		must(t, s.DeleteConsent(ctx, "user-1", "spa-b"))
		_, err = s.GetConsent(ctx, "user-1", "spa-b")
		wantErr(t, err, domain.ErrNotFound)
		wantErr(t, s.DeleteConsent(ctx, "user-1", "spa-b"), domain.ErrNotFound)
		list, err = s.ListConsents(ctx, "user-1")
		must(t, err)
		sameList(t, list, []domain.Consent{other})
		list, err = s.ListConsents(ctx, "nobody")
		must(t, err)
		if len(list) != 0 {
			t.Fatalf("an unknown user has consents: %+v", list)
		}
	}},
	{"ConcurrentPutsLoseNothing", func(t *testing.T, s storage.Consents) {
		ctx := context.Background()
		const n = 8
		var want []string
		for i := range n {
			want = append(want, fmt.Sprintf("urn:api s%d", i))
		}
		concurrently(t, n, func(i int) error {
			_, err := s.PutConsent(ctx, domain.Consent{UserID: "user-1", ClientID: "spa-1", OrganizationID: "org-1",
				Scopes: []string{want[i]}, GrantedAt: base.Add(time.Duration(i) * time.Second)})
			return err
		})
		got, err := s.GetConsent(ctx, "user-1", "spa-1")
		must(t, err)
		if !slices.Equal(got.Scopes, domain.MergeScopes(want)) {
			t.Fatalf("scopes after %d concurrent puts: %v", n, got.Scopes)
		}
	}},
	{"IncompleteRefused", func(t *testing.T, s storage.Consents) {
		ctx := context.Background()
		ok := domain.Consent{UserID: "user-1", ClientID: "spa-1", OrganizationID: "org-1", Scopes: []string{"openid"}, GrantedAt: base}
		for name, change := range map[string]func(*domain.Consent){
			"user":   func(c *domain.Consent) { c.UserID = "" },
			"client": func(c *domain.Consent) { c.ClientID = "" },
			"org":    func(c *domain.Consent) { c.OrganizationID = "" },
			"scopes": func(c *domain.Consent) { c.Scopes = []string{""} },
			"time":   func(c *domain.Consent) { c.GrantedAt = time.Time{} },
		} {
			c := ok
			change(&c)
			if _, err := s.PutConsent(ctx, c); err == nil {
				t.Errorf("a consent without %s was stored", name)
			}
		}
		_, err := s.GetConsent(ctx, "user-1", "spa-1")
		wantErr(t, err, domain.ErrNotFound)
	}},
}

// ---------------------------------------------------------------- holdings

func familyOf(id, clientID, userID string, createdMinutes int) domain.RefreshFamily {
	at := base.Add(time.Duration(createdMinutes) * time.Minute)
	return domain.RefreshFamily{ID: id, ClientID: clientID, UserID: userID, OrganizationID: "org-1",
		CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)}
}

func familyIDs(fs []domain.RefreshFamily) []string {
	var ids []string
	for _, f := range fs {
		ids = append(ids, f.ID)
	}
	return ids
}

var holdingCases = []testCase[storage.Store]{
	{"RefreshFamiliesByClientAndUser", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		fams := []domain.RefreshFamily{
			familyOf("fam-c", "spa-1", "user-1", 3),
			familyOf("fam-a", "spa-1", "user-2", 1),
			familyOf("fam-b", "spa-2", "user-1", 2),
			familyOf("fam-old", "spa-1", "user-1", -2000), // expired at now
			familyOf("fam-rev", "spa-1", "user-1", 4),     // revoked below
			familyOf("fam-m2m", "spa-1", "", 5),           // no user
		}
		for _, f := range fams {
			must(t, s.CreateRefreshFamily(ctx, f))
		}
		now := base.Add(10 * time.Minute)
		must(t, s.RevokeRefreshFamily(ctx, "fam-rev", now))

		byClient, err := s.ListClientRefreshFamilies(ctx, "spa-1", now)
		must(t, err)
		if got := familyIDs(byClient); !slices.Equal(got, []string{"fam-a", "fam-c", "fam-m2m"}) {
			t.Fatalf("spa-1's live families: %v", got)
		}
		same(t, byClient[0], fams[1])
		byUser, err := s.ListUserRefreshFamilies(ctx, "user-1", now)
		must(t, err)
		if got := familyIDs(byUser); !slices.Equal(got, []string{"fam-b", "fam-c"}) {
			t.Fatalf("user-1's live families: %v", got)
		}
		same(t, byUser[1], fams[0])
		for _, list := range []func() ([]domain.RefreshFamily, error){
			func() ([]domain.RefreshFamily, error) { return s.ListClientRefreshFamilies(ctx, "spa-9", now) },
			func() ([]domain.RefreshFamily, error) { return s.ListUserRefreshFamilies(ctx, "user-9", now) },
			func() ([]domain.RefreshFamily, error) { return s.ListUserRefreshFamilies(ctx, "", now) },
		} {
			got, err := list()
			must(t, err)
			if len(got) != 0 {
				t.Fatalf("unknown holder has families %v", familyIDs(got))
			}
		}
		// Revoking takes a family off both lists; time ends them all.
		must(t, s.RevokeRefreshFamily(ctx, "fam-c", now))
		byClient, err = s.ListClientRefreshFamilies(ctx, "spa-1", now)
		must(t, err)
		byUser, err = s.ListUserRefreshFamilies(ctx, "user-1", now)
		must(t, err)
		if a, b := familyIDs(byClient), familyIDs(byUser); !slices.Equal(a, []string{"fam-a", "fam-m2m"}) || !slices.Equal(b, []string{"fam-b"}) {
			t.Fatalf("after revoking fam-c: by client %v, by user %v", a, b)
		}
		byUser, err = s.ListUserRefreshFamilies(ctx, "user-1", base.Add(48*time.Hour))
		must(t, err)
		if len(byUser) != 0 {
			t.Fatalf("families outlived their expiry: %v", familyIDs(byUser))
		}
	}},
	{"SessionsByUser", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		mk := func(user string, created, lifetime time.Duration) domain.Session {
			_, hash := domain.NewSecret()
			return domain.Session{Hash: hash, ID: domain.NewID(), UserID: user, OrganizationID: "org-1",
				AuthTime: base.Add(created), CreatedAt: base.Add(created), ExpiresAt: base.Add(created + lifetime)}
		}
		second, first := mk("user-1", 2*time.Minute, 12*time.Hour), mk("user-1", time.Minute, 12*time.Hour)
		expired := mk("user-1", 0, 5*time.Minute)
		other := mk("user-2", time.Minute, 12*time.Hour)
		for _, ss := range []domain.Session{second, first, expired, other} {
			must(t, s.CreateSession(ctx, ss))
		}
		now := base.Add(10 * time.Minute)
		got, err := s.ListUserSessions(ctx, "user-1", now)
		must(t, err)
		if len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID || !bytes.Equal(got[0].Hash, first.Hash) {
			t.Fatalf("user-1's sessions: %+v", got)
		}
		for _, ss := range got {
			must(t, s.DeleteSession(ctx, ss.Hash))
		}
		got, err = s.ListUserSessions(ctx, "user-1", now)
		must(t, err)
		if len(got) != 0 {
			t.Fatalf("sessions left after deleting them: %+v", got)
		}
		got, err = s.ListUserSessions(ctx, "user-2", now)
		must(t, err)
		if len(got) != 1 || got[0].ID != other.ID {
			t.Fatalf("user-2's sessions: %+v", got)
		}
	}},
}

var transferCases = []testCase[storage.Store]{
	{"TransferApplication", func(t *testing.T, s storage.Store) {
		ctx := context.Background()
		a := newApp("org-1", "app-1", 0)
		must(t, s.CreateApplication(ctx, a))
		at := base.Add(time.Hour)
		got, err := s.TransferApplication(ctx, "app-1", "user-creator", "user-2", at)
		must(t, err)
		want := a
		want.CreatedBy, want.UpdatedAt, want.Version = "user-2", at, 2
		same(t, got, want)
		read, err := s.GetApplication(ctx, "app-1")
		must(t, err)
		same(t, read, want)
		// From someone who no longer owns it: a conflict, nothing written.
		_, err = s.TransferApplication(ctx, "app-1", "user-creator", "user-3", at)
		wantErr(t, err, domain.ErrConflict)
		_, err = s.TransferApplication(ctx, "ghost", "user-creator", "user-3", at)
		wantErr(t, err, domain.ErrNotFound)
		read, err = s.GetApplication(ctx, "app-1")
		must(t, err)
		same(t, read, want)
	}},
}
