package ops_test

import (
	"bytes"
	"errors"
	"log/slog"
	"slices"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
)

// lastEvent is the latest line of event among the audit lines written
// since the last look (auditLines, sso_test.go, empties buf).
func lastEvent(t *testing.T, buf *bytes.Buffer, event string) map[string]any {
	t.Helper()
	lines := auditLines(t, buf)
	for i := len(lines) - 1; i >= 0; i-- {
		if lines[i]["event"] == event {
			return lines[i]
		}
	}
	t.Fatalf("no %s audit line in %s", event, buf)
	return nil
}

func TestAPIsAppsAndRevocation(t *testing.T) {
	a, st, clock := newAdmin(t)
	var audit bytes.Buffer
	a.WithAudit(&ops.Auditor{Log: slog.New(slog.NewJSONHandler(&audit, nil)), Actor: "test"})
	ctx := t.Context()

	org, err := a.CreateOrganization(ctx, "Acme", domain.PlanEnterpriseLarge)
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.CreateOrganization(ctx, "Other", domain.PlanFree)
	if err != nil {
		t.Fatal(err)
	}
	mkUser := func(orgID, email string, role domain.Role) domain.User {
		u, err := a.CreateUser(ctx, orgID, email, "", role, goodPassword)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	admin := mkUser(org.ID, "admin@acme.example", domain.RoleAdmin)
	member := mkUser(org.ID, "member@acme.example", domain.RoleMember)
	gone := mkUser(org.ID, "gone@acme.example", domain.RoleAdmin)
	stranger := mkUser(other.ID, "x@other.example", domain.RoleAdmin)
	if _, err := a.DisableUser(ctx, gone.Email); err != nil {
		t.Fatal(err)
	}

	// APIs.
	const aud = "https://api.acme.example"
	_, err = a.CreateAPI(ctx, aud, "Acme API", []domain.APIScope{{Name: "read all", Description: "x"}})
	wantInvalid(t, err, "scopes[0].name")
	api, err := a.CreateAPI(ctx, aud, "Acme API", []domain.APIScope{
		{Name: "read", Description: "Read", Roles: []domain.Role{domain.RoleMember, domain.RoleAdmin}},
		{Name: "admin:all", Description: "Everything", Roles: []domain.Role{domain.RoleAdmin}},
	})
	if err != nil || api.Version != 1 || !api.CreatedAt.Equal(t0) {
		t.Fatalf("CreateAPI: %+v, %v", api, err)
	}
	if _, err := a.CreateAPI(ctx, aud, "again", nil); !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("second CreateAPI: %v", err)
	}
	created, err := a.BootstrapAPIs(ctx, []string{aud, "urn:acme:new", " "})
	if err != nil || len(created) != 1 || created[0].Audience != "urn:acme:new" || len(created[0].Scopes) != 0 {
		t.Fatalf("BootstrapAPIs: %+v, %v", created, err)
	}
	if created, err := a.BootstrapAPIs(ctx, []string{aud, "urn:acme:new"}); err != nil || len(created) != 0 {
		t.Fatalf("BootstrapAPIs again: %+v, %v", created, err)
	}
	name := "Renamed"
	scopes := []domain.APIScope{{Name: "ping", Description: "Ping", Roles: []domain.Role{domain.RoleMember}}}
	up, err := a.UpdateAPI(ctx, "urn:acme:new", ops.APIChange{Name: &name, Scopes: &scopes})
	if err != nil || up.Name != "Renamed" || up.Version != 2 || len(up.Scopes) != 1 {
		t.Fatalf("UpdateAPI: %+v, %v", up, err)
	}
	bad := []domain.APIScope{{Name: "x", Description: "x", Roles: []domain.Role{"owner"}}}
	_, err = a.UpdateAPI(ctx, "urn:acme:new", ops.APIChange{Scopes: &bad})
	wantInvalid(t, err, "scopes[0].roles")
	if _, err := a.UpdateAPI(ctx, "urn:acme:missing", ops.APIChange{Name: &name}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("UpdateAPI of a missing API: %v", err)
	}
	if line := lastEvent(t, &audit, "api_updated"); line["audience"] != "urn:acme:new" {
		t.Fatalf("api_updated line %v", line)
	}
	if err := a.DeleteAPI(ctx, "urn:acme:new"); err != nil {
		t.Fatal(err)
	}
	if err := a.DeleteAPI(ctx, "urn:acme:new"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second DeleteAPI: %v", err)
	}
	if apis, err := a.ListAPIs(ctx); err != nil || len(apis) != 1 || apis[0].Audience != aud {
		t.Fatalf("ListAPIs: %+v, %v", apis, err)
	}

	// Applications: only registered scopes the creator's role may hold.
	m2m := ops.NewApplication{OrganizationID: org.ID, Creator: member.Email, Name: "Batch", Type: domain.ClientM2M, Scopes: []string{"read"}}
	for field, change := range map[string]func(*ops.NewApplication){
		"scopes":        func(n *ops.NewApplication) { n.Scopes = []string{"admin:all"} },
		"type":          func(n *ops.NewApplication) { n.Type = "desktop" },
		"name":          func(n *ops.NewApplication) { n.Name = "" },
		"creator":       func(n *ops.NewApplication) { n.Creator = gone.ID },
		"callback_urls": func(n *ops.NewApplication) { n.Type = domain.ClientSPA },
		// The applications API's rules (domain.Application.Validate).
		"callback_urls[0]": func(n *ops.NewApplication) {
			n.Type, n.CallbackURLs = domain.ClientSPA, []string{"http://web.acme.example/cb"}
		},
		"allowed_origins[0]": func(n *ops.NewApplication) {
			n.Type, n.CallbackURLs, n.AllowedOrigins = domain.ClientSPA, []string{"https://web.acme.example/cb"}, []string{"https://web.acme.example/"}
		},
	} {
		in := m2m
		change(&in)
		_, _, err := a.CreateApplication(ctx, in)
		wantInvalid(t, err, field)
	}
	in := m2m
	in.Scopes = []string{"bogus"}
	_, _, err = a.CreateApplication(ctx, in)
	wantInvalid(t, err, "scopes")
	in = m2m
	in.Creator = stranger.ID
	_, _, err = a.CreateApplication(ctx, in)
	wantInvalid(t, err, "creator")
	in = m2m
	in.OrganizationID, in.Creator = other.ID, stranger.ID
	_, _, err = a.CreateApplication(ctx, in) // the free plan has no M2M
	wantInvalid(t, err, "type")

	app, secret, err := a.CreateApplication(ctx, m2m)
	if err != nil {
		t.Fatal(err)
	}
	if app.CreatedBy != member.ID || secret == "" || !app.SecretMatches(secret, *clock) {
		t.Fatalf("created %+v with secret %q", app, secret)
	}
	if stored, err := st.GetApplication(ctx, app.ClientID); err != nil || !slices.Equal(stored.Scopes, []string{"read"}) {
		t.Fatalf("stored %+v, %v", stored, err)
	}
	spa, _, err := a.CreateApplication(ctx, ops.NewApplication{OrganizationID: org.ID, Creator: admin.ID, Name: "Web", Type: domain.ClientSPA,
		CallbackURLs: []string{"https://web.acme.example/cb"}, AllowedOrigins: []string{"https://web.acme.example"}, Scopes: []string{"admin:all"}})
	if err != nil {
		t.Fatal(err)
	}

	// Transfer: to an enabled member of the organization whose role may
	// hold the application's scopes.
	_, err = a.TransferApplication(ctx, spa.ClientID, member.Email)
	wantInvalid(t, err, "scopes")
	_, err = a.TransferApplication(ctx, app.ClientID, gone.Email)
	wantInvalid(t, err, "to")
	_, err = a.TransferApplication(ctx, app.ClientID, stranger.Email)
	wantInvalid(t, err, "to")
	*clock = t0.Add(time.Hour)
	moved, err := a.TransferApplication(ctx, app.ClientID, admin.Email)
	if err != nil || moved.CreatedBy != admin.ID || !moved.UpdatedAt.Equal(*clock) {
		t.Fatalf("transfer: %+v, %v", moved, err)
	}
	if line := lastEvent(t, &audit, "application_transferred"); line["from"] != member.ID || line["to"] != admin.ID {
		t.Fatalf("transfer audit line %v", line)
	}

	// Deleting an application revokes its families; disabling a user
	// revokes theirs and ends their sessions.
	now := *clock
	fam := func(id, clientID, userID string) {
		if err := st.CreateRefreshFamily(ctx, domain.RefreshFamily{ID: id, ClientID: clientID, UserID: userID,
			OrganizationID: org.ID, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	fam("f-spa-member", spa.ClientID, member.ID)
	fam("f-spa-admin", spa.ClientID, admin.ID)
	fam("f-other-member", "another-client", member.ID)
	_, hash := domain.NewSecret()
	if err := st.CreateSession(ctx, domain.Session{Hash: hash, ID: "s-1", UserID: member.ID, OrganizationID: org.ID,
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(12 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	revoked := func(id string) bool {
		f, err := st.GetRefreshFamily(ctx, id, now)
		if err != nil {
			t.Fatal(err)
		}
		return f.Revoked
	}
	n, err := a.DeleteApplication(ctx, spa.ClientID)
	if err != nil || n != 2 || !revoked("f-spa-member") || !revoked("f-spa-admin") || revoked("f-other-member") {
		t.Fatalf("DeleteApplication: %d revoked, %v", n, err)
	}
	if _, err := st.GetApplication(ctx, spa.ClientID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("deleted application reads: %v", err)
	}
	if _, err := a.DeleteApplication(ctx, spa.ClientID); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if line := lastEvent(t, &audit, "application_deleted"); line["families_revoked"] != float64(2) {
		t.Fatalf("delete audit line %v", line)
	}

	if _, err := a.DisableUser(ctx, member.ID); err != nil {
		t.Fatal(err)
	}
	if !revoked("f-other-member") {
		t.Fatal("disabling a user left their family live")
	}
	if _, err := st.GetSession(ctx, hash, now); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("disabling a user left their session: %v", err)
	}
	if line := lastEvent(t, &audit, "user_disabled"); line["sessions_ended"] != float64(1) || line["families_revoked"] != float64(1) {
		t.Fatalf("disable audit line %v", line)
	}
	u, err := a.EnableUser(ctx, member.Email)
	if err != nil || u.Disabled {
		t.Fatalf("EnableUser: %+v, %v", u, err)
	}
	if _, err := a.EnableUser(ctx, "nobody@acme.example"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("enable a missing user: %v", err)
	}
	lastEvent(t, &audit, "user_enabled")
}
