package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"orgauth/pkg/domain"
	"orgauth/pkg/keys/kmskeys"
	"orgauth/pkg/platform/secretbox"
	"orgauth/pkg/storage/dynamo"
)

// TestSSOEndToEnd configures an organization's SSO through the orgauthctl
// binary against dynalite and local-kms: the client secret goes from
// standard input to KMS, and only its ciphertext, which decrypts for that
// organization only, reaches the table; nothing prints or logs it.
func TestSSOEndToEnd(t *testing.T) {
	const tableName = "orgauthctl-sso"
	ddb, kmsp, db, kc := startEmulators(t, tableName)
	st := dynamo.New(db, tableName)
	ctx := t.Context()
	keyID, err := kmskeys.EnsureKey(ctx, kc, "alias/orgauthctl-test-sso", kmskeys.SpecSymmetric)
	if err != nil {
		t.Fatal(err)
	}
	box := secretbox.New(kc, keyID)

	bin := ctlBinary(t)
	base := ssoEnviron("DYNAMODB_ENDPOINT="+ddb.Endpoint, "TABLE_NAME="+tableName, "KMS_ENDPOINT="+kmsp.Endpoint,
		"ORGAUTH_DATA_DIR="+t.TempDir())
	var audit []string
	c := ctl{t: t, bin: bin, audit: &audit, vars: append(slices.Clone(base), "SSO_KEY_ID=alias/orgauthctl-test-sso")}

	const secret = "upstream-secret-Zq8x1 with spaces inside"
	var secrets []string // every secret given: none may show anywhere
	// set runs sso set, which must succeed, and checks that neither its
	// output nor its audit lines carry a secret or the stored ciphertext.
	set := func(c ctl, stdin string, args ...string) ssoResult {
		t.Helper()
		args = append([]string{"sso", "set"}, append(args, "--json")...)
		r := c.run(stdin, args...)
		if r.code != 0 {
			t.Fatalf("orgauthctl %q: exit %d, stderr %q", args, r.code, r.stderr)
		}
		noSecret(t, secrets, r.stdout+r.stderr)
		var audited []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
			var a map[string]any
			if err := json.Unmarshal([]byte(line), &a); err != nil || a["msg"] != "audit" {
				t.Fatalf("orgauthctl %q: stderr line is not an audit line: %q", args, line)
			}
			audited = append(audited, a)
			audit = append(audit, fmt.Sprint(a["event"]))
		}
		if len(audited) != 1 || audited[0]["event"] != "organization_sso_changed" {
			t.Fatalf("orgauthctl %q: audit lines %v", args, audited)
		}
		var v ssoResult
		dec := json.NewDecoder(strings.NewReader(r.stdout))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&v.ssoSettings); err != nil || dec.More() {
			t.Fatalf("orgauthctl %q: %v in %s", args, err, r.stdout)
		}
		replaced, ok := audited[0]["secret_replaced"].(bool)
		if !ok {
			t.Fatalf("orgauthctl %q: audit line without secret_replaced: %v", args, audited[0])
		}
		v.replaced = replaced
		return v
	}
	// stored reads the organization and checks that the whole table holds
	// no secret in plaintext.
	stored := func(orgID string) domain.Organization {
		t.Helper()
		o, err := st.GetOrganization(ctx, orgID)
		if err != nil {
			t.Fatal(err)
		}
		out, err := db.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(tableName)})
		if err != nil {
			t.Fatal(err)
		}
		for _, item := range out.Items {
			for name, av := range item {
				for _, s := range secrets {
					if attrContains(av, s) {
						t.Fatalf("attribute %s of an item holds a client secret in plaintext", name)
					}
				}
			}
		}
		return o
	}
	decrypt := func(o domain.Organization) string {
		t.Helper()
		if o.SSO == nil || len(o.SSO.ClientSecretCiphertext) == 0 {
			t.Fatalf("no ciphertext stored: %+v", o.SSO)
		}
		pt, err := box.Decrypt(ctx, o.ID, o.SSO.ClientSecretCiphertext)
		if err != nil {
			t.Fatal(err)
		}
		return string(pt)
	}

	var org, org2 organization
	c.okJSON(&org, "", "orgs", "create", "--name", "Acme", "--plan", "enterprise")
	c.okJSON(&org2, "", "orgs", "create", "--name", "Globex", "--plan", "enterprise")
	now := time.Now().UTC()
	newApp := func(orgID string, typ domain.ClientType) domain.Application {
		app := domain.Application{ClientID: domain.NewID(), OrganizationID: orgID, Name: "app", Type: typ, CreatedAt: now, UpdatedAt: now}
		if err := st.CreateApplication(ctx, app); err != nil {
			t.Fatal(err)
		}
		return app
	}
	spa, m2m := newApp(org.ID, domain.ClientSPA), newApp(org.ID, domain.ClientM2M)

	// Nothing configured yet.
	out := c.ok("", "sso", "show", "--org", org.ID)
	if out != "organization_id: "+org.ID+"\nsso: not configured\nupdated_at: "+stamp(org.UpdatedAt)+"\n" {
		t.Fatalf("sso show before set:\n%s", out)
	}

	// Set, with the secret on standard input.
	secrets = append(secrets, secret)
	v := set(c, secret+"\r\n", "--org", org.ID, "--issuer", "https://idp.acme.example/tenant/", "--client-id", "orgauth",
		"--client-secret-stdin", "--domains", "Acme.example, eu.acme.example,acme.example")
	if !v.Configured || v.Issuer != "https://idp.acme.example/tenant/" || v.ClientID != "orgauth" || v.ClientSecret != "set" ||
		!slices.Equal(v.Domains, []string{"acme.example", "eu.acme.example"}) || !slices.Equal(v.Scopes, []string{"email", "profile"}) ||
		v.Enforced || v.Provision || v.ProvisionRole != "" || len(v.Applications) != 0 || !v.replaced {
		t.Fatalf("sso set: %+v", v)
	}
	o := stored(org.ID)
	ciphertext := o.SSO.ClientSecretCiphertext
	if got := decrypt(o); got != secret {
		t.Fatalf("the stored ciphertext decrypts to %q, want the secret given", got)
	}
	if _, err := box.Decrypt(ctx, org2.ID, ciphertext); err == nil {
		t.Fatal("the ciphertext decrypts for another organization")
	}

	// Show: the secret only as set, never the ciphertext.
	out = c.ok("", "sso", "show", "--org", org.ID)
	t.Logf("sso show:\n%s", out)
	noSecret(t, secrets, out)
	for _, ct := range []string{base64.StdEncoding.EncodeToString(ciphertext), fmt.Sprintf("%x", ciphertext)} {
		if strings.Contains(out, ct) {
			t.Fatalf("sso show printed the ciphertext:\n%s", out)
		}
	}
	for _, want := range []string{"issuer: https://idp.acme.example/tenant/\n", "client_id: orgauth\n", "client_secret: set\n",
		"scopes: email profile\n", "domains: acme.example, eu.acme.example\n", "enforced: no\n", "provision: no\n", "applications: all\n"} {
		if !strings.Contains(out, want) {
			t.Fatalf("sso show printed no %q:\n%s", want, out)
		}
	}
	// The redirect URI to register at the provider: the organization's own.
	if !strings.Contains(out, "redirect_uri: ") || !strings.Contains(out, "/callback/"+org.ID+"") {
		t.Fatalf("sso show printed no redirect_uri:\n%s", out)
	}
	var shown ssoSettings
	c.okJSON(&shown, "", "sso", "show", "--org", org.ID)
	if shown.ClientSecret != "set" || shown.Issuer != v.Issuer || !slices.Equal(shown.Domains, v.Domains) {
		t.Fatalf("sso show --json: %+v", shown)
	}

	// Update without --client-secret-stdin: the secret is kept, even with
	// something on standard input, which is not read.
	v = set(c, "not-a-secret-to-read\n", "--org", org.ID, "--issuer", "https://idp.acme.example/tenant/", "--client-id", "orgauth",
		"--domains", "acme.example", "--scopes", "email  groups", "--enforce", "--provision", "--role", "admin", "--apps", spa.ClientID)
	if v.ClientSecret != "set" || !v.Enforced || !v.Provision || v.ProvisionRole != "admin" || v.replaced ||
		!slices.Equal(v.Scopes, []string{"email", "groups"}) || !slices.Equal(v.Applications, []string{spa.ClientID}) {
		t.Fatalf("sso set without a secret: %+v", v)
	}
	if o := stored(org.ID); !bytes.Equal(o.SSO.ClientSecretCiphertext, ciphertext) || decrypt(o) != secret {
		t.Fatal("updating without a secret changed the stored secret")
	}
	out = c.ok("", "sso", "show", "--org", org.ID)
	if !strings.Contains(out, "provision: yes, as admin\n") || !strings.Contains(out, "applications: "+spa.ClientID+"\n") {
		t.Fatalf("sso show after the update:\n%s", out)
	}

	// Bad input: one line, and never the secret.
	flags := func(extra ...string) []string {
		return append([]string{"--org", org.ID, "--issuer", "https://idp.acme.example/tenant/", "--client-id", "orgauth",
			"--domains", "acme.example"}, extra...)
	}
	args := func(extra ...string) []string { return append([]string{"sso", "set"}, flags(extra...)...) }
	c.fails(2, "--issuer is required", "", "sso", "set", "--org", org.ID, "--client-id", "x", "--domains", "acme.example")
	c.fails(2, "--domains is required", "", "sso", "set", "--org", org.ID, "--issuer", "https://idp.acme.example", "--client-id", "x")
	c.fails(2, "--role applies only with --provision", "", args("--role", "admin")...)
	c.fails(2, `sso: unknown command "delete"`, "", "sso", "delete", "--org", org.ID)
	c.fails(1, "invalid issuer", "", "sso", "set", "--org", org.ID, "--issuer", "http://idp.acme.example", "--client-id", "orgauth", "--domains", "acme.example")
	c.fails(1, "invalid domains", "", args("--domains", "acme")...)
	c.fails(1, "invalid domains", "", args("--domains", "*.acme.example")...)
	c.fails(1, "invalid scopes: openid is always asked for", "", args("--scopes", "openid email")...)
	c.fails(1, "invalid role", "", args("--provision", "--role", "owner")...)
	c.fails(1, "invalid apps: "+m2m.ClientID+" is a m2m application", "", args("--apps", m2m.ClientID)...)
	c.fails(1, "invalid client_secret: the issuer or client id changes", "", "sso", "set", "--org", org.ID,
		"--issuer", "https://idp.acme.example/tenant/", "--client-id", "another", "--domains", "acme.example")
	c.fails(1, "no client secret on standard input", "", args("--client-secret-stdin")...)
	c.fails(1, "invalid client_secret: must not start or end with spaces", " "+secret+"\n", args("--client-secret-stdin")...)
	r := c.run(" "+secret+"\n", args("--client-secret-stdin")...)
	noSecret(t, secrets, r.stdout+r.stderr)
	c.fails(1, "organization nosuchorg does not exist", "", "sso", "show", "--org", "nosuchorg")
	c.fails(1, "organization nosuchorg does not exist", secret+"\n", "sso", "set", "--org", "nosuchorg", "--issuer", "https://idp.example",
		"--client-id", "x", "--domains", "nosuch.example", "--client-secret-stdin")
	// A domain of another organization's provider, named.
	c.fails(1, "acme.example is already a domain of organization "+org.ID+"'s SSO", secret+"\n", "sso", "set", "--org", org2.ID,
		"--issuer", "https://idp.globex.example", "--client-id", "g", "--domains", "globex.example,ACME.example", "--client-secret-stdin")
	if o := stored(org.ID); !bytes.Equal(o.SSO.ClientSecretCiphertext, ciphertext) || o.SSO.ProvisionRole != domain.RoleAdmin {
		t.Fatalf("refused commands changed the settings: %+v", o.SSO)
	}

	// A secret needs the KMS key: none configured is a usage error; KMS
	// down is one line naming it. Without a secret, no key is needed.
	const secret2 = "the second secret"
	secrets = append(secrets, secret2)
	nokey := ctl{t: t, bin: bin, vars: base}
	nokey.fails(2, "no KMS key for client secrets: set SSO_KEY_ID", secret2+"\n", args("--client-secret-stdin")...)
	set(nokey, "", flags()...)
	down := ctl{t: t, bin: bin, vars: append(ssoEnviron("DYNAMODB_ENDPOINT="+ddb.Endpoint, "TABLE_NAME="+tableName,
		"KMS_ENDPOINT=http://127.0.0.1:1", "ORGAUTH_DATA_DIR="+t.TempDir()), "SSO_KEY_ID="+keyID)}
	down.fails(1, "cannot reach KMS at http://127.0.0.1:1", secret2+"\n", args("--client-secret-stdin")...)
	if o := stored(org.ID); !bytes.Equal(o.SSO.ClientSecretCiphertext, ciphertext) {
		t.Fatal("a failed encryption changed the stored secret")
	}

	// local.json from make run: KMS endpoint and key from there. A new
	// secret replaces the old one.
	dataDir := t.TempDir()
	local := fmt.Sprintf(`{"table":%q,"dynamodb_endpoint":%q,"kms_endpoint":%q,"sso_key_id":%q}`, tableName, ddb.Endpoint, kmsp.Endpoint, keyID)
	if err := os.WriteFile(filepath.Join(dataDir, "local.json"), []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	fromLocal := ctl{t: t, bin: bin, vars: ssoEnviron("ORGAUTH_DATA_DIR=" + dataDir)}
	v = set(fromLocal, secret2+"\n", flags("--client-secret-stdin")...)
	if !v.replaced || v.ClientSecret != "set" {
		t.Fatalf("sso set through local.json: %+v", v)
	}
	if o := stored(org.ID); bytes.Equal(o.SSO.ClientSecretCiphertext, ciphertext) || decrypt(o) != secret2 {
		t.Fatal("the new secret was not stored")
	}

	// Remove: settings and ciphertext gone; the domains are free again.
	var removed ssoSettings
	c.okJSON(&removed, "", "sso", "remove", "--org", org.ID)
	if removed.Configured || removed.ClientSecret != "not set" || removed.OrganizationID != org.ID {
		t.Fatalf("sso remove: %+v", removed)
	}
	if o := stored(org.ID); o.SSO != nil {
		t.Fatalf("stored after removal: %+v", o.SSO)
	}
	if out := c.ok("", "sso", "show", "--org", org.ID); !strings.Contains(out, "sso: not configured\n") {
		t.Fatalf("sso show after removal:\n%s", out)
	}
	c.ok("", "sso", "remove", "--org", org.ID) // again: nothing to do
	c.fails(1, "invalid client_secret: organization "+org.ID+" has no client secret configured", "", args()...)
	// A provider on loopback: refused unless orgauth's own issuer (ISSUER,
	// or local.json's issuer) is loopback too.
	loopbackArgs := []string{"sso", "set", "--org", org2.ID, "--issuer", "http://127.0.0.1:9000", "--client-id", "g", "--domains", "acme.example"}
	c.fails(1, "allowed only when orgauth's own issuer is loopback", "", loopbackArgs...)
	deployed := ctl{t: t, bin: bin, vars: append(slices.Clone(c.vars), "ISSUER=https://auth.example.com")}
	deployed.fails(1, "allowed only when orgauth's own issuer is loopback", "", loopbackArgs...)
	onLoopback := ctl{t: t, bin: bin, audit: &audit, vars: append(slices.Clone(c.vars), "ISSUER=http://127.0.0.1:3000")}
	set(onLoopback, secret2+"\n", "--org", org2.ID, "--issuer", "http://127.0.0.1:9000", "--client-id", "g", "--domains", "acme.example",
		"--client-secret-stdin")

	// Domain verification: a TXT record to publish first; an override
	// needs a reason; then the domain is org's, and org2 may not use it.
	var dv domainView
	c.okJSON(&dv, "", "sso", "verify-domain", "--org", org.ID, "--domain", "globex.example")
	if dv.Verified || dv.TXTName != "_orgauth.globex.example" || !strings.HasPrefix(dv.TXTValue, "orgauth-domain-verification=") {
		t.Fatalf("verify-domain: %+v", dv)
	}
	c.fails(1, "invalid reason", "", "sso", "verify-domain", "--org", org.ID, "--domain", "globex.example", "--override")
	c.okJSON(&dv, "", "sso", "verify-domain", "--org", org.ID, "--domain", "globex.example", "--override", "--reason", "ticket 7")
	if !dv.Verified || dv.Method != "override" {
		t.Fatalf("verify-domain --override: %+v", dv)
	}
	onLoopback.fails(1, "globex.example is verified by organization "+org.ID, "", "sso", "set", "--org", org2.ID, "--issuer", "http://127.0.0.1:9000",
		"--client-id", "g", "--domains", "globex.example")
	if !slices.Contains(audit, "organization_domain_verified") {
		t.Fatalf("audit events %v: want organization_domain_verified", audit)
	}

	removals := 0
	for _, e := range audit {
		if e == "organization_sso_removed" {
			removals++
		}
	}
	if removals != 1 || !slices.Contains(audit, "organization_sso_changed") {
		t.Fatalf("audit events %v: want organization_sso_changed, and organization_sso_removed once", audit)
	}
}

