package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/endpoints/console"
	"orgauth/pkg/ops"
	"orgauth/pkg/password"
	"orgauth/pkg/testkit/emulator"
	"orgauth/test/testenv"
)

// consoleRun is what web/console/e2e/console-flow.mjs reports of a phase.
type consoleRun struct {
	Error       string              `json:"error"`
	Console     []string            `json:"console"`
	Foreign     []string            `json:"foreign"`
	Axe         map[string][]string `json:"axe"`
	Screenshots []string            `json:"screenshots"`

	// create
	User            string `json:"user"`
	M2MEnabled      bool   `json:"m2mEnabled"`
	FieldError      string `json:"fieldError"`
	FieldInvalid    string `json:"fieldInvalid"`
	FieldFocused    bool   `json:"fieldFocused"`
	URLFieldsHidden bool   `json:"urlFieldsHidden"`
	ClientID        string `json:"clientId"`
	Secret          string `json:"secret"`
	Clipboard       string `json:"clipboard"`
	DialogWarning   string `json:"dialogWarning"`
	SecretGone      bool   `json:"secretGone"`
	Flash           string `json:"flash"`
	PhoneClientID   string `json:"phoneClientId"`
	PhoneSecret     string `json:"phoneSecret"`
	// readonly
	Grants    []string `json:"grants"`
	CreatedBy string   `json:"createdBy"`
	Note      string   `json:"note"`
	Buttons   []string `json:"buttons"`
	Textboxes int      `json:"textboxes"`
	// rotate
	Saved    bool   `json:"saved"`
	Grace    string `json:"grace"`
	GraceISO string `json:"graceISO"`
	// plan
	PlanNote string `json:"planNote"`
	// delete
	StillListed       int    `json:"stillListed"`
	SignedOutAt       string `json:"signedOutAt"`
	LoginAfterSignOut bool   `json:"loginAfterSignOut"`
	// org
	SignInTitles  []string `json:"signInTitles"`
	ReentryTitles []string `json:"reentryTitles"`
	Listed        []string `json:"listed"`
	ConsentTitle  string   `json:"consentTitle"`
	ConsentText   string   `json:"consentText"`
	Landed        string   `json:"landed"`
	Consents      []string `json:"consents"`
	Choices       []string `json:"choices"`
	Scopes        string   `json:"scopes"`
	DetailScopes  string   `json:"detailScopes"`
	Checked       []string `json:"checked"`
}

// runConsole runs one phase of the browser script and checks what every
// phase must hold: no uncaught error, no CSP violation, no request to
// another origin, no serious or critical axe violation.
func runConsole(t *testing.T, l *testenv.Local, shots, phase string, in map[string]string) consoleRun {
	t.Helper()
	root, err := emulator.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	input, _ := json.Marshal(in)
	cmd := exec.Command("node", filepath.Join(root, "web", "console", "e2e", "console-flow.mjs"), phase, l.Issuer, shots)
	cmd.Env = append(os.Environ(), "CHROMIUM="+chromiumPath(t))
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var res consoleRun
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s: %v %v\n%s\n%s", phase, runErr, err, out, stderr.String())
	}
	l.Secret(res.Secret, res.PhoneSecret, res.Clipboard)
	if res.Error != "" || runErr != nil {
		t.Fatalf("%s: %v\n%s\nscreenshots: %v\nconsole: %v", phase, runErr, res.Error, res.Screenshots, res.Console)
	}
	for _, m := range res.Console {
		// The validation answers the test provokes are logged by the browser
		// as failed loads; anything else (CSP, uncaught errors) is a bug.
		if !strings.Contains(m, "status of 400") {
			t.Errorf("%s: console: %s", phase, m)
		}
	}
	if len(res.Foreign) > 0 {
		t.Errorf("%s: requests to other origins: %v", phase, res.Foreign)
	}
	for page, vs := range res.Axe {
		for _, v := range vs {
			t.Errorf("%s: axe on %s: %s", phase, page, v)
		}
	}
	return res
}

