package ops_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"orgauth/pkg/domain"
	"orgauth/pkg/ops"
	"orgauth/pkg/storage/memory"
)

// fakeBox records what it is asked to encrypt; its ciphertexts name the
// organization and a counter, never the plaintext.
type fakeBox struct {
	plaintexts []string
	orgs       []string
	fail       error
}

func (f *fakeBox) Encrypt(_ context.Context, orgID string, plaintext []byte) ([]byte, error) {
	if f.fail != nil {
		return nil, f.fail
	}
	f.plaintexts = append(f.plaintexts, string(plaintext))
	f.orgs = append(f.orgs, orgID)
	return []byte(fmt.Sprintf("ciphertext-%d-of-%s", len(f.plaintexts), orgID)), nil
}

// auditLines decodes the audit lines written to buf so far, and empties
// it. No line may carry a secret or a ciphertext.
func auditLines(t *testing.T, buf *bytes.Buffer) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		if line == "" {
			continue
		}
		for _, secret := range []string{upstreamSecret, otherSecret, "ciphertext-"} {
			if strings.Contains(line, secret) {
				t.Fatalf("an audit line carries %q: %s", secret, line)
			}
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil || m["msg"] != "audit" {
			t.Fatalf("not an audit line: %q (%v)", line, err)
		}
		out = append(out, m)
	}
	buf.Reset()
	return out
}

const (
	upstreamSecret = "upstream-client-secret-0123456789"
	otherSecret    = "a second upstream secret"
)

