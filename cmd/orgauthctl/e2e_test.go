package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/password"
	"orgauth/pkg/storage/dynamo"
	"orgauth/pkg/testkit/emulator"
)

// ctl is the built orgauthctl, run as a subprocess against one table.
type ctl struct {
	t    *testing.T
	bin  string
	vars []string
	// audit collects the events of the audit lines successful commands
	// wrote, when set.
	audit *[]string
}

type result struct {
	stdout, stderr string
	code           int
}

func (c ctl) run(stdin string, args ...string) result {
	c.t.Helper()
	cmd := exec.CommandContext(c.t.Context(), c.bin, args...)
	cmd.Env = c.vars
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.t.Fatalf("orgauthctl %q: %v", args, err)
	}
	return result{out.String(), errOut.String(), cmd.ProcessState.ExitCode()}
}

// ok runs a command that must succeed and print nothing on stderr.
func (c ctl) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("orgauthctl %q: exit %d, stderr %q", args, r.code, r.stderr)
	}
	// Standard error carries only the audit lines of the changes made.
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if line == "" {
			continue
		}
		var a map[string]any
		if err := json.Unmarshal([]byte(line), &a); err != nil || a["msg"] != "audit" || a["event"] == "" ||
			!strings.HasPrefix(fmt.Sprint(a["actor"]), "cli:") || !strings.HasPrefix(fmt.Sprint(a["request_id"]), "cli-") {
			c.t.Fatalf("orgauthctl %q: stderr line is not an audit line: %q", args, line)
		}
		if strings.Contains(line, "$argon2id$") || strings.Contains(line, "password") {
			c.t.Fatalf("orgauthctl %q: an audit line carries a password: %s", args, line)
		}
		if c.audit != nil {
			*c.audit = append(*c.audit, fmt.Sprint(a["event"]))
		}
	}
	if strings.Contains(r.stdout, "$argon2id$") || strings.Contains(r.stdout, "password_hash") || strings.Contains(r.stdout, "secret_hash") {
		c.t.Fatalf("orgauthctl %q printed a hash: %s", args, r.stdout)
	}
	return r.stdout
}

// okJSON runs a command with --json and decodes its one document into v.
func (c ctl) okJSON(v any, stdin string, args ...string) {
	c.t.Helper()
	out := c.ok(stdin, append(args, "--json")...)
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		c.t.Fatalf("orgauthctl %q: %v in %s", args, err, out)
	}
	if dec.More() {
		c.t.Fatalf("orgauthctl %q printed more than one JSON document: %s", args, out)
	}
}

// fails runs a command that must fail with code and one line on stderr
// containing want.
func (c ctl) fails(code int, want, stdin string, args ...string) {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != code || r.stdout != "" {
		c.t.Fatalf("orgauthctl %q: exit %d, stdout %q; want exit %d and nothing", args, r.code, r.stdout, code)
	}
	if !strings.HasPrefix(r.stderr, "orgauthctl: ") || strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, want) {
		c.t.Fatalf("orgauthctl %q: stderr %q; want one line containing %q", args, r.stderr, want)
	}
}

// ctlBinary is orgauthctl built once for every test of the package that
// runs it (TestMain removes it).
func ctlBinary(t *testing.T) string {
	t.Helper()
	bin, err := buildCtl()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

var (
	ctlDir   string
	buildCtl = sync.OnceValues(func() (string, error) {
		dir, err := os.MkdirTemp("", "orgauthctl-test")
		if err != nil {
			return "", err
		}
		ctlDir = dir
		bin := filepath.Join(dir, "orgauthctl")
		if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
			return "", fmt.Errorf("go build: %v\n%s", err, out)
		}
		return bin, nil
	})
)

func TestMain(m *testing.M) {
	code := m.Run()
	if ctlDir != "" {
		os.RemoveAll(ctlDir)
	}
	os.Exit(code)
}

// environ is the test's environment without anything that would point
// orgauthctl elsewhere.
func environ(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "TABLE_NAME", k == "DYNAMODB_ENDPOINT", k == "ORGAUTH_DATA_DIR", k == "ISSUER", strings.HasPrefix(k, "AWS_"):
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}

