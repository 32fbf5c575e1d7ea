package applications_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
)

// An application names only registered scopes (422 naming the field), and
// only those its creator's role holds (403 naming it); what it may keep is
// what it had.
func TestScopesAreRegisteredAndHeld(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"name":"x","type":"m2m","scopes":["admin:all"]}`, 422, "scopes[0]"},
		{`{"name":"x","type":"spa","callback_urls":["https://a.example.com/cb"],"scopes":["read","admin:all"]}`, 422, "scopes[1]"},
		// write is for admins; the creator is a member.
		{`{"name":"x","type":"m2m","scopes":["read","write"]}`, 403, "scopes[1]"},
	} {
		r := e.do(t, "creator", "POST", "/applications", tc.body)
		if r.status != tc.status || r.body["field"] != tc.field || !strings.Contains(r.raw, "scope") {
			t.Errorf("create %s: %d %s", tc.body, r.status, r.raw)
		}
	}
	app := e.create(t, "creator", `{"name":"ok","type":"m2m","scopes":["read"]}`)
	id := app.body["client_id"].(string)
	for _, tc := range []struct {
		body   string
		status int
	}{
		{`{"scopes":["read","admin:all"]}`, 422},
		{`{"scopes":["write"]}`, 403},
		{`{"scopes":[]}`, 200},
	} {
		if r := e.do(t, "creator", "PATCH", "/applications/"+id, tc.body); r.status != tc.status {
			t.Errorf("PATCH %s: %d %s", tc.body, r.status, r.raw)
		}
	}
	// An admin may give write; a member who is not its creator changes nothing.
	admin := e.st.AddUser(t, e.org1, "admin@example.com")
	if _, err := e.st.Stage.Store.UpdateUser(context.Background(), admin, func(u domain.User) (domain.User, error) {
		u.Role = domain.RoleAdmin
		return u, nil
	}); err != nil {
		t.Fatal(err)
	}
	e.tokens["admin"] = e.st.UserToken(t, admin, e.org1, time.Hour, e.st.Stage.Cfg.ManagementAudience)
	w := e.create(t, "admin", `{"name":"writer","type":"m2m","scopes":["read","write"]}`)
	// A kept scope stays when another field changes.
	if r := e.do(t, "admin", "PATCH", "/applications/"+w.body["client_id"].(string), `{"name":"renamed"}`); r.status != 200 {
		t.Errorf("rename: %d %s", r.status, r.raw)
	}
}

// GET /apis lists the registry with what the caller may give.
func TestListAPIs(t *testing.T) {
	e := newEnv(t)
	r := e.do(t, "member", "GET", "/apis", "")
	if r.status != 200 || r.body["role"] != "member" {
		t.Fatalf("GET /apis: %d %s", r.status, r.raw)
	}
	apis := r.body["apis"].([]any)
	api := apis[slices.IndexFunc(apis, func(a any) bool { return a.(map[string]any)["audience"] == e.st.Audience })].(map[string]any)
	got := map[string]bool{}
	for _, s := range api["scopes"].([]any) {
		m := s.(map[string]any)
		got[m["name"].(string)] = m["grantable"].(bool)
		if m["description"] == "" {
			t.Errorf("scope without description: %v", m)
		}
	}
	if !got["read"] || got["write"] || len(got) != 2 {
		t.Errorf("grantable = %v", got)
	}
	if r := e.do(t, "none", "GET", "/apis", ""); r.status != 401 {
		t.Errorf("anonymous GET /apis: %d", r.status)
	}
}

// The console is the stack's client: no organization's member can read,
// change, rotate or delete it, and it is in no list.
func TestConsoleCannotBeChanged(t *testing.T) {
	e := newEnv(t)
	p := "/applications/" + domain.ConsoleClientID
	for _, actor := range []string{"creator", "member", "outsider"} {
		for _, c := range []struct{ method, path, body string }{
			{"GET", p, ""}, {"PATCH", p, `{"callback_urls":["https://evil.example.com/cb"]}`},
			{"DELETE", p, ""}, {"POST", p + "/rotate-secret", ""},
		} {
			if r := e.do(t, actor, c.method, c.path, c.body); r.status != 404 {
				t.Errorf("%s %s %s: %d %s", actor, c.method, c.path, r.status, r.raw)
			}
		}
		if r := e.do(t, actor, "GET", "/applications", ""); r.status != 200 || strings.Contains(r.raw, domain.ConsoleClientID) {
			t.Errorf("%s list: %d %s", actor, r.status, r.raw)
		}
	}
	c, err := e.st.Stage.Store.GetApplication(context.Background(), domain.ConsoleClientID)
	if err != nil || !slices.Equal(c.CallbackURLs, []string{e.st.Stage.Cfg.Issuer + "/console/callback"}) {
		t.Errorf("console after the attempts: %+v %v", c, err)
	}
}

// A deleted M2M application's management token is refused, and deleting
// an application revokes its refresh families.
func TestDeletedApplicationsTokensRefused(t *testing.T) {
	e := newEnv(t)
	app := e.create(t, "creator", `{"name":"reader","type":"m2m"}`)
	id := app.body["client_id"].(string)
	tok := e.m2mToken(t, id, app.body["client_secret"].(string), e.st.Stage.Cfg.ManagementAudience)
	e.tokens["reader"] = tok
	if r := e.do(t, "reader", "GET", "/applications", ""); r.status != 200 {
		t.Fatalf("before delete: %d", r.status)
	}
	spa := e.create(t, "creator", spaBody)
	spaID := spa.body["client_id"].(string)
	ctx := context.Background()
	now := time.Now()
	fam := domain.RefreshFamily{ID: domain.NewID(), ClientID: spaID, UserID: e.member, OrganizationID: e.org1, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := e.st.Stage.Store.CreateRefreshFamily(ctx, fam); err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{id, spaID} {
		if r := e.do(t, "creator", "DELETE", "/applications/"+c, ""); r.status != 204 {
			t.Fatalf("delete: %d", r.status)
		}
	}
	if r := e.do(t, "reader", "GET", "/applications", ""); r.status != 401 || !strings.Contains(r.raw, "no longer exists") {
		t.Errorf("deleted application's token: %d %s", r.status, r.raw)
	}
	if f, err := e.st.Stage.Store.GetRefreshFamily(ctx, fam.ID, time.Now()); err != nil || !f.Revoked {
		t.Errorf("family of the deleted SPA: %+v %v", f, err)
	}
}
