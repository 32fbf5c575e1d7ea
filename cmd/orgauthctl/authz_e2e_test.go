package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

func TestAPIsAndAppsAgainstDynalite(t *testing.T) {
	p := emulator.StartForTest(t, emulator.StartDynalite)
	const tableName = "orgauthctl-authz-test"
	client := dynamo.NewLocalClient(p.Endpoint)
	if err := dynamo.CreateTable(t.Context(), client, tableName); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, tableName)
	bin := ctlBinary(t)
	var audit []string
	c := ctl{t: t, bin: bin, audit: &audit, vars: environ(
		"DYNAMODB_ENDPOINT="+p.Endpoint, "TABLE_NAME="+tableName, "ORGAUTH_DATA_DIR="+t.TempDir())}

	// APIs, with scopes as flags and from a file.
	const aud = "https://api.acme.example"
	var api apiJSON
	c.okJSON(&api, "", "apis", "create", "--audience", aud, "--name", "Acme API",
		"--scope", `read=Read: your data:member,admin`, "--scope", "admin:all=Everything:admin")
	if api.Audience != aud || len(api.Scopes) != 2 || api.Scopes[0].Description != "Read: your data" ||
		!slices.Equal(api.Scopes[0].Roles, []string{"member", "admin"}) || api.Scopes[1].Name != "admin:all" {
		t.Fatalf("created %+v", api)
	}
	c.fails(1, "already registered", "", "apis", "create", "--audience", aud)
	c.fails(1, "invalid scopes[0].name", "", "apis", "create", "--audience", "urn:acme:x", "--scope", `a b=x:`)
	c.fails(2, "has no :roles", "", "apis", "create", "--audience", "urn:acme:x", "--scope", `a=x`)
	file := filepath.Join(t.TempDir(), "scopes.json")
	if err := os.WriteFile(file, []byte(`[{"name":"ping","description":"Ping it","roles":["member"]}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	c.ok("", "apis", "create", "--audience", "urn:acme:ping")
	c.okJSON(&api, "", "apis", "update", "--audience", "urn:acme:ping", "--scopes-file", file)
	if len(api.Scopes) != 1 || api.Scopes[0].Name != "ping" {
		t.Fatalf("updated %+v", api)
	}
	out := c.ok("", "apis", "show", "--audience", "urn:acme:ping")
	if !strings.Contains(out, "ping   member  Ping it") {
		t.Fatalf("apis show:\n%s", out)
	}
	var list struct {
		APIs []apiJSON `json:"apis"`
	}
	c.okJSON(&list, "", "apis", "list")
	if len(list.APIs) != 2 || list.APIs[0].Audience != aud {
		t.Fatalf("apis list %+v", list)
	}
	c.ok("", "apis", "delete", "--audience", "urn:acme:ping")
	var boot struct {
		Registered []apiJSON `json:"registered"`
	}
	c.okJSON(&boot, "", "apis", "bootstrap", "--audiences", aud+",urn:acme:boot")
	if len(boot.Registered) != 1 || boot.Registered[0].Audience != "urn:acme:boot" {
		t.Fatalf("bootstrap %+v", boot)
	}
	c.okJSON(&boot, "", "apis", "bootstrap", "--audiences", aud+",urn:acme:boot")
	if len(boot.Registered) != 0 {
		t.Fatalf("second bootstrap %+v", boot)
	}
	c.ok("", "apis", "delete", "--audience", "urn:acme:boot")
	c.fails(1, "API urn:acme:ping is not registered", "", "apis", "show", "--audience", "urn:acme:ping")

	// Applications: an M2M one whose secret is printed once.
	var org organization
	c.okJSON(&org, "", "orgs", "create", "--name", "Acme", "--plan", "enterprise_large")
	var admin, member user
	c.okJSON(&admin, "admin's long password\n", "users", "create", "--org", org.ID, "--email", "admin@acme.example", "--role", "admin", "--password-stdin")
	c.okJSON(&member, "member's long password\n", "users", "create", "--org", org.ID, "--email", "member@acme.example", "--password-stdin")
	c.fails(1, `invalid scopes: "admin:all" may not be held by the member role`, "", "apps", "create", "--org", org.ID,
		"--creator", member.Email, "--name", "Batch", "--type", "m2m", "--scopes", "admin:all")
	var app struct {
		application
		ClientSecret string `json:"client_secret"`
	}
	c.okJSON(&app, "", "apps", "create", "--org", org.ID, "--creator", member.Email, "--name", "Batch", "--type", "m2m", "--scopes", "read")
	stored, err := st.GetApplication(t.Context(), app.ClientID)
	if err != nil || app.ClientSecret == "" || !stored.SecretMatches(app.ClientSecret, time.Now()) || stored.CreatedBy != member.ID {
		t.Fatalf("created %+v (stored %+v, %v)", app, stored, err)
	}
	var shown application
	c.okJSON(&shown, "", "apps", "show", "--client-id", app.ClientID)
	if shown.ClientID != app.ClientID || shown.Name != "Batch" {
		t.Fatalf("apps show %+v", shown)
	}
	var spa application
	c.okJSON(&spa, "", "apps", "create", "--org", org.ID, "--creator", admin.ID, "--name", "Web", "--type", "spa",
		"--callback", "https://web.acme.example/cb", "--origin", "https://web.acme.example", "--scopes", "read,admin:all")

	// Transfer, to an enabled member only.
	c.ok("", "users", "disable", "--user", admin.Email)
	c.fails(1, "is disabled", "", "apps", "transfer", "--client-id", app.ClientID, "--to", admin.Email)
	var enabled user
	c.okJSON(&enabled, "", "users", "enable", "--user", admin.Email)
	if enabled.Disabled {
		t.Fatalf("enabled %+v", enabled)
	}
	var moved application
	c.okJSON(&moved, "", "apps", "transfer", "--client-id", app.ClientID, "--to", admin.Email)
	if moved.CreatedBy != admin.ID {
		t.Fatalf("transferred %+v", moved)
	}

	// Deleting revokes the application's refresh-token families.
	now := time.Now()
	if err := st.CreateRefreshFamily(t.Context(), domain.RefreshFamily{ID: "fam-1", ClientID: spa.ClientID, UserID: member.ID,
		OrganizationID: org.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	var deleted struct {
		Deleted         string `json:"deleted"`
		FamiliesRevoked int    `json:"families_revoked"`
	}
	c.okJSON(&deleted, "", "apps", "delete", "--client-id", spa.ClientID)
	if f, err := st.GetRefreshFamily(t.Context(), "fam-1", now); err != nil || !f.Revoked || deleted.FamiliesRevoked != 1 {
		t.Fatalf("after delete: %+v, %v, %+v", f, err, deleted)
	}
	c.fails(1, "does not exist", "", "apps", "show", "--client-id", spa.ClientID)

	for _, want := range []string{"api_created", "api_updated", "api_deleted", "application_created", "application_transferred",
		"application_deleted", "user_enabled", "user_disabled"} {
		if !slices.Contains(audit, want) {
			t.Errorf("no %s audit line among %v", want, audit)
		}
	}
}
