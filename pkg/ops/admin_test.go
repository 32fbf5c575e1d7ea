package ops_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/password"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/storage/memory"
	"orgauth/pkg/testkit/emulator"
)

const goodPassword = "a long enough password"

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newAdmin returns an Admin on a fresh table in dynalite, its store, and a
// clock the test can move.
func newAdmin(t *testing.T) (*ops.Admin, *dynamo.Store, *time.Time) {
	t.Helper()
	p := emulator.StartForTest(t, emulator.StartDynalite)
	client := dynamo.NewLocalClient(p.Endpoint)
	if err := dynamo.CreateTable(t.Context(), client, "orgauth-admin-test"); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, "orgauth-admin-test")
	now := t0
	return ops.New(st, func() time.Time { return now }), st, &now
}

// wantInvalid fails unless err is an *admin.InvalidError about field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	var inv *ops.InvalidError
	if !errors.As(err, &inv) {
		t.Fatalf("error %v (%T), want *admin.InvalidError on %s", err, err, field)
	}
	if inv.Field != field || inv.Reason == "" {
		t.Fatalf("InvalidError{%q, %q}, want field %q", inv.Field, inv.Reason, field)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("error %q is more than one line", err)
	}
}

func TestAdmin(t *testing.T) {
	a, st, clock := newAdmin(t)
	ctx := t.Context()

	// Organizations.
	for name, tc := range map[string]struct {
		name  string
		plan  domain.Plan
		field string
	}{
		"empty name":    {"  ", domain.PlanFree, "name"},
		"long name":     {strings.Repeat("n", 101), domain.PlanFree, "name"},
		"control char":  {"a\tb", domain.PlanFree, "name"},
		"bidi override": {"Acme\u202Eevil", domain.PlanFree, "name"},
		"zero width":    {"Ac\u200Bme", domain.PlanFree, "name"},
		"bidi isolate":  {"Acme\u2066x\u2069", domain.PlanFree, "name"},
		"bad plan":      {"Acme", "platinum", "plan"},
		"no plan":       {"Acme", "", "plan"},
	} {
		_, err := a.CreateOrganization(ctx, tc.name, tc.plan)
		if err == nil {
			t.Fatalf("%s: CreateOrganization succeeded", name)
		}
		wantInvalid(t, err, tc.field)
	}
	org, err := a.CreateOrganization(ctx, "  Acme Corp ", domain.PlanTeam)
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Acme Corp" || org.Plan != domain.PlanTeam || !org.CreatedAt.Equal(t0) || len(org.ID) != 24 {
		t.Fatalf("created %+v", org)
	}
	if _, err := a.CreateOrganization(ctx, strings.Repeat("é", 100), domain.PlanFree); err != nil {
		t.Fatalf("a 100-character name: %v", err)
	}
	orgs, err := a.ListOrganizations(ctx)
	if err != nil || len(orgs) != 2 {
		t.Fatalf("ListOrganizations = %d, %v", len(orgs), err)
	}

	*clock = t0.Add(time.Hour)
	_, err = a.SetPlan(ctx, org.ID, "gold")
	wantInvalid(t, err, "plan")
	if _, err := a.SetPlan(ctx, "nosuchorg", domain.PlanFree); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("SetPlan on an unknown org: %v", err)
	}
	got, err := a.SetPlan(ctx, org.ID, domain.PlanEnterpriseLarge)
	if err != nil || got.Plan != domain.PlanEnterpriseLarge || !got.UpdatedAt.Equal(*clock) {
		t.Fatalf("SetPlan = %+v, %v", got, err)
	}
	if stored, _ := st.GetOrganization(ctx, org.ID); stored.Plan != domain.PlanEnterpriseLarge {
		t.Fatalf("stored plan %q", stored.Plan)
	}
	_, err = a.SetTokenQuota(ctx, org.ID, -1)
	wantInvalid(t, err, "quota")
	if got, err := a.SetTokenQuota(ctx, org.ID, 5000); err != nil || got.TokenQuota != 5000 {
		t.Fatalf("SetTokenQuota = %+v, %v", got, err)
	}
	if stored, _ := st.GetOrganization(ctx, org.ID); stored.TokenQuota != 5000 {
		t.Fatalf("stored quota %d", stored.TokenQuota)
	}

	// Users: validation.
	for name, tc := range map[string]struct {
		org, email, name string
		role             domain.Role
		pw               string
		field            string
	}{
		"no org":           {"", "a@example.com", "", domain.RoleMember, goodPassword, "org"},
		"no email":         {org.ID, "", "", domain.RoleMember, goodPassword, "email"},
		"not an email":     {org.ID, "alice", "", domain.RoleMember, goodPassword, "email"},
		"display name":     {org.ID, "Alice <alice@example.com>", "", domain.RoleMember, goodPassword, "email"},
		"two addresses":    {org.ID, "a@example.com, b@example.com", "", domain.RoleMember, goodPassword, "email"},
		"long email":       {org.ID, strings.Repeat("a", 250) + "@x.io", "", domain.RoleMember, goodPassword, "email"},
		"bad role":         {org.ID, "a@example.com", "", "owner", goodPassword, "role"},
		"no role":          {org.ID, "a@example.com", "", "", goodPassword, "role"},
		"short password":   {org.ID, "a@example.com", "", domain.RoleMember, "short", "password"},
		"long name":        {org.ID, "a@example.com", strings.Repeat("n", 101), domain.RoleMember, goodPassword, "name"},
		"bidi in name":     {org.ID, "a@example.com", "Alice\u202Enimda", domain.RoleMember, goodPassword, "name"},
		"zero width name":  {org.ID, "a@example.com", "Al\u200Bice", domain.RoleMember, goodPassword, "name"},
		"long password":    {org.ID, "a@example.com", "", domain.RoleMember, strings.Repeat("p", 257), "password"},
		"eleven char pass": {org.ID, "a@example.com", "", domain.RoleMember, "elevenchars", "password"},
	} {
		_, err := a.CreateUser(ctx, tc.org, tc.email, tc.name, tc.role, tc.pw)
		if err == nil {
			t.Fatalf("%s: CreateUser succeeded", name)
		}
		wantInvalid(t, err, tc.field)
		if tc.pw != "" && strings.Contains(err.Error(), tc.pw) {
			t.Fatalf("%s: error %q contains the password", name, err)
		}
	}
	if _, err := a.CreateUser(ctx, "nosuchorg", "a@example.com", "", domain.RoleMember, goodPassword); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("CreateUser in an unknown org: %v", err)
	}

	// Users: happy path.
	alice, err := a.CreateUser(ctx, org.ID, "Alice.Smith@Example.COM", " Alice Smith ", domain.RoleAdmin, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if alice.Email != "alice.smith@example.com" || alice.Name != "Alice Smith" || alice.Role != domain.RoleAdmin ||
		alice.OrganizationID != org.ID || alice.Disabled || !alice.CreatedAt.Equal(*clock) {
		t.Fatalf("created %+v", alice)
	}
	stored, err := st.GetUserByEmail(ctx, "alice.smith@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if stored.PasswordHash == goodPassword || !password.Verify(stored.PasswordHash, goodPassword) {
		t.Fatal("the stored password hash does not verify")
	}
	_, err = a.CreateUser(ctx, org.ID, "ALICE.SMITH@example.com", "", domain.RoleMember, goodPassword)
	if !errors.Is(err, domain.ErrAlreadyExists) {
		t.Fatalf("duplicate email in another case: %v", err)
	}
	bob, err := a.CreateUser(ctx, org.ID, "bob@example.com", "", domain.RoleMember, goodPassword)
	if err != nil {
		t.Fatal(err)
	}
	if alice.EmailVerified || bob.EmailVerified {
		t.Fatal("created verified without EmailVerified")
	}
	// The operator vouches for bob's address later.
	*clock = t0.Add(90 * time.Minute)
	if u, err := a.SetEmailVerified(ctx, "BOB@example.com", true); err != nil || !u.EmailVerified || !u.UpdatedAt.Equal(*clock) {
		t.Fatalf("SetEmailVerified: %+v %v", u, err)
	}
	if u, err := a.SetEmailVerified(ctx, "nobody@example.com", true); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("SetEmailVerified of nobody: %+v %v", u, err)
	}
	users, err := a.ListUsers(ctx, org.ID)
	if err != nil || len(users) != 2 || !users[1].EmailVerified || users[0].ID != alice.ID || users[1].ID != bob.ID {
		t.Fatalf("ListUsers = %+v, %v", users, err)
	}
	if _, err := a.ListUsers(ctx, "nosuchorg"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ListUsers of an unknown org: %v", err)
	}

	// Disable by id and by email in any case.
	*clock = t0.Add(2 * time.Hour)
	if u, err := a.DisableUser(ctx, bob.ID); err != nil || !u.Disabled || !u.UpdatedAt.Equal(*clock) {
		t.Fatalf("DisableUser(id) = %+v, %v", u, err)
	}
	if u, err := a.DisableUser(ctx, "Alice.Smith@EXAMPLE.com"); err != nil || !u.Disabled || u.ID != alice.ID {
		t.Fatalf("DisableUser(email) = %+v, %v", u, err)
	}
	*clock = t0.Add(3 * time.Hour)
	if u, err := a.DisableUser(ctx, bob.ID); err != nil || !u.UpdatedAt.Equal(t0.Add(2*time.Hour)) {
		t.Fatalf("disabling again = %+v, %v; want no change", u, err)
	}
	for _, who := range []string{"nosuchuser", "nobody@example.com"} {
		if _, err := a.DisableUser(ctx, who); !errors.Is(err, domain.ErrNotFound) {
			t.Fatalf("DisableUser(%q): %v", who, err)
		}
	}
	_, err = a.DisableUser(ctx, " ")
	wantInvalid(t, err, "user")

	// Applications: every page.
	if apps, err := a.ListApplications(ctx, org.ID); err != nil || len(apps) != 0 {
		t.Fatalf("ListApplications of an org without any = %v, %v", apps, err)
	}
	const n = 205 // three pages of 100
	for i := range n {
		at := t0.Add(time.Duration(i) * time.Second)
		app := domain.Application{
			ClientID: domain.NewID(), OrganizationID: org.ID, Name: "app", Type: domain.ClientSPA,
			CallbackURLs: []string{"https://app.example.com/cb"}, CreatedBy: alice.ID, CreatedAt: at, UpdatedAt: at,
		}
		if err := st.CreateApplication(ctx, app); err != nil {
			t.Fatal(err)
		}
	}
	apps, err := a.ListApplications(ctx, org.ID)
	if err != nil || len(apps) != n {
		t.Fatalf("ListApplications = %d, %v; want %d", len(apps), err, n)
	}
	for i := 1; i < n; i++ {
		if !apps[i].CreatedAt.After(apps[i-1].CreatedAt) {
			t.Fatalf("applications out of creation order at %d", i)
		}
	}
	if _, err := a.ListApplications(ctx, "nosuchorg"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("ListApplications of an unknown org: %v", err)
	}
}