func TestSSO(t *testing.T) {
	ctx := t.Context()
	st := memory.New()
	now := t0
	var logBuf bytes.Buffer
	a := ops.New(st, func() time.Time { return now }).WithAudit(&ops.Auditor{
		Log: slog.New(slog.NewJSONHandler(&logBuf, nil)), Actor: "test", RequestID: "r1", Source: "here",
	})
	org, err := a.CreateOrganization(ctx, "Acme", domain.PlanEnterprise)
	if err != nil {
		t.Fatal(err)
	}
	other, err := a.CreateOrganization(ctx, "Globex", domain.PlanTeam)
	if err != nil {
		t.Fatal(err)
	}
	newApp := func(orgID string, typ domain.ClientType) domain.Application {
		t.Helper()
		app := domain.Application{ClientID: domain.NewID(), OrganizationID: orgID, Name: "app", Type: typ, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateApplication(ctx, app); err != nil {
			t.Fatal(err)
		}
		return app
	}
	spa, m2m, foreignSPA := newApp(org.ID, domain.ClientSPA), newApp(org.ID, domain.ClientM2M), newApp(other.ID, domain.ClientSPA)
	logBuf.Reset()

	good := func() ops.SSOInput {
		return ops.SSOInput{
			Issuer: "https://idp.acme.example/tenant/", ClientID: "orgauth-client", ClientSecret: upstreamSecret,
			Domains: []string{" Acme.Example ", "acme.example", "eu.acme.example"},
		}
	}
	box := &fakeBox{}

	// Validation: one field each, nothing encrypted, nothing stored, and
	// never the secret in the error.
	long := func(n int) string { return strings.Repeat("a", n) }
	many := func(n int, f func(int) string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	for name, tc := range map[string]struct {
		org   string
		edit  func(*ops.SSOInput)
		field string
	}{
		"no org":              {"", func(*ops.SSOInput) {}, "org"},
		"no issuer":           {org.ID, func(in *ops.SSOInput) { in.Issuer = " " }, "issuer"},
		"relative issuer":     {org.ID, func(in *ops.SSOInput) { in.Issuer = "idp.acme.example" }, "issuer"},
		"http issuer":         {org.ID, func(in *ops.SSOInput) { in.Issuer = "http://idp.acme.example" }, "issuer"},
		"http 127. name":      {org.ID, func(in *ops.SSOInput) { in.Issuer = "http://127.evil.example" }, "issuer"},
		"ftp issuer":          {org.ID, func(in *ops.SSOInput) { in.Issuer = "ftp://idp.acme.example" }, "issuer"},
		"issuer query":        {org.ID, func(in *ops.SSOInput) { in.Issuer = "https://idp.acme.example/?tenant=1" }, "issuer"},
		"issuer fragment":     {org.ID, func(in *ops.SSOInput) { in.Issuer = "https://idp.acme.example/#x" }, "issuer"},
		"issuer userinfo":     {org.ID, func(in *ops.SSOInput) { in.Issuer = "https://user:pw@idp.acme.example" }, "issuer"},
		"issuer space":        {org.ID, func(in *ops.SSOInput) { in.Issuer = "https://idp.acme.example/a b" }, "issuer"},
		"long issuer":         {org.ID, func(in *ops.SSOInput) { in.Issuer = "https://idp.acme.example/" + long(980) }, "issuer"},
		"no client id":        {org.ID, func(in *ops.SSOInput) { in.ClientID = "" }, "client_id"},
		"client id space":     {org.ID, func(in *ops.SSOInput) { in.ClientID = "my client" }, "client_id"},
		"client id non-ascii": {org.ID, func(in *ops.SSOInput) { in.ClientID = "clïent" }, "client_id"},
		"long client id":      {org.ID, func(in *ops.SSOInput) { in.ClientID = long(256) }, "client_id"},
		"long secret":         {org.ID, func(in *ops.SSOInput) { in.ClientSecret = long(1025) }, "client_secret"},
		"blank secret":        {org.ID, func(in *ops.SSOInput) { in.ClientSecret = "   " }, "client_secret"},
		"padded secret":       {org.ID, func(in *ops.SSOInput) { in.ClientSecret = " " + upstreamSecret }, "client_secret"},
		"secret control":      {org.ID, func(in *ops.SSOInput) { in.ClientSecret = upstreamSecret + "\x00x" }, "client_secret"},
		"secret not utf8":     {org.ID, func(in *ops.SSOInput) { in.ClientSecret = upstreamSecret + "\xff" }, "client_secret"},
		"no secret yet":       {org.ID, func(in *ops.SSOInput) { in.ClientSecret = "" }, "client_secret"},
		"no domains":          {org.ID, func(in *ops.SSOInput) { in.Domains = nil }, "domains"},
		"empty domain":        {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"acme.example", " "} }, "domains"},
		"email as domain":     {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"alice@acme.example"} }, "domains"},
		"wildcard domain":     {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"*.acme.example"} }, "domains"},
		"no dot":              {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"localhost"} }, "domains"},
		"trailing dot":        {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"acme.example."} }, "domains"},
		"empty label":         {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"acme..example"} }, "domains"},
		"underscore":          {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"a_b.example"} }, "domains"},
		"hyphen label":        {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"-acme.example"} }, "domains"},
		"kelvin domain":       {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"\u212Aacme.example"} }, "domains"},
		"dotted I domain":     {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"\u0130nc.example"} }, "domains"},
		"ip address":          {org.ID, func(in *ops.SSOInput) { in.Domains = []string{"192.0.2.1"} }, "domains"},
		"long label":          {org.ID, func(in *ops.SSOInput) { in.Domains = []string{long(64) + ".example"} }, "domains"},
		"long domain": {org.ID, func(in *ops.SSOInput) {
			in.Domains = []string{strings.Join(many(4, func(int) string { return long(63) }), ".") + ".io"}
		}, "domains"},
		"51 domains": {org.ID, func(in *ops.SSOInput) {
			in.Domains = many(51, func(i int) string { return fmt.Sprintf("d%d.example", i) })
		}, "domains"},
		"openid scope":     {org.ID, func(in *ops.SSOInput) { in.Scopes = []string{"email", "openid"} }, "scopes"},
		"scope with space": {org.ID, func(in *ops.SSOInput) { in.Scopes = []string{"email profile"} }, "scopes"},
		"scope with quote": {org.ID, func(in *ops.SSOInput) { in.Scopes = []string{`"email"`} }, "scopes"},
		"empty scope":      {org.ID, func(in *ops.SSOInput) { in.Scopes = []string{""} }, "scopes"},
		"long scope":       {org.ID, func(in *ops.SSOInput) { in.Scopes = []string{long(129)} }, "scopes"},
		"bad role":         {org.ID, func(in *ops.SSOInput) { in.Provision, in.ProvisionRole = true, "owner" }, "role"},
		"empty app":        {org.ID, func(in *ops.SSOInput) { in.Applications = []string{""} }, "apps"},
		"unknown app":      {org.ID, func(in *ops.SSOInput) { in.Applications = []string{domain.NewID()} }, "apps"},
		"m2m app":          {org.ID, func(in *ops.SSOInput) { in.Applications = []string{spa.ClientID, m2m.ClientID} }, "apps"},
		"foreign app":      {org.ID, func(in *ops.SSOInput) { in.Applications = []string{foreignSPA.ClientID} }, "apps"},
	} {
		in := good()
		tc.edit(&in)
		_, err := a.SetSSO(ctx, box, tc.org, in)
		if err == nil {
			t.Fatalf("%s: SetSSO succeeded", name)
		}
		wantInvalid(t, err, tc.field)
		if strings.Contains(err.Error(), upstreamSecret) {
			t.Fatalf("%s: error %q contains the secret", name, err)
		}
	}
	if _, err := a.SetSSO(ctx, box, "nosuchorg", good()); !errors.Is(err, domain.ErrNotFound) || !strings.Contains(err.Error(), "organization nosuchorg does not exist") {
		t.Fatalf("SetSSO on an unknown org: %v", err)
	}
	if len(box.plaintexts) != 0 {
		t.Fatalf("encrypted before validation passed: %d times", len(box.plaintexts))
	}
	if o, _ := st.GetOrganization(ctx, org.ID); o.SSO != nil || o.Version != org.Version {
		t.Fatalf("a refused SetSSO changed the org: %+v", o)
	}
	if lines := auditLines(t, &logBuf); len(lines) != 0 {
		t.Fatalf("audit lines for refused changes: %v", lines)
	}

	// The encrypter failing: nothing stored.
	if _, err := a.SetSSO(ctx, &fakeBox{fail: errors.New("kms down")}, org.ID, good()); err == nil || !strings.Contains(err.Error(), "kms down") {
		t.Fatalf("SetSSO with a failing encrypter: %v", err)
	}
	if o, _ := st.GetOrganization(ctx, org.ID); o.SSO != nil {
		t.Fatalf("stored after a failed encryption: %+v", o.SSO)
	}

	// Set: only the fake's ciphertext is stored, for this organization.
	now = t0.Add(time.Hour)
	got, err := a.SetSSO(ctx, box, org.ID, good())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(box.plaintexts, []string{upstreamSecret}) || !slices.Equal(box.orgs, []string{org.ID}) {
		t.Fatalf("encrypted %q for %q", box.plaintexts, box.orgs)
	}
	stored, err := st.GetOrganization(ctx, org.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.SSO{
		Issuer: "https://idp.acme.example/tenant/", ClientID: "orgauth-client",
		ClientSecretCiphertext: []byte("ciphertext-1-of-" + org.ID),
		Scopes:                 []string{"email", "profile"}, Domains: []string{"acme.example", "eu.acme.example"},
	}
	for _, o := range []domain.Organization{got, stored} {
		if o.SSO == nil || fmt.Sprintf("%+v", *o.SSO) != fmt.Sprintf("%+v", want) || !o.UpdatedAt.Equal(now) {
			t.Fatalf("SSO %+v at %v, want %+v at %v", o.SSO, o.UpdatedAt, want, now)
		}
		if bytes.Contains(o.SSO.ClientSecretCiphertext, []byte(upstreamSecret)) {
			t.Fatal("the plaintext secret is stored")
		}
	}
	if shown, err := a.SSO(ctx, org.ID); err != nil || shown.SSO == nil || shown.SSO.Issuer != want.Issuer {
		t.Fatalf("SSO = %+v, %v", shown.SSO, err)
	}
	if _, err := a.SSO(ctx, "nosuchorg"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("SSO of an unknown org: %v", err)
	}
	_, err = a.SSO(ctx, "")
	wantInvalid(t, err, "org")
	lines := auditLines(t, &logBuf)
	if len(lines) != 1 || lines[0]["event"] != "organization_sso_changed" || lines[0]["organization_id"] != org.ID ||
		lines[0]["issuer"] != want.Issuer || fmt.Sprint(lines[0]["domains"]) != "[acme.example eu.acme.example]" ||
		lines[0]["enforced"] != false || lines[0]["provision"] != false || lines[0]["secret_replaced"] != true {
		t.Fatalf("audit: %v", lines)
	}

	// Update without a secret: the configured one is kept, nothing is
	// encrypted; scopes, provisioning and applications as given.
	now = t0.Add(2 * time.Hour)
	in := good()
	in.ClientSecret, in.Enforced, in.Provision = "", true, true
	in.Scopes = []string{"email", "groups", "email"}
	in.Applications = []string{spa.ClientID, " " + spa.ClientID}
	got, err = a.SetSSO(ctx, box, org.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(box.plaintexts) != 1 || string(got.SSO.ClientSecretCiphertext) != "ciphertext-1-of-"+org.ID ||
		!got.SSO.Enforced || !got.SSO.Provision || got.SSO.ProvisionRole != domain.RoleMember ||
		!slices.Equal(got.SSO.Scopes, []string{"email", "groups"}) || !slices.Equal(got.SSO.Applications, []string{spa.ClientID}) ||
		!got.UpdatedAt.Equal(now) {
		t.Fatalf("update without a secret: %+v (encrypted %d times)", got.SSO, len(box.plaintexts))
	}
	if stored, _ := st.GetOrganization(ctx, org.ID); string(stored.SSO.ClientSecretCiphertext) != "ciphertext-1-of-"+org.ID {
		t.Fatalf("stored ciphertext %q", stored.SSO.ClientSecretCiphertext)
	}
	lines = auditLines(t, &logBuf)
	if len(lines) != 1 || lines[0]["secret_replaced"] != false || lines[0]["enforced"] != true || lines[0]["provision"] != true {
		t.Fatalf("audit: %v", lines)
	}

	// The kept secret belongs to one client of one provider: changing
	// either needs the new one's secret.
	for _, edit := range []func(*ops.SSOInput){
		func(in *ops.SSOInput) { in.ClientID = "another-client" },
		func(in *ops.SSOInput) { in.Issuer = "https://other-idp.example" },
	} {
		in := good()
		in.ClientSecret = ""
		edit(&in)
		_, err := a.SetSSO(ctx, box, org.ID, in)
		wantInvalid(t, err, "client_secret")
	}

	// A new secret with an admin role; the role is dropped without
	// provisioning.
	in = good()
	in.ClientSecret, in.Provision, in.ProvisionRole = otherSecret, true, domain.RoleAdmin
	if got, err = a.SetSSO(ctx, box, org.ID, in); err != nil || got.SSO.ProvisionRole != domain.RoleAdmin ||
		string(got.SSO.ClientSecretCiphertext) != "ciphertext-2-of-"+org.ID || len(got.SSO.Applications) != 0 {
		t.Fatalf("SetSSO with a new secret = %+v, %v", got.SSO, err)
	}
	in.ClientSecret, in.Provision = "", false
	if got, err = a.SetSSO(ctx, box, org.ID, in); err != nil || got.SSO.Provision || got.SSO.ProvisionRole != "" {
		t.Fatalf("SetSSO without provisioning = %+v, %v", got.SSO, err)
	}
	lines = auditLines(t, &logBuf)
	if len(lines) != 2 || lines[0]["secret_replaced"] != true || lines[1]["secret_replaced"] != false {
		t.Fatalf("audit: %v", lines)
	}

	// A domain belongs to one organization's provider.
	in = good()
	in.Domains = []string{"globex.example", "EU.acme.example"}
	_, err = a.SetSSO(ctx, box, other.ID, in)
	wantInvalid(t, err, "domains")
	if !strings.Contains(err.Error(), "eu.acme.example") || !strings.Contains(err.Error(), org.ID) {
		t.Fatalf("domain conflict error %q names neither the domain nor the organization", err)
	}
	if len(box.plaintexts) != 2 {
		t.Fatal("encrypted for a refused change")
	}
	in.Domains = []string{"globex.example"}
	in.Applications = []string{foreignSPA.ClientID}
	// A deployed stage (or one whose issuer is unknown) refuses a provider
	// on loopback: in Lambda, 127.0.0.1:9001 is the Runtime API.
	for _, stage := range []string{"", "https://auth.example.com"} {
		a.ForStage(stage)
		for _, iss := range []string{"http://127.0.0.1:9000", "http://127.0.0.2:9001", "http://localhost:8080", "https://localhost", "http://[::1]:8080/realms/x"} {
			in.Issuer = iss
			_, err := a.SetSSO(ctx, box, other.ID, in)
			wantInvalid(t, err, "issuer")
		}
	}
	if len(box.plaintexts) != 2 {
		t.Fatal("encrypted for a refused loopback issuer")
	}
	// make run's stage (its own issuer on loopback) accepts one.
	a.ForStage("http://127.0.0.1:3000")
	in.Issuer = "http://127.0.0.1:9000"
	if got, err = a.SetSSO(ctx, box, other.ID, in); err != nil || got.SSO.Issuer != "http://127.0.0.1:9000" {
		t.Fatalf("SetSSO on the other org = %+v, %v", got.SSO, err)
	}
	if box.orgs[len(box.orgs)-1] != other.ID {
		t.Fatalf("encrypted for %s, want %s", box.orgs[len(box.orgs)-1], other.ID)
	}
	for _, iss := range []string{"http://localhost:8080", "http://[::1]:8080/realms/x", "https://idp.example:8443"} {
		in.Issuer = iss
		if _, err := a.SetSSO(ctx, box, other.ID, in); err != nil {
			t.Fatalf("issuer %s: %v", iss, err)
		}
	}

	// Remove: the settings and the ciphertext go; removing again changes
	// nothing.
	now = t0.Add(3 * time.Hour)
	got, err = a.RemoveSSO(ctx, org.ID)
	if err != nil || got.SSO != nil || !got.UpdatedAt.Equal(now) {
		t.Fatalf("RemoveSSO = %+v, %v", got, err)
	}
	if stored, _ := st.GetOrganization(ctx, org.ID); stored.SSO != nil {
		t.Fatalf("stored after removal: %+v", stored.SSO)
	}
	now = t0.Add(4 * time.Hour)
	if got, err = a.RemoveSSO(ctx, org.ID); err != nil || !got.UpdatedAt.Equal(t0.Add(3*time.Hour)) {
		t.Fatalf("RemoveSSO again = %+v, %v; want no change", got, err)
	}
	if _, err := a.RemoveSSO(ctx, "nosuchorg"); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("RemoveSSO on an unknown org: %v", err)
	}
	_, err = a.RemoveSSO(ctx, " ")
	wantInvalid(t, err, "org")
	// Its domains are free again.
	in = good()
	in.Domains = []string{"acme.example"}
	if _, err := a.SetSSO(ctx, box, other.ID, in); err != nil {
		t.Fatalf("a removed organization's domain: %v", err)
	}
	// Without a secret after removal: there is none to keep.
	in = good()
	in.ClientSecret = ""
	_, err = a.SetSSO(ctx, box, org.ID, in)
	wantInvalid(t, err, "client_secret")

	// The audit trail since: the other organization's changes, and the
	// removal once.
	var events []string
	for _, l := range auditLines(t, &logBuf) {
		events = append(events, fmt.Sprint(l["event"]))
	}
	wantEvents := []string{"organization_sso_changed", "organization_sso_changed", "organization_sso_changed", "organization_sso_changed",
		"organization_sso_removed", "organization_sso_changed"}
	if !slices.Equal(events, wantEvents) {
		t.Fatalf("audit events %v, want %v", events, wantEvents)
	}
}
