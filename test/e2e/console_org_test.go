package e2e

import (
	"context"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// The developer console for a second organization, in a real browser: a
// member of an organization other than make run's demo one signs in to the
// stack's console without being asked to consent to it, sees only their
// organization's credentials, consents to a colleague's SPA and finds that
// consent in the console, then creates an M2M client choosing from the
// registered scopes (only those their role may give can be chosen), reads
// its secret once, and the secret gets a token of their organization with
// that scope.
func TestConsoleForASecondOrganizationInChromium(t *testing.T) {
	chromiumPath(t)
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "web", "console", "node_modules", "playwright-core")); err != nil {
		if emulator.Required() {
			t.Fatal("web/console/node_modules is missing: run make console")
		}
		t.Skip("web/console/node_modules is missing: run make console")
	}
	l := testenv.StartLocal(t, "")
	ctx := context.Background()
	st := l.App(t)
	admin := ops.New(st.Store, st.Now)
	shots := os.Getenv("ORGAUTH_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// The second organization: an admin who made an SPA, and a member.
	org, err := admin.CreateOrganization(ctx, "Second Organization", domain.PlanEnterpriseLarge)
	if err != nil {
		t.Fatal(err)
	}
	ada := addMember(t, l, admin, org.ID, "ada", domain.RoleAdmin)
	mia := addMember(t, l, admin, org.ID, "mia", domain.RoleMember)
	const callback = "http://127.0.0.1:9/dashboard/callback"
	now := time.Now().UTC()
	dashboard := domain.Application{ClientID: domain.NewID(), OrganizationID: org.ID, Name: "Team dashboard", Type: domain.ClientSPA,
		CallbackURLs: []string{callback}, Scopes: []string{"read:demo"}, CreatedBy: ada.id, CreatedAt: now, UpdatedAt: now, Version: 1}
	if err := st.Store.CreateApplication(ctx, dashboard); err != nil {
		t.Fatal(err)
	}
	spa := &oauth2.Config{ClientID: dashboard.ClientID, RedirectURL: callback,
		Endpoint: oauth2.Endpoint{AuthURL: l.Issuer + "/authorize"}, Scopes: []string{"openid", "email", "read:demo"}}
	authURL := spa.AuthCodeURL("dash-state", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
		oauth2.SetAuthURLParam("audience", l.File.Audience))

	const name = "Second org jobs"
	r := runConsole(t, l, shots, "org", map[string]string{"email": mia.email, "password": mia.password, "name": name,
		"authorize_url": authURL, "callback": callback})

	// Signed in to the console, twice, and never shown a consent page for it.
	if r.User != mia.email {
		t.Errorf("signed in as %q, want %s", r.User, mia.email)
	}
	for _, title := range append(r.SignInTitles, r.ReentryTitles...) {
		if title == "Allow access?" {
			t.Errorf("the console asked for consent for itself: %v then %v", r.SignInTitles, r.ReentryTitles)
		}
	}
	// Only the second organization's credentials: the demo organization's
	// applications are not listed.
	if want := []string{dashboard.ClientID + " Team dashboard"}; !slices.Equal(r.Listed, want) {
		t.Errorf("listed %v, want %v", r.Listed, want)
	}
	for _, row := range r.Listed {
		for _, first := range []string{l.File.M2M.ClientID, l.File.SPA.ClientID} {
			if strings.Contains(row, first) {
				t.Errorf("the first organization's %s is listed: %v", first, r.Listed)
			}
		}
	}

	// A colleague's SPA asks first, naming itself, its creator and the
	// organization; the code comes only after Allow.
	if r.ConsentTitle != "Allow access?" {
		t.Errorf("the colleague's SPA was not preceded by the consent page: %q", r.ConsentTitle)
	}
	for _, want := range []string{"Team dashboard", ada.email, "Second Organization", "read:demo"} {
		if !strings.Contains(r.ConsentText, want) {
			t.Errorf("the consent page does not name %q: %s", want, r.ConsentText)
		}
	}
	landed, _ := url.Parse(r.Landed)
	if landed == nil || !strings.HasPrefix(r.Landed, callback+"?") || landed.Query().Get("code") == "" || landed.Query().Get("state") != "dash-state" {
		t.Errorf("after Allow: %q", r.Landed)
	} else {
		l.Secret(landed.Query().Get("code"))
	}
	// The console lists that consent, and none for itself.
	if !slices.Equal(r.Consents, []string{"Team dashboard: email read:demo openid"}) {
		t.Errorf("consents in the console: %v", r.Consents)
	}
	if c, err := st.Store.GetConsent(ctx, mia.id, dashboard.ClientID); err != nil || c.OrganizationID != org.ID {
		t.Errorf("stored consent: %+v %v", c, err)
	}
	if _, err := st.Store.GetConsent(ctx, mia.id, domain.ConsoleClientID); err == nil {
		t.Errorf("a consent was stored for the console")
	}

	// The M2M client: only read:demo could be chosen (write:demo is an
	// admin's); its scopes show on its page and its secret only once.
	if !r.M2MEnabled || !slices.Equal(r.Choices, []string{"read:demo", "write:demo (disabled)"}) || r.Scopes != "read:demo" {
		t.Errorf("create form: m2m %v, choices %v, scopes %q", r.M2MEnabled, r.Choices, r.Scopes)
	}
	if r.ClientID == "" || len(r.Secret) < 32 || !strings.Contains(r.DialogWarning, "only time") || !r.SecretGone ||
		r.DetailScopes != "read:demo" || !slices.Equal(r.Checked, []string{"read:demo"}) {
		t.Fatalf("created: %+v", r)
	}
	created, err := st.Store.GetApplication(ctx, r.ClientID)
	if err != nil || created.OrganizationID != org.ID || created.CreatedBy != mia.id || created.Type != domain.ClientM2M ||
		!slices.Equal(created.Scopes, []string{"read:demo"}) {
		t.Fatalf("stored: %+v %v", created, err)
	}

	// Its secret gets a token of the second organization, with read:demo.
	cc := &clientcredentials.Config{ClientID: r.ClientID, ClientSecret: r.Secret, TokenURL: l.Issuer + "/oauth/token",
		EndpointParams: url.Values{"audience": {l.File.Audience}}}
	tok, err := cc.Token(ctx)
	if err != nil {
		t.Fatalf("client_credentials with the console's secret: %v", err)
	}
	l.Secret(tok.AccessToken)
	provider, err := oidc.NewProvider(ctx, l.Issuer)
	if err != nil {
		t.Fatal(err)
	}
	idt, err := provider.Verifier(&oidc.Config{ClientID: l.File.Audience}).Verify(ctx, tok.AccessToken)
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	var claims struct {
		ClientID string `json:"client_id"`
		OrgID    string `json:"org_id"`
		Scope    string `json:"scope"`
	}
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	if idt.Subject != r.ClientID || claims.ClientID != r.ClientID || claims.OrgID != org.ID || claims.Scope != "read:demo" {
		t.Errorf("token: sub=%s %+v, want org_id %s and scope read:demo", idt.Subject, claims, org.ID)
	}
}