func TestCheckEmail(t *testing.T) {
	for in, want := range map[string]string{
		"alice@example.com":       "alice@example.com",
		" Alice@Example.COM ":     "alice@example.com",
		"a.b+tag@sub.example.org": "a.b+tag@sub.example.org",
		"ada@Bücher.example":      "ada@xn--bcher-kva.example",
	} {
		if got, err := ops.CheckEmail(in); err != nil || got != want {
			t.Errorf("CheckEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "alice", "@example.com", "alice@", "Alice <alice@example.com>",
		"<alice@example.com>", "a@example.com, b@example.com", `"a b"@example.com`, "alice@example.com (Alice)",
		"alice@acme.example@evil.example", `"alice@acme.example"@evil.example`, "alice@\u212Aacme.example", "alice@\u0130nc.example"} {
		if got, err := ops.CheckEmail(in); err == nil {
			t.Errorf("CheckEmail(%q) = %q, want an error", in, got)
		}
	}
}

// Every command that names a user by email finds them as CreateUser
// stored the address: in CheckEmail's normal form.
func TestUserByEmailInAnyForm(t *testing.T) {
	ctx := t.Context()
	now := t0
	a := ops.New(memory.New(), func() time.Time { return now })
	org, err := a.CreateOrganization(ctx, "Bücher", domain.PlanTeam)
	if err != nil {
		t.Fatal(err)
	}
	ada, err := a.CreateUser(ctx, org.ID, "ada@bücher.example", "", domain.RoleMember, goodPassword)
	if err != nil || ada.Email != "ada@xn--bcher-kva.example" {
		t.Fatalf("CreateUser: %+v, %v", ada, err)
	}
	const typed = " Ada@bücher.EXAMPLE "
	if u, err := a.DisableUser(ctx, typed); err != nil || u.ID != ada.ID || !u.Disabled {
		t.Fatalf("DisableUser: %+v, %v", u, err)
	}
	if u, err := a.EnableUser(ctx, typed); err != nil || u.ID != ada.ID || u.Disabled {
		t.Fatalf("EnableUser: %+v, %v", u, err)
	}
	if u, err := a.SetEmailVerified(ctx, typed, true); err != nil || u.ID != ada.ID || !u.EmailVerified {
		t.Fatalf("SetEmailVerified: %+v, %v", u, err)
	}
	_, err = a.EnableUser(ctx, "Ada <ada@bücher.example>")
	wantInvalid(t, err, "email")
}