// clientCredentials asks the token endpoint for an M2M token and returns
// the status.
func clientCredentials(t *testing.T, l *testenv.Local, id, secret string) int {
	t.Helper()
	resp, err := http.PostForm(l.Issuer+"/oauth/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {id}, "client_secret": {secret}, "audience": {l.File.Audience},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&body)
	l.Secret(body.AccessToken)
	if resp.StatusCode == 200 && body.AccessToken == "" {
		t.Fatalf("200 without an access token")
	}
	return resp.StatusCode
}

// The developer console in a real browser, through make run's stack: the
// demo user signs in and creates an M2M client, whose secret (shown once)
// gets tokens; another member sees it read-only; the creator rotates the
// secret (the old one keeps working in the grace period) and deletes the
// client, which then gets no token. Every page passes axe; screenshots at
// phone and desktop widths go to ORGAUTH_SCREENSHOT_DIR when it is set.
func TestConsoleInChromium(t *testing.T) {
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
	if l.File.Console.ClientID == "" || l.File.Console.URL != l.Issuer+"/console/" {
		t.Fatalf("local.json has no console: %+v", l.File.Console)
	}
	resp, err := http.Get(l.Issuer + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Security-Policy") != console.CSP {
		t.Fatalf("GET /console/: %d %v\n%s\n(the console is built by make console)", resp.StatusCode, resp.Header, page)
	}

	shots := os.Getenv("ORGAUTH_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	} else if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}

	// A second member of the demo organization.
	ctx := context.Background()
	app := l.App(t)
	memberPW := password.Generate()
	l.Secret(memberPW)
	memberEmail := "member+" + l.File.OrganizationID[:8] + "@example.com"
	if _, err := ops.New(app.Store, app.Now).CreateUser(ctx, l.File.OrganizationID, memberEmail, "Second Member", domain.RoleMember, memberPW); err != nil {
		t.Fatal(err)
	}
	creator, err := app.Store.GetUserByEmail(ctx, l.File.User.Email)
	if err != nil {
		t.Fatal(err)
	}
	const name = "Nightly reports"
	owner := map[string]string{"email": l.File.User.Email, "password": l.File.User.Password, "name": name}

	// 1–2. The demo user signs in, creates an M2M client and reads its secret once.
	c := runConsole(t, l, shots, "create", owner)
	if c.User != l.File.User.Email || !c.M2MEnabled || c.ClientID == "" || len(c.Secret) < 32 || c.Clipboard != c.Secret ||
		!c.SecretGone || !strings.Contains(c.DialogWarning, "only time") || c.Flash != "Created "+name+"." || !c.URLFieldsHidden {
		t.Fatalf("create: %+v", c)
	}
	if c.FieldError != "Line 2: Must not contain a fragment" || c.FieldInvalid != "true" || !c.FieldFocused {
		t.Errorf("the API's validation message is not beside its field: %+v", c)
	}
	created, err := app.Store.GetApplication(ctx, c.ClientID)
	if err != nil || created.Type != domain.ClientM2M || created.CreatedBy != creator.ID || created.AccessTokenLifetime != 15*time.Minute ||
		strings.Join(created.Scopes, " ") != "read:demo" {
		t.Fatalf("stored: %+v %v", created, err)
	}
	for _, want := range []string{"list-390", "list-1280", "create-390", "create-1280", "secret-390", "secret-1280"} {
		if b, err := os.ReadFile(filepath.Join(shots, want+".png")); err != nil || !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("screenshot %s: %v", want, err)
		}
	}

	// 3. The secret from the dialog gets a token.
	if s := clientCredentials(t, l, c.ClientID, c.Secret); s != 200 {
		t.Fatalf("client_credentials with the console's secret: %d", s)
	}

	// 4. Another member sees it read-only.
	r := runConsole(t, l, shots, "readonly", map[string]string{"email": memberEmail, "password": memberPW, "name": name})
	if r.CreatedBy != creator.ID || !strings.Contains(r.Note, "Only the member who created this credential ("+creator.ID+")") ||
		r.Textboxes != 0 {
		t.Errorf("read-only view: %+v", r)
	}
	// Signed in once, then renewed twice by refresh-token rotation (a reused
	// refresh token would have ended the sign-in).
	if strings.Join(r.Grants, " ") != "authorization_code refresh_token refresh_token" {
		t.Errorf("token requests of the read-only session: %v", r.Grants)
	}
	for _, b := range r.Buttons {
		if b = strings.TrimSpace(b); b != "Sign out" {
			t.Errorf("the read-only view offers %q", b)
		}
	}

	// 5. The creator rotates the secret with a grace period of one hour...
	rot := runConsole(t, l, shots, "rotate", owner)
	until, err := time.Parse(time.RFC3339, rot.GraceISO)
	if !rot.Saved || !strings.Contains(rot.FieldError, "60 to 3600") && !strings.Contains(rot.FieldError, "60 to 86400") ||
		err != nil || time.Until(until) < 55*time.Minute || time.Until(until) > 65*time.Minute || !strings.Contains(rot.Grace, "keeps working until") {
		t.Errorf("rotate: %+v", rot)
	}
	if rot.Secret == "" || rot.Secret == c.Secret {
		t.Fatalf("rotate gave no new secret: %+v", rot)
	}
	if after, _ := app.Store.GetApplication(ctx, c.ClientID); after.AccessTokenLifetime != 20*time.Minute {
		t.Errorf("the saved lifetime is %v, want 20m", after.AccessTokenLifetime)
	}
	for label, secret := range map[string]string{"old (in its grace period)": c.Secret, "new": rot.Secret} {
		if s := clientCredentials(t, l, c.ClientID, secret); s != 200 {
			t.Errorf("the %s secret: %d", label, s)
		}
	}

	// ...then deletes it, and signs out; the token endpoint refuses the client.
	d := runConsole(t, l, shots, "delete", owner)
	if d.Flash != "Deleted "+name+"." || d.StillListed != 0 || !strings.HasPrefix(d.SignedOutAt, l.Issuer+"/console/") || !d.LoginAfterSignOut {
		t.Errorf("delete: %+v", d)
	}
	for label, secret := range map[string]string{"old": c.Secret, "new": rot.Secret} {
		if s := clientCredentials(t, l, c.ClientID, secret); s != 401 {
			t.Errorf("the %s secret of the deleted client: %d, want 401", label, s)
		}
	}
	// The client made at phone width still works: deleting one touched no other.
	if s := clientCredentials(t, l, c.PhoneClientID, c.PhoneSecret); s != 200 {
		t.Errorf("the other client: %d", s)
	}

	// On a plan without M2M, the form offers SPA only and says which plan M2M needs.
	if _, err := ops.New(app.Store, app.Now).SetPlan(ctx, l.File.OrganizationID, domain.PlanTeam); err != nil {
		t.Fatal(err)
	}
	p := runConsole(t, l, shots, "plan", owner)
	if p.M2MEnabled || !strings.Contains(p.PlanNote, "Enterprise Large plan or above") || !strings.Contains(p.PlanNote, "on the Team plan") {
		t.Errorf("plan: %+v", p)
	}
}