// ssoResult is what sso set printed, and whether its audit line says the
// secret was replaced.
type ssoResult struct {
	ssoSettings
	replaced bool
}

// ssoEnviron is environ without the variables the sso commands read.
func ssoEnviron(extra ...string) []string {
	out := slices.DeleteFunc(environ(), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return k == "KMS_ENDPOINT" || k == "SSO_KEY_ID"
	})
	return append(out, extra...)
}

// noSecret fails if s holds one of the secrets.
func noSecret(t *testing.T, secrets []string, s string) {
	t.Helper()
	for _, secret := range secrets {
		if strings.Contains(s, secret) {
			t.Fatalf("a client secret was printed or logged:\n%s", s)
		}
	}
}

// attrContains reports whether an item's attribute holds s, as a string or
// as bytes, at any depth.
func attrContains(av types.AttributeValue, s string) bool {
	switch v := av.(type) {
	case *types.AttributeValueMemberS:
		return strings.Contains(v.Value, s)
	case *types.AttributeValueMemberB:
		return bytes.Contains(v.Value, []byte(s))
	case *types.AttributeValueMemberSS:
		return slices.ContainsFunc(v.Value, func(x string) bool { return strings.Contains(x, s) })
	case *types.AttributeValueMemberBS:
		return slices.ContainsFunc(v.Value, func(x []byte) bool { return bytes.Contains(x, []byte(s)) })
	case *types.AttributeValueMemberL:
		return slices.ContainsFunc(v.Value, func(x types.AttributeValue) bool { return attrContains(x, s) })
	case *types.AttributeValueMemberM:
		for _, x := range v.Value {
			if attrContains(x, s) {
				return true
			}
		}
	}
	return false
}