func TestOrgauthctlAgainstDynalite(t *testing.T) {
	p := emulator.StartForTest(t, emulator.StartDynalite)
	const tableName = "orgauthctl-test"
	client := dynamo.NewLocalClient(p.Endpoint)
	if err := dynamo.CreateTable(t.Context(), client, tableName); err != nil {
		t.Fatal(err)
	}
	st := dynamo.New(client, tableName)

	bin := ctlBinary(t)
	var audit []string
	c := ctl{t: t, bin: bin, audit: &audit, vars: environ(
		"DYNAMODB_ENDPOINT="+p.Endpoint, "TABLE_NAME="+tableName, "ORGAUTH_DATA_DIR="+t.TempDir())}
	defer func() {
		// Every change an operator made is in the audit trail.
		for _, want := range []string{"organization_created", "user_created", "user_disabled", "organization_plan_changed", "organization_token_quota_changed"} {
			if !slices.Contains(audit, want) {
				t.Errorf("no %s audit line among %v", want, audit)
			}
		}
	}()

	// An organization.
	var org organization
	c.okJSON(&org, "", "orgs", "create", "--name", "Acme Corp", "--plan", "team")
	if len(org.ID) != 24 || org.Name != "Acme Corp" || org.Plan != "team" || time.Since(org.CreatedAt) > time.Minute {
		t.Fatalf("created %+v", org)
	}
	c.fails(1, `invalid plan: "gold" is not a plan`, "", "orgs", "create", "--name", "Bad", "--plan", "gold")

	// A user with a generated password: printed once, and it is the one
	// whose hash was stored.
	out := c.ok("", "users", "create", "--org", org.ID, "--email", "Alice@Example.com", "--name", "Alice", "--role", "admin", "--generate-password")
	m := regexp.MustCompile(`(?m)^Generated password \(shown only this once[^)]*\): (\S+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no labelled password in:\n%s", out)
	}
	generated := m[1]
	if strings.Count(out, generated) != 1 || password.Check(generated) != nil {
		t.Fatalf("password %q printed %d times or fails the policy:\n%s", generated, strings.Count(out, generated), out)
	}
	if !regexp.MustCompile(`(?m)^ID\s+EMAIL\s+NAME\s+ROLE\s+STATUS\s+ORG\s+CREATED\n\S+\s+alice@example\.com\s+Alice\s+admin\s+active\s+` + org.ID).MatchString(out) {
		t.Fatalf("unexpected table:\n%s", out)
	}
	alice, err := st.GetUserByEmail(t.Context(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !password.Verify(alice.PasswordHash, generated) {
		t.Fatal("the printed password does not verify against the stored hash")
	}

	// A user with the password on standard input.
	const bobPassword = "bob's own long password"
	var bob struct {
		user
		GeneratedPassword *string `json:"generated_password"`
	}
	c.okJSON(&bob, bobPassword+"\n", "users", "create", "--org", org.ID, "--email", "bob@example.com", "--password-stdin")
	if bob.Role != "member" || bob.Email != "bob@example.com" || !bob.HasPassword || bob.GeneratedPassword != nil {
		t.Fatalf("created %+v", bob)
	}
	if stored, err := st.GetUser(t.Context(), bob.ID); err != nil || !password.Verify(stored.PasswordHash, bobPassword) {
		t.Fatalf("bob's stored hash does not verify: %v", err)
	}
	// Without either flag, a piped standard input is read too.
	var carol user
	c.okJSON(&carol, "carol's long password\n", "users", "create", "--org", org.ID, "--email", "carol@example.com")
	if stored, err := st.GetUser(t.Context(), carol.ID); err != nil || !password.Verify(stored.PasswordHash, "carol's long password") {
		t.Fatalf("carol's stored hash does not verify: %v", err)
	}

	// Bad users: one line each, exit 1.
	c.fails(1, "a user with email alice@example.com already exists", "", "users", "create", "--org", org.ID, "--email", "ALICE@example.com", "--generate-password")
	c.fails(1, "invalid password: password must be at least 12 characters", "short\n", "users", "create", "--org", org.ID, "--email", "dave@example.com", "--password-stdin")
	c.fails(1, "invalid email", "", "users", "create", "--org", org.ID, "--email", "Dave <dave@example.com>", "--generate-password")
	c.fails(1, "invalid role", "", "users", "create", "--org", org.ID, "--email", "dave@example.com", "--role", "owner", "--generate-password")
	c.fails(1, "organization nosuchorg does not exist", "", "users", "create", "--org", "nosuchorg", "--email", "dave@example.com", "--generate-password")

	// List, disable, list again.
	var list struct {
		Users []user `json:"users"`
	}
	c.okJSON(&list, "", "users", "list", "--org", org.ID)
	if len(list.Users) != 3 || list.Users[0].Email != "alice@example.com" || list.Users[0].Disabled {
		t.Fatalf("users list: %+v", list.Users)
	}
	out = c.ok("", "users", "disable", "--user", "ALICE@example.com")
	if !regexp.MustCompile(`alice@example\.com\s+Alice\s+admin\s+disabled`).MatchString(out) {
		t.Fatalf("users disable printed:\n%s", out)
	}
	c.okJSON(&list, "", "users", "list", "--org", org.ID)
	if !list.Users[0].Disabled || list.Users[1].Disabled {
		t.Fatalf("after disable: %+v", list.Users)
	}
	var disabled user
	c.okJSON(&disabled, "", "users", "disable", "--user", bob.ID)
	if !disabled.Disabled || disabled.ID != bob.ID {
		t.Fatalf("disable by id: %+v", disabled)
	}
	c.fails(1, "user nobody@example.com does not exist", "", "users", "disable", "--user", "nobody@example.com")

	// An operator who knows an address is the user's says so, when creating
	// the user or later; tokens then say email_verified.
	var vera, updated user
	c.okJSON(&vera, "vera's long password\n", "users", "create", "--org", org.ID, "--email", "vera@example.com", "--email-verified")
	if stored, err := st.GetUser(t.Context(), vera.ID); err != nil || !vera.EmailVerified || !stored.EmailVerified || bob.EmailVerified {
		t.Fatalf("created verified: %+v %+v %v", vera, stored, err)
	}
	c.okJSON(&updated, "", "users", "update", "--user", "BOB@example.com", "--email-verified")
	if stored, err := st.GetUser(t.Context(), bob.ID); err != nil || !updated.EmailVerified || !stored.EmailVerified || updated.ID != bob.ID {
		t.Fatalf("update --email-verified: %+v %+v %v", updated, stored, err)
	}
	c.okJSON(&updated, "", "users", "update", "--user", vera.ID, "--email-verified=false")
	if stored, err := st.GetUser(t.Context(), vera.ID); err != nil || updated.EmailVerified || stored.EmailVerified {
		t.Fatalf("update --email-verified=false: %+v %+v %v", updated, stored, err)
	}
	c.fails(2, "nothing to change", "", "users", "update", "--user", bob.ID)
	c.fails(1, "user nobody@example.com does not exist", "", "users", "update", "--user", "nobody@example.com", "--email-verified")

	// Plans.
	out = c.ok("", "orgs", "set-plan", "--org", org.ID, "--plan", "enterprise_large")
	if !strings.Contains(out, org.ID) || !strings.Contains(out, "enterprise_large") {
		t.Fatalf("set-plan printed:\n%s", out)
	}
	var orgs struct {
		Organizations []organization `json:"organizations"`
	}
	c.okJSON(&orgs, "", "orgs", "list")
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].Plan != "enterprise_large" {
		t.Fatalf("orgs list: %+v", orgs)
	}
	c.fails(1, "organization nosuchorg does not exist", "", "orgs", "set-plan", "--org", "nosuchorg", "--plan", "free")
	var quota organization
	c.okJSON(&quota, "", "orgs", "set-quota", "--org", org.ID, "--tokens", "250000")
	if quota.TokenQuota != 250000 {
		t.Fatalf("set-quota: %+v", quota)
	}
	c.fails(2, "--tokens", "", "orgs", "set-quota", "--org", org.ID)

	// Applications: none, then one with a secret whose hash is never shown.
	var apps struct {
		Applications []application `json:"applications"`
	}
	c.okJSON(&apps, "", "apps", "list", "--org", org.ID)
	if apps.Applications == nil || len(apps.Applications) != 0 {
		t.Fatalf("apps list: %+v", apps)
	}
	_, hash := domain.NewSecret()
	now := time.Now().UTC()
	app := domain.Application{
		ClientID: domain.NewID(), OrganizationID: org.ID, Name: "Billing sync", Type: domain.ClientM2M,
		Scopes: []string{"read:billing"}, SecretHash: hash, CreatedBy: alice.ID, CreatedAt: now, UpdatedAt: now,
	}
	if err := st.CreateApplication(t.Context(), app); err != nil {
		t.Fatal(err)
	}
	c.okJSON(&apps, "", "apps", "list", "--org", org.ID)
	if len(apps.Applications) != 1 || apps.Applications[0].ClientID != app.ClientID || apps.Applications[0].Scopes[0] != "read:billing" {
		t.Fatalf("apps list: %+v", apps)
	}
	out = c.ok("", "apps", "list", "--org", org.ID)
	if !regexp.MustCompile(app.ClientID + `\s+m2m\s+Billing sync\s+read:billing`).MatchString(out) {
		t.Fatalf("apps list printed:\n%s", out)
	}

	// Bad command lines: one line, exit 2.
	c.fails(2, `unknown command "frobnicate"`, "", "frobnicate")
	c.fails(2, "flag provided but not defined: -frob", "", "users", "list", "--org", org.ID, "--frob")

	// A table that does not exist: one line, exit 1.
	c.fails(1, `table "no-such-table" does not exist at `+p.Endpoint, "", "orgs", "list", "--table", "no-such-table")

	// local.json from make run, when nothing else is set.
	dataDir := t.TempDir()
	local := map[string]any{
		"issuer": "http://127.0.0.1:3000", "audience": "https://api.example.com", "organization_id": org.ID,
		"m2m": map[string]string{"client_id": "c", "client_secret": "s"}, "table": tableName, "dynamodb_endpoint": p.Endpoint,
	}
	b, _ := json.Marshal(local)
	if err := os.WriteFile(filepath.Join(dataDir, "local.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	fromLocal := ctl{t: t, bin: bin, vars: environ("ORGAUTH_DATA_DIR=" + dataDir)}
	fromLocal.okJSON(&orgs, "", "orgs", "list")
	if len(orgs.Organizations) != 1 || orgs.Organizations[0].ID != org.ID {
		t.Fatalf("orgs list through local.json: %+v", orgs)
	}
}
